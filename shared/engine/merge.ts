/**
 * Graph's delta query returns, for a changed user, only the properties that changed (and on the first
 * round, those selected). The stored snapshot therefore has to be merged, never replaced: a property
 * the delta object does not carry keeps its stored value, and a carried null clears it.
 * https://learn.microsoft.com/graph/delta-query-overview
 */
import type { JsonValue, RemovalKind, SourceProperties } from './types.js';

export interface DeltaObject {
  readonly id: string;
  readonly '@removed'?: { readonly reason?: string } | null;
  readonly [property: string]: JsonValue | { readonly reason?: string } | null | undefined;
}

export interface MergedSource {
  readonly properties: SourceProperties;
  /** From `@removed`: 'changed' (soft delete) or 'deleted' (permanent); null when the user is present. */
  readonly removal: Extract<RemovalKind, 'changed' | 'deleted'> | null;
}

/**
 * Merges one delta object onto the stored snapshot (null for a user seen for the first time).
 * Annotations (`@odata.type`, `@removed`, `x@delta`) are not properties and are never stored.
 */
export function mergeDeltaObject(stored: SourceProperties | null, delta: DeltaObject): MergedSource {
  if (stored !== null && typeof stored['id'] === 'string' && stored['id'] !== delta.id) {
    throw new Error(`Delta object ${delta.id} cannot be merged onto the snapshot of ${stored['id']}`);
  }
  const properties: Record<string, JsonValue> = { ...(stored ?? {}) };
  for (const [key, value] of Object.entries(delta)) {
    if (key.includes('@') || value === undefined) continue;
    properties[key] = value;
  }
  return { properties, removal: removalOf(delta['@removed']) };
}

function removalOf(removed: DeltaObject['@removed']): MergedSource['removal'] {
  if (removed === undefined || removed === null) return null;
  // Graph documents 'changed' and 'deleted'; anything else is treated as the safer, restorable kind.
  return removed.reason === 'deleted' ? 'deleted' : 'changed';
}
