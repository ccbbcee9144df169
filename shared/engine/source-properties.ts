/**
 * The Graph user properties that mappings and scoping filters may read. Naming a property that Graph
 * does not have would make the reader's $select fail at run time, so a typo is caught here, at
 * validation, instead. Directory extension attributes (extension_{appId}_{name}) are accepted by shape.
 * https://learn.microsoft.com/graph/api/resources/user
 */
import type { JsonValue, SourceProperties } from './types.js';

export type SourcePropertyKind = 'string' | 'boolean' | 'strings' | 'complex' | 'unknown';

const STRING_PROPERTIES = [
  'id',
  'userPrincipalName',
  'mail',
  'mailNickname',
  'displayName',
  'givenName',
  'surname',
  'userType',
  'jobTitle',
  'department',
  'companyName',
  'officeLocation',
  'employeeId',
  'employeeType',
  'employeeHireDate',
  'employeeLeaveDateTime',
  'mobilePhone',
  'faxNumber',
  'streetAddress',
  'city',
  'state',
  'postalCode',
  'country',
  'usageLocation',
  'preferredLanguage',
  'ageGroup',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesImmutableId',
  'onPremisesLastSyncDateTime',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesUserPrincipalName',
  'securityIdentifier',
] as const;

const BOOLEAN_PROPERTIES = ['accountEnabled', 'onPremisesSyncEnabled'] as const;

const MULTI_VALUED_PROPERTIES = ['businessPhones', 'otherMails', 'proxyAddresses', 'imAddresses'] as const;

const EXTENSION_ATTRIBUTE_FIELDS = Array.from({ length: 15 }, (_, index) => `extensionAttribute${index + 1}`);

/** Complex properties are selected whole but read field by field: [employeeOrgData.division]. */
const COMPLEX_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  onPremisesExtensionAttributes: EXTENSION_ATTRIBUTE_FIELDS,
  employeeOrgData: ['division', 'costCenter'],
};

const PROPERTY_KINDS: ReadonlyMap<string, SourcePropertyKind> = new Map<string, SourcePropertyKind>([
  ...STRING_PROPERTIES.map((name) => [name, 'string'] as const),
  ...BOOLEAN_PROPERTIES.map((name) => [name, 'boolean'] as const),
  ...MULTI_VALUED_PROPERTIES.map((name) => [name, 'strings'] as const),
  ...Object.keys(COMPLEX_PROPERTIES).map((name) => [name, 'complex'] as const),
]);

/** extension_<application id without dashes>_<name>, as Graph names directory extensions. */
const DIRECTORY_EXTENSION = /^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$/;

/** The properties every run needs whatever the mapping: identity, matching, and the scope switches. */
export const ALWAYS_SELECTED_PROPERTIES = [
  'id',
  'userPrincipalName',
  'mail',
  'accountEnabled',
  'userType',
] as const;

export type SourcePathCheck =
  | { readonly ok: true; readonly property: string; readonly kind: SourcePropertyKind }
  | { readonly ok: false; readonly message: string };

/**
 * Checks a property path as written in a mapping or filter: `mail`, `employeeOrgData.division`,
 * `extension_<appId>_costCentre`. Returns the top-level property (what $select needs) and its kind.
 */
export function checkSourcePath(path: string): SourcePathCheck {
  const [property = '', field, ...rest] = path.split('.');
  if (DIRECTORY_EXTENSION.test(property) && field === undefined) {
    return { ok: true, property, kind: 'unknown' };
  }
  const kind = PROPERTY_KINDS.get(property);
  if (kind === undefined) {
    const hint = suggestProperty(property);
    return {
      ok: false,
      message: `unknown user property "${property}"${hint === undefined ? '' : `; did you mean "${hint}"?`}`,
    };
  }
  if (kind === 'complex') {
    const fields = COMPLEX_PROPERTIES[property] ?? [];
    if (field === undefined || rest.length > 0 || !fields.includes(field)) {
      return {
        ok: false,
        message: `"${property}" is an object; name one of its fields, e.g. "${property}.${fields[0] ?? ''}"`,
      };
    }
    return { ok: true, property, kind: 'string' };
  }
  if (field !== undefined) {
    return { ok: false, message: `"${property}" has no fields; remove ".${[field, ...rest].join('.')}"` };
  }
  return { ok: true, property, kind };
}

/** Reads a checked path from a source snapshot; a missing property or field reads as null. */
export function readSourcePath(properties: SourceProperties, path: string): JsonValue {
  const [property = '', ...fields] = path.split('.');
  let value: JsonValue = properties[property] ?? null;
  for (const field of fields) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = (value as Readonly<Record<string, JsonValue>>)[field] ?? null;
  }
  return value;
}

function suggestProperty(name: string): string | undefined {
  const lower = name.toLowerCase();
  // Short names are one edit away from too many others for a suggestion to help.
  const maxDistance = lower.length <= 3 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of PROPERTY_KINDS.keys()) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= maxDistance && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
