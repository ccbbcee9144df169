/** Factories for the engine tests: a valid connection document, source users and app users. */
import {
  parseConnectionConfig,
  type ConnectionConfig,
  type ConnectionConfigDocument,
} from '../../shared/config/connection.js';
import { hashMappedRecord } from '../../shared/engine/hash.js';
import { createRunContext, type EntraGroup, type RunContext } from '../../shared/engine/run-context.js';
import type {
  DecisionInput,
  EmailCandidate,
  JsonValue,
  LinkedAppUser,
  MappedRecord,
  SourceUser,
} from '../../shared/engine/types.js';

export const TENANT_ID = '11111111-1111-1111-1111-111111111111';
export const CLIENT_ID = '22222222-2222-2222-2222-222222222222';

export const GROUP_SALES = 'aaaaaaaa-0000-0000-0000-000000000001';
export const GROUP_SALES_EMEA = 'aaaaaaaa-0000-0000-0000-000000000002';
export const GROUP_ENGINEERING = 'aaaaaaaa-0000-0000-0000-000000000003';
export const GROUP_ALL_STAFF = 'aaaaaaaa-0000-0000-0000-000000000004';

/** Sales EMEA is nested in Sales, which is nested in All Staff. */
export const GROUPS: readonly EntraGroup[] = [
  { id: GROUP_SALES, displayName: 'Sales', memberOfGroupIds: [GROUP_ALL_STAFF] },
  { id: GROUP_SALES_EMEA, displayName: 'Sales EMEA', memberOfGroupIds: [GROUP_SALES] },
  { id: GROUP_ENGINEERING, displayName: 'Engineering' },
  { id: GROUP_ALL_STAFF, displayName: 'All Staff' },
];

export function connectionDocument(
  overrides: Partial<ConnectionConfigDocument> = {},
): ConnectionConfigDocument {
  return {
    id: 'contoso',
    tenantId: TENANT_ID,
    clientId: CLIENT_ID,
    clientSecret: { keyVault: 'contoso-client-secret' },
    division: 'Contoso',
    ...overrides,
  };
}

export function connection(overrides: Partial<ConnectionConfigDocument> = {}): ConnectionConfig {
  return parseConnectionConfig(connectionDocument(overrides));
}

export function runContext(
  overrides: Partial<ConnectionConfigDocument> = {},
  groups: readonly EntraGroup[] = GROUPS,
): RunContext {
  return createRunContext(connection(overrides), groups);
}

let nextUser = 0;

export function sourceUser(
  properties: Record<string, JsonValue> = {},
  extra: Partial<Omit<SourceUser, 'properties'>> = {},
): SourceUser {
  nextUser++;
  const id = extra.id ?? `00000000-0000-0000-0000-${String(nextUser).padStart(12, '0')}`;
  return {
    id,
    properties: {
      id,
      userPrincipalName: `user${nextUser}@contoso.com`,
      mail: `user${nextUser}@contoso.com`,
      givenName: 'Ada',
      surname: 'Lovelace',
      displayName: 'Ada Lovelace',
      accountEnabled: true,
      userType: 'Member',
      ...properties,
    },
    removal: extra.removal ?? null,
    memberOf: extra.memberOf ?? [],
  };
}

export function appUserRecord(overrides: Partial<MappedRecord> = {}): MappedRecord {
  return { attributes: {}, appGroups: [], roles: [], license: null, ...overrides };
}

/** A linked app user; its hash is computed from its record unless given. */
export function linkedUser(overrides: Partial<LinkedAppUser> = {}): LinkedAppUser {
  const record = appUserRecord(overrides);
  return {
    appUserId: 'app-1',
    status: 'active',
    suspensionReason: null,
    ...record,
    hash: overrides.hash ?? hashMappedRecord(record),
    ...overrides,
  };
}

export function candidate(overrides: Partial<EmailCandidate> = {}): EmailCandidate {
  return { appUserId: 'app-found', division: 'Contoso', link: null, ...overrides };
}

export function decisionInput(source: SourceUser, overrides: Partial<DecisionInput> = {}): DecisionInput {
  return { source, linked: null, emailCandidates: [], freeSeats: {}, ...overrides };
}
