import { describe, expect, it } from 'vitest';
import type { ConnectionConfigDocument } from '../../shared/config/connection.js';
import { isEntraSyncError } from '../../shared/errors.js';
import { mapSourceUser } from '../../shared/engine/map-user.js';
import {
  createRunContext,
  referencedGroups,
  resolveGroupReferences,
  type EntraGroup,
} from '../../shared/engine/run-context.js';
import {
  connection,
  GROUP_ENGINEERING,
  GROUP_SALES,
  GROUP_SALES_EMEA,
  GROUPS,
  runContext,
  sourceUser,
} from './factories.js';

const licensed: Partial<ConnectionConfigDocument> = {
  licenses: { seats: { basic: 100, pro: 10, enterprise: 5 }, default: 'basic' },
  groupMappings: [
    { group: { displayName: 'Sales' }, appGroup: 'sales', license: 'pro', roles: ['seller'] },
    {
      group: { id: GROUP_ENGINEERING },
      appGroup: 'engineering',
      license: 'enterprise',
      roles: ['developer', 'reader'],
    },
    { group: { displayName: 'All Staff' }, appGroup: 'everyone', roles: ['reader'] },
  ],
};

function groupsOf(memberOf: string[], overrides: Partial<ConnectionConfigDocument> = licensed) {
  const { mapped, licenseSource } = mapSourceUser(runContext(overrides), sourceUser({}, { memberOf }));
  return { appGroups: mapped.appGroups, roles: mapped.roles, license: mapped.license, licenseSource };
}

describe('group mappings', () => {
  it('maps one group to its app group, licence and roles', () => {
    expect(groupsOf([GROUP_SALES])).toEqual({
      appGroups: ['sales'],
      roles: ['seller'],
      license: 'pro',
      licenseSource: '"Sales"',
    });
  });

  it('unions app groups and roles over several groups, without repeats, sorted', () => {
    const both = groupsOf([GROUP_ENGINEERING, GROUP_SALES]);
    expect(both.appGroups).toEqual(['engineering', 'sales']);
    expect(both.roles).toEqual(['developer', 'reader', 'seller']);
  });

  it('gives the licence of the first matching mapping in document order when licences conflict', () => {
    // Sales (pro) is listed before Engineering (enterprise), whatever order the memberships come in.
    expect(groupsOf([GROUP_ENGINEERING, GROUP_SALES]).license).toBe('pro');
    const reordered: Partial<ConnectionConfigDocument> = {
      ...licensed,
      groupMappings: [...(licensed.groupMappings ?? [])].reverse(),
    };
    expect(groupsOf([GROUP_SALES, GROUP_ENGINEERING], reordered)).toMatchObject({
      license: 'enterprise',
      licenseSource: GROUP_ENGINEERING,
    });
  });

  it('gives the default licence to in-scope users whose groups give none', () => {
    expect(groupsOf([])).toEqual({ appGroups: [], roles: [], license: 'basic', licenseSource: 'default' });
  });

  it('gives no licence when there is no default and no group gives one', () => {
    const noDefault = { ...licensed, licenses: { seats: { pro: 10, enterprise: 5 } } };
    expect(groupsOf([], noDefault).license).toBeNull();
  });

  it('gives out-of-scope users no default licence', () => {
    const context = runContext({ ...licensed, scope: { groups: [{ id: GROUP_SALES }] } });
    const outsider = mapSourceUser(context, sourceUser({}, { memberOf: [GROUP_ENGINEERING] }));
    expect(outsider.scope.inScope).toBe(false);
    expect(outsider.mapped.license).toBe('enterprise');
    const nobody = mapSourceUser(context, sourceUser({}, { memberOf: [] }));
    expect(nobody.mapped.license).toBeNull();
  });

  it('follows nesting for mappings when nestedGroups is on', () => {
    expect(groupsOf([GROUP_SALES_EMEA]).appGroups).toEqual([]);
    const nested = { ...licensed, scope: { nestedGroups: true } };
    expect(groupsOf([GROUP_SALES_EMEA], nested)).toEqual({
      appGroups: ['everyone', 'sales'],
      roles: ['reader', 'seller'],
      license: 'pro',
      licenseSource: '"Sales"',
    });
  });
});

describe('group references', () => {
  it('lists the referenced ids and names for the reader', () => {
    const config = connection({
      ...licensed,
      scope: { groups: [{ displayName: 'Sales' }, { id: GROUP_SALES_EMEA }] },
    });
    expect(referencedGroups(config)).toEqual({
      ids: [GROUP_SALES_EMEA, GROUP_ENGINEERING],
      displayNames: ['Sales', 'All Staff'],
    });
  });

  it('resolves names exactly and case-sensitively, and reports unknown and shared names', () => {
    const groups: EntraGroup[] = [
      ...GROUPS,
      { id: 'bbbbbbbb-0000-0000-0000-000000000001', displayName: 'Finance' },
      { id: 'bbbbbbbb-0000-0000-0000-000000000002', displayName: 'Finance' },
    ];
    const config = connection({
      scope: {
        groups: [
          { displayName: 'sales' },
          { displayName: 'Finance' },
          { id: 'cccccccc-0000-0000-0000-000000000000' },
          { displayName: 'Sales' },
        ],
      },
    });
    const { resolved, problems } = resolveGroupReferences(config, groups);
    expect(resolved.get('scope.groups[3]')).toBe(GROUP_SALES);
    expect(problems.map((problem) => [problem.path, problem.problem, problem.candidateIds.length])).toEqual([
      ['scope.groups[0]', 'not_found', 0],
      ['scope.groups[1]', 'ambiguous', 2],
      ['scope.groups[2]', 'not_found', 0],
    ]);
  });

  it('refuses to build a run context with unresolved groups, naming each', () => {
    const config = connection({
      groupMappings: [{ group: { displayName: 'Salse' }, appGroup: 'sales' }],
    });
    let thrown: unknown;
    try {
      createRunContext(config, GROUPS);
    } catch (error) {
      thrown = error;
    }
    expect(isEntraSyncError(thrown) && thrown.code).toBe('settings_invalid');
    expect((thrown as Error).message).toContain('groupMappings[0].group: no group "Salse" in the tenant');
  });

  it('survives a nesting cycle', () => {
    const cyclic: EntraGroup[] = [
      { id: GROUP_SALES, displayName: 'Sales', memberOfGroupIds: [GROUP_SALES_EMEA] },
      { id: GROUP_SALES_EMEA, displayName: 'Sales EMEA', memberOfGroupIds: [GROUP_SALES] },
    ];
    const context = createRunContext(connection({ scope: { nestedGroups: true } }), cyclic);
    expect([...context.groupIdsOf({ memberOf: [GROUP_SALES] })].sort()).toEqual([
      GROUP_SALES,
      GROUP_SALES_EMEA,
    ]);
  });
});
