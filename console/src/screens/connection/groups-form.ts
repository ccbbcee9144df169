import { FILTER_OPERATORS, type FilterOperator } from '../../../../shared/config/scope-schema.js';
import type { ConnectionConfigDocument } from '../../api/types.js';

/**
 * The Groups screen's part of a connection document (group mappings, licence pools, scope) as a form
 * edits it: strings per field and stable row keys. Converting back writes exactly what the form shows,
 * and the connection schema judges it; indices stay aligned so the schema's paths point at the rows.
 */
type ScopeInput = NonNullable<ConnectionConfigDocument['scope']>;
type FilterInput = NonNullable<ScopeInput['filters']>[number];
type ClauseInput = FilterInput['clauses'][number];
type MappingInput = NonNullable<ConnectionConfigDocument['groupMappings']>[number];
export type GroupRef = MappingInput['group'];

export interface MappingRow {
  readonly key: number;
  readonly group: GroupRef;
  readonly appGroup: string;
  readonly license: string;
  /** Comma-separated. */
  readonly roles: string;
}

export interface ClauseRow {
  readonly key: number;
  readonly attribute: string;
  readonly operator: FilterOperator;
  /** Text, a comma-separated list for IN, digits for the integer comparisons, unused for the rest. */
  readonly value: string;
}

export interface FilterRow {
  readonly key: number;
  readonly name: string;
  readonly clauses: readonly ClauseRow[];
}

export interface SeatRow {
  readonly key: number;
  readonly name: string;
  readonly seats: string;
}

export interface GroupsForm {
  readonly mappings: readonly MappingRow[];
  readonly scopeGroups: readonly GroupRef[];
  readonly nestedGroups: boolean;
  readonly includeGuests: boolean;
  readonly includeDisabled: boolean;
  readonly filters: readonly FilterRow[];
  readonly seats: readonly SeatRow[];
  readonly defaultLicense: string;
}

export { FILTER_OPERATORS };
export type { FilterOperator };

let nextKey = 1;
export const newKey = (): number => nextKey++;

export type ValueKind = 'none' | 'text' | 'list' | 'integer';

export function valueKind(operator: FilterOperator): ValueKind {
  switch (operator) {
    case 'IS_NULL':
    case 'IS_NOT_NULL':
    case 'IS_TRUE':
    case 'IS_FALSE':
      return 'none';
    case 'IN':
      return 'list';
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUALS':
      return 'integer';
    default:
      return 'text';
  }
}

export function sameGroup(a: GroupRef, b: GroupRef): boolean {
  return 'id' in a && 'id' in b
    ? a.id === b.id
    : 'displayName' in a && 'displayName' in b && a.displayName === b.displayName;
}

function clauseRow(clause: ClauseInput): ClauseRow {
  const value = 'value' in clause ? clause.value : undefined;
  return {
    key: newKey(),
    attribute: clause.attribute,
    operator: clause.operator,
    value: Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value),
  };
}

export function groupsFormFrom(document: ConnectionConfigDocument): GroupsForm {
  const scope = document.scope ?? {};
  return {
    mappings: (document.groupMappings ?? []).map((mapping) => ({
      key: newKey(),
      group: mapping.group,
      appGroup: mapping.appGroup ?? '',
      license: mapping.license ?? '',
      roles: (mapping.roles ?? []).join(', '),
    })),
    scopeGroups: scope.groups ?? [],
    nestedGroups: scope.nestedGroups ?? false,
    includeGuests: scope.includeGuests ?? false,
    includeDisabled: scope.includeDisabled ?? false,
    filters: (scope.filters ?? []).map((filter) => ({
      key: newKey(),
      name: filter.name ?? '',
      clauses: filter.clauses.map(clauseRow),
    })),
    seats: Object.entries(document.licenses?.seats ?? {}).map(([name, seats]) => ({
      key: newKey(),
      name,
      seats: String(seats),
    })),
    defaultLicense: document.licenses?.default ?? '',
  };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Digits become a number; anything else stays text, for the schema to reject with its own message. */
function integerOrText(text: string): number | string {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
}

function clauseInput(row: ClauseRow): ClauseInput {
  const kind = valueKind(row.operator);
  const base = { attribute: row.attribute.trim(), operator: row.operator };
  const clause =
    kind === 'none'
      ? base
      : {
          ...base,
          value:
            kind === 'list' ? list(row.value) : kind === 'integer' ? integerOrText(row.value) : row.value,
        };
  // The operator decides which shape the clause has; the schema checks the pair right after.
  return clause as ClauseInput;
}

export function applyGroupsForm(
  document: ConnectionConfigDocument,
  form: GroupsForm,
): ConnectionConfigDocument {
  const { licenses: _licenses, ...rest } = document;
  const seats = Object.fromEntries(form.seats.map((row) => [row.name.trim(), integerOrText(row.seats)]));
  const hasLicenses = form.seats.length > 0 || form.defaultLicense !== '';
  return {
    ...rest,
    scope: {
      groups: [...form.scopeGroups],
      nestedGroups: form.nestedGroups,
      filters: form.filters.map((filter) => ({
        ...(filter.name.trim() === '' ? {} : { name: filter.name.trim() }),
        clauses: filter.clauses.map(clauseInput),
      })),
      includeGuests: form.includeGuests,
      includeDisabled: form.includeDisabled,
    },
    groupMappings: form.mappings.map((row) => {
      const roles = list(row.roles);
      return {
        group: row.group,
        ...(row.appGroup.trim() === '' ? {} : { appGroup: row.appGroup.trim() }),
        ...(row.license === '' ? {} : { license: row.license }),
        ...(roles.length === 0 ? {} : { roles }),
      };
    }),
    ...(hasLicenses
      ? {
          licenses: {
            // Seat counts that are not digits go through as text so that the schema names the row.
            seats: seats as Record<string, number>,
            ...(form.defaultLicense === '' ? {} : { default: form.defaultLicense }),
          },
        }
      : {}),
  };
}
