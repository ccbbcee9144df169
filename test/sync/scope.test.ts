import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredUser } from '../../shared/storage/users.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

let fixture: SyncFixture;

async function importedIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const user of fixture.service.users('contoso'))
    if (user.status === 'active') ids.add(user.sourceId);
  return ids;
}

function isMemberInScope(id: string): boolean {
  const user = fixture.tenant.getUser(id);
  return user !== undefined && user.userType === 'Member' && user.accountEnabled;
}

/** A group with at least one member group that has user members of its own. */
function nestedPair(): { parent: string; child: string } {
  for (const parent of fixture.tenant.liveGroupIds()) {
    for (const member of fixture.tenant.membersOf(parent)) {
      if (
        fixture.tenant.getGroup(member) &&
        fixture.tenant.membersOf(member).some((id) => fixture.tenant.getUser(id))
      ) {
        return { parent, child: member };
      }
    }
  }
  throw new Error('the generated tenant has no nested group with users');
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 400, groups: 16, seed: 17 });
});

afterAll(async () => {
  await fixture.close();
});

describe('scope', () => {
  it('imports only direct members of the scope group when nesting is off, and nested ones when it is on', async () => {
    const { parent, child } = nestedPair();
    const direct = new Set(
      fixture.tenant
        .membersOf(parent)
        .filter(isMemberInScope)
        .map((id) => id.toLowerCase()),
    );
    const transitive = new Set(
      fixture.tenant
        .transitiveMembersOf(parent)
        .filter(isMemberInScope)
        .map((id) => id.toLowerCase()),
    );
    expect(transitive.size).toBeGreaterThan(direct.size);

    await fixture.service.applyConnection(fixture.connection({ scope: { groups: [{ id: parent }] } }));
    await fixture.service.import('contoso');
    expect(await importedIds()).toEqual(direct);

    // Nesting on: the child group's members join; the mapping change makes the next sync a full import.
    await fixture.service.applyConnection(
      fixture.connection({
        scope: { groups: [{ id: parent }], nestedGroups: true },
        groupMappings: [{ group: { id: parent }, appGroup: 'Parent' }],
      }),
    );
    const report = await fixture.service.sync('contoso');
    expect(report.fallbackReason).toMatch(/mapping changed/);
    expect(await importedIds()).toEqual(transitive);
    const viaChild = [...transitive].find((id) => !direct.has(id)) as string;
    const user = (await fixture.service.stores.users.get('contoso', viaChild)) as StoredUser;
    expect(user.appGroups).toEqual(['Parent']);
    expect(fixture.tenant.membersOf(child).map((id) => id.toLowerCase())).toContain(viaChild);
  });

  it('suspends users who leave the scope group and takes in those who join it', async () => {
    const { parent } = nestedPair();
    const leaver = [...(await importedIds())].find((id) =>
      fixture.tenant
        .membersOf(parent)
        .map((m) => m.toLowerCase())
        .includes(id),
    ) as string;
    const joiner = fixture.tenant
      .liveUserIds()
      .map((id) => id.toLowerCase())
      .find(
        (id) =>
          isMemberInScope(id) &&
          !fixture.tenant
            .transitiveMembersOf(parent)
            .map((m) => m.toLowerCase())
            .includes(id),
      ) as string;
    fixture.tenant.removeMember(parent, leaver);
    fixture.tenant.addMember(parent, joiner);
    const report = await fixture.service.sync('contoso');
    expect(report.fallbackReason).toBeNull();
    expect(report.situations).toMatchObject({ UNQUALIFIED: 1, ABSENT: 1 });
    expect((await fixture.service.stores.users.get('contoso', leaver))?.status).toBe('suspended');
    expect((await fixture.service.stores.users.get('contoso', joiner))?.status).toBe('active');
    // The joiner was never read before: it is fetched by id, one request, not a full read.
    expect(report.graphRequests).toBeLessThanOrEqual(4);
  });

  it('stops with a clear message when a scope group name matches two groups', async () => {
    const names = new Map<string, number>();
    for (const id of fixture.tenant.liveGroupIds()) {
      const name = fixture.tenant.getGroup(id)?.displayName ?? '';
      names.set(name, (names.get(name) ?? 0) + 1);
    }
    const shared = [...names].find(([, count]) => count > 1)?.[0];
    expect(shared).toBeDefined();
    await fixture.service.applyConnection(
      fixture.connection({ scope: { groups: [{ displayName: shared as string }] } }),
    );
    const before = await importedIds();
    await expect(fixture.service.import('contoso')).rejects.toThrow(/refer to one by id/);
    expect(await importedIds()).toEqual(before);
  });
});
