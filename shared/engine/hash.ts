/**
 * A stable content hash of what the sync writes to an app user. Stored beside the user, it tells an
 * unchanged user from a changed one without comparing every attribute: the same values give the same
 * hash whatever the key order, and the groups and roles are compared as sets.
 */
import { createHash } from 'node:crypto';
import type { MappedRecord, MappedValue } from './types.js';

/** Bumped if canonicalisation ever changes, so old hashes read as "changed" rather than colliding. */
const HASH_VERSION = 'v1';

export function hashMappedRecord(record: MappedRecord): string {
  const canonical = canonicalJson({
    attributes: record.attributes,
    appGroups: [...new Set(record.appGroups)].sort(),
    roles: [...new Set(record.roles)].sort(),
    license: record.license,
  });
  return `${HASH_VERSION}:${createHash('sha256').update(canonical).digest('base64url')}`;
}

type Canonicalisable = MappedValue | readonly Canonicalisable[] | { readonly [key: string]: Canonicalisable };

/** JSON with object keys sorted at every level; arrays keep their order (order can matter in values). */
export function canonicalJson(value: Canonicalisable): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${(value as readonly Canonicalisable[]).map(canonicalJson).join(',')}]`;
  const record = value as { readonly [key: string]: Canonicalisable };
  const entries = Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key] ?? null)}`);
  return `{${entries.join(',')}}`;
}
