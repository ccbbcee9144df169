import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './index.js';
import { deltaRound, get, jsonOf } from './test-clients.js';

/** groups/delta: members@delta, large groups over several pages, membership and group changes. */

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({
    tenants: [{ users: 3000, groups: 12, maxGroupSize: 1400 }],
    quirks: false,
    memberBudget: 500,
  });
  token = await sim.issueAccessToken();
});

afterAll(async () => {
  await sim.close();
});

interface MemberEntry {
  '@odata.type': string;
  id: string;
  '@removed'?: { reason: string };
}

/** Members per group id, merging the slices a large group is spread over. */
function membersByGroup(items: Record<string, unknown>[]): Map<string, MemberEntry[]> {
  const result = new Map<string, MemberEntry[]>();
  for (const item of items) {
    const entries = item['members@delta'] as MemberEntry[] | undefined;
    if (!entries) continue;
    const list = result.get(String(item.id)) ?? [];
    list.push(...entries);
    result.set(String(item.id), list);
  }
  return result;
}

describe('groups/delta initial round', () => {
  it('returns every group with members@delta holding all its members; an empty group has no members@delta', async () => {
    const tenant = sim.tenant();
    const empty = tenant.createGroup({ displayName: 'Nobody Here Yet' });
    const round = await deltaRound(sim, '/v1.0/groups/delta?$select=displayName,description,members', token);
    const ids = new Set(round.items.map((g) => g.id));
    expect(ids).toEqual(new Set(tenant.liveGroupIds()));
    const members = membersByGroup(round.items);
    for (const groupId of tenant.liveGroupIds()) {
      const expected = tenant.membersOf(groupId);
      expect((members.get(groupId) ?? []).map((m) => m.id).sort()).toEqual(expected.sort());
    }
    const emptyItems = round.items.filter((g) => g.id === empty.id);
    expect(emptyItems).toHaveLength(1);
    expect(emptyItems[0]).not.toHaveProperty('members@delta');
    const entryTypes = new Set([...members.values()].flat().map((m) => m['@odata.type']));
    expect(entryTypes).toEqual(new Set(['#microsoft.graph.user', '#microsoft.graph.group']));
    // members is a navigation property: it is not listed in @odata.context.
    expect(round.pages[0]?.['@odata.context']).toBe(
      `${sim.graphBaseUrl}/v1.0/$metadata#groups(displayName,description)`,
    );
  });

  it('spreads a large group over several pages under the same id, within the member budget', async () => {
    const tenant = sim.tenant();
    const largest = tenant.liveGroupIds()[0] ?? '';
    expect(tenant.membersOf(largest).length).toBe(1400);
    const round = await deltaRound(sim, '/v1.0/groups/delta', token);
    const pagesWithLargest = round.pages.filter((p) => p.value.some((g) => g.id === largest));
    expect(pagesWithLargest.length).toBeGreaterThanOrEqual(3);
    for (const page of round.pages) {
      const entries = page.value.reduce(
        (sum, g) => sum + ((g['members@delta'] as unknown[] | undefined)?.length ?? 0),
        0,
      );
      expect(entries).toBeLessThanOrEqual(500);
    }
    const slices = round.items
      .filter((g) => g.id === largest)
      .map((g) => (g['members@delta'] as MemberEntry[]).map((m) => m.id));
    expect(slices.length).toBeGreaterThanOrEqual(3);
    expect(slices.flat().sort()).toEqual(tenant.membersOf(largest).sort());
    expect(new Set(slices.flat()).size).toBe(1400);
  });

  it('leaves members@delta out when members is not selected', async () => {
    const round = await deltaRound(sim, '/v1.0/groups/delta?$select=displayName,mailNickname', token);
    expect(round.items.some((g) => 'members@delta' in g)).toBe(false);
    expect(round.items.length).toBe(sim.tenant().liveGroupCount);
  });
});

describe('groups/delta changes', () => {
  it('reports added and removed members, and users leaving with their deletion', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, '/v1.0/groups/delta?$select=displayName,members', token);
    const groupId = tenant.liveGroupIds()[4] ?? '';
    const [removed] = tenant.membersOf(groupId).filter((id) => tenant.getUser(id));
    const added = tenant.liveUserIds().find((id) => !tenant.membersOf(groupId).includes(id));
    if (!removed || !added) throw new Error('fixture');
    tenant.addMember(groupId, added);
    tenant.removeMember(groupId, removed);
    const leaver = tenant.membersOf(groupId).find((id) => tenant.getUser(id) && id !== added) ?? '';
    const leaverGroups = tenant.groupsOf(leaver);
    tenant.softDeleteUser(leaver);

    const round = await deltaRound(sim, initial.deltaLink, token);
    const changes = membersByGroup(round.items);
    expect(changes.get(groupId)).toEqual(
      expect.arrayContaining([
        { '@odata.type': '#microsoft.graph.user', id: added },
        { '@odata.type': '#microsoft.graph.user', id: removed, '@removed': { reason: 'deleted' } },
        { '@odata.type': '#microsoft.graph.user', id: leaver, '@removed': { reason: 'deleted' } },
      ]),
    );
    for (const g of leaverGroups) {
      expect(changes.get(g)).toContainEqual({
        '@odata.type': '#microsoft.graph.user',
        id: leaver,
        '@removed': { reason: 'deleted' },
      });
    }
    // Only changed groups come back, each with its current display name.
    expect(new Set(round.items.map((g) => g.id))).toEqual(new Set([groupId, ...leaverGroups]));
    expect(round.items.find((g) => g.id === groupId)?.displayName).toBe(
      tenant.getGroup(groupId)?.displayName,
    );

    tenant.restoreUser(leaver);
    const after = await deltaRound(sim, round.deltaLink, token);
    expect(membersByGroup(after.items).get(groupId)).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: leaver },
    ]);
  });

  it('does not report membership-only changes when members is not selected', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, '/v1.0/groups/delta?$select=displayName', token);
    const groupId = tenant.liveGroupIds()[5] ?? '';
    tenant.removeMember(groupId, tenant.membersOf(groupId)[0] ?? '');
    expect((await deltaRound(sim, initial.deltaLink, token)).items).toEqual([]);
  });

  it('reports a rename in full by default and only the name with return=minimal; a deleted group as @removed', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(
      sim,
      '/v1.0/groups/delta?$select=displayName,description,mailNickname',
      token,
    );
    const [renamed, deleted] = tenant.liveGroupIds().slice(6, 8);
    if (!renamed || !deleted) throw new Error('fixture');
    tenant.renameGroup(renamed, 'Renamed In Delta');
    tenant.deleteGroup(deleted);

    const full = await deltaRound(sim, initial.deltaLink, token);
    const renamedItem = full.items.find((g) => g.id === renamed);
    expect(renamedItem).toMatchObject({
      displayName: 'Renamed In Delta',
      mailNickname: tenant.getGroup(renamed)?.mailNickname,
    });
    expect(full.items.find((g) => g.id === deleted)).toEqual({
      id: deleted,
      '@removed': { reason: 'deleted' },
    });

    const minimal = await get(sim, initial.deltaLink, { token, headers: { Prefer: 'return=minimal' } });
    const items = (await jsonOf(minimal)).value as Record<string, unknown>[];
    expect(items.find((g) => g.id === renamed)).toEqual({ displayName: 'Renamed In Delta', id: renamed });
  });

  it('reports a created group with its members', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, '/v1.0/groups/delta', token);
    const members = tenant.liveUserIds(0, 3);
    const created = tenant.createGroup({ displayName: 'Created Later', members });
    const round = await deltaRound(sim, initial.deltaLink, token);
    const item = round.items.find((g) => g.id === created.id);
    expect(item).toMatchObject({ displayName: 'Created Later' });
    expect(((item?.['members@delta'] ?? []) as MemberEntry[]).map((m) => m.id).sort()).toEqual(
      [...members].sort(),
    );
  });

  it('refuses $expand=members on groups/delta', async () => {
    const response = await get(sim, '/v1.0/groups/delta?$expand=members', { token });
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toMatchObject({ error: { code: 'Request_UnsupportedQuery' } });
  });
});
