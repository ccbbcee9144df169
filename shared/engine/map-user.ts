/**
 * Scope and map one source user: the stage between reading and deciding. The storage layer calls
 * `matchingEmailKey` before `decide` to look up the e-mail claim; `decide` maps again, which is cheap
 * and keeps its input small.
 */
import { emailKeyOf } from './email.js';
import { mapGroups } from './group-mapping.js';
import { hashMappedRecord } from './hash.js';
import { mapAttributes } from './mapping.js';
import type { RunContext } from './run-context.js';
import { evaluateScope, type ScopeResult } from './scope.js';
import type { MappedUser, SourceUser } from './types.js';

export interface MappedSourceUser {
  readonly mapped: MappedUser;
  readonly scope: ScopeResult;
  /** Where the licence comes from (a group's label or 'default'), for reasons. */
  readonly licenseSource: string | null;
}

export function mapSourceUser(
  context: RunContext,
  source: Pick<SourceUser, 'properties' | 'memberOf'>,
): MappedSourceUser {
  const groupIds = context.groupIdsOf(source);
  const scope = evaluateScope(context.scope, { properties: source.properties, groupIds });
  const attributes = mapAttributes(context.config.attributes, source.properties);
  // The default licence is for users the connection imports; an out-of-scope user is given none.
  const defaultLicense = scope.inScope ? (context.config.licenses.default ?? null) : null;
  const groups = mapGroups(context.groupMappings, groupIds, defaultLicense);
  const record = { attributes, appGroups: groups.appGroups, roles: groups.roles, license: groups.license };
  return {
    mapped: {
      ...record,
      emailKey: emailKeyOf(attributes),
      hash: hashMappedRecord(record),
      inScope: scope.inScope,
    },
    scope,
    licenseSource: groups.licenseSource,
  };
}

/** The normalised e-mail the user would claim: what the storage layer looks up for `emailCandidates`. */
export function matchingEmailKey(
  context: RunContext,
  source: Pick<SourceUser, 'properties' | 'memberOf'>,
): string | null {
  return emailKeyOf(mapAttributes(context.config.attributes, source.properties));
}
