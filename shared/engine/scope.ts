/**
 * Scoping: is a source user one the connection imports? Checked in the order an administrator would
 * explain it: guests, disabled accounts, group membership, then attribute filters. The first check that
 * fails gives the reason, which ends up in the run report for UNQUALIFIED users.
 */
import type { FilterClause, ScopeFilter, ScopeSetting } from '../config/scope-schema.js';
import { readSourcePath } from './source-properties.js';
import type { JsonValue, SourceProperties } from './types.js';

export type ScopeResult = { readonly inScope: true } | { readonly inScope: false; readonly reason: string };

export interface ScopeSubject {
  readonly properties: SourceProperties;
  /** The user's group ids, already expanded through nesting when the connection asks for it. */
  readonly groupIds: ReadonlySet<string>;
}

export interface ResolvedScope {
  readonly setting: ScopeSetting;
  /** Ids of the scope groups; null means no group restriction (the whole tenant). */
  readonly groupIds: ReadonlySet<string> | null;
}

export function evaluateScope(scope: ResolvedScope, subject: ScopeSubject): ScopeResult {
  const { setting } = scope;
  if (!setting.includeGuests && isGuest(subject.properties)) {
    return { inScope: false, reason: 'is a guest and the connection does not include guests' };
  }
  if (!setting.includeDisabled && subject.properties['accountEnabled'] === false) {
    return {
      inScope: false,
      reason: 'is disabled in Entra and the connection does not include disabled accounts',
    };
  }
  if (scope.groupIds !== null && !intersects(scope.groupIds, subject.groupIds)) {
    return {
      inScope: false,
      reason: `is not a member of any scope group${setting.nestedGroups ? ' (directly or through nesting)' : ''}`,
    };
  }
  if (
    setting.filters.length > 0 &&
    !setting.filters.some((filter) => passesFilter(filter, subject.properties))
  ) {
    const names = setting.filters.map((filter, index) => filter.name ?? `#${index + 1}`);
    return { inScope: false, reason: `passes none of the scoping filters (${names.join(', ')})` };
  }
  return { inScope: true };
}

/** A filter holds when all of its clauses hold (AND); the scope needs any one filter (OR). */
export function passesFilter(filter: ScopeFilter, properties: SourceProperties): boolean {
  return filter.clauses.every((clause) => evaluateClause(clause, properties));
}

/**
 * One clause, with Entra's semantics: string comparisons are case-sensitive, and every operator except
 * IS_NULL is false on a null or empty value (so NOT_EQUALS "Sales" does not admit users without a
 * department, just as in Entra).
 */
export function evaluateClause(clause: FilterClause, properties: SourceProperties): boolean {
  const value = readSourcePath(properties, clause.attribute);
  const empty = isEmptyValue(value);
  if (clause.operator === 'IS_NULL') return empty;
  if (empty) return false;
  switch (clause.operator) {
    case 'IS_NOT_NULL':
      return true;
    case 'IS_TRUE':
      return value === true;
    case 'IS_FALSE':
      return value === false;
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUALS': {
      const number = asInteger(value);
      if (number === null) return false;
      return clause.operator === 'GREATER_THAN' ? number > clause.value : number >= clause.value;
    }
  }
  const text = asComparableText(value);
  if (text === null) return false;
  switch (clause.operator) {
    case 'EQUALS':
      return text === clause.value;
    case 'NOT_EQUALS':
      return text !== clause.value;
    case 'STARTS_WITH':
      return text.startsWith(clause.value);
    case 'ENDS_WITH':
      return text.endsWith(clause.value);
    case 'INCLUDES':
      return text.includes(clause.value);
    case 'IN':
      return clause.value.includes(text);
    case 'REGEX_MATCH':
      return clause.pattern.test(text);
    case 'NOT_REGEX_MATCH':
      return !clause.pattern.test(text);
  }
}

function isGuest(properties: SourceProperties): boolean {
  const userType = properties['userType'];
  return typeof userType === 'string' && userType.toLowerCase() === 'guest';
}

function isEmptyValue(value: JsonValue): boolean {
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function asComparableText(value: JsonValue): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Entra compares integers only; employeeId and the like arrive as strings of digits. */
function asInteger(value: JsonValue): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) return Number(value.trim());
  return null;
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [smaller, larger] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of smaller) if (larger.has(item)) return true;
  return false;
}
