import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredUser } from '../../shared/storage/users.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

let fixture: SyncFixture;
let salesGroup: string;
let staffGroup: string;

async function allUsers(): Promise<StoredUser[]> {
  const users: StoredUser[] = [];
  for await (const user of fixture.service.users('contoso')) users.push(user);
  return users;
}

/** Who the connection should import: enabled members (no guests), from the tenant's own data. */
function expectedInScope(): Set<string> {
  const ids = new Set<string>();
  for (const id of fixture.tenant.liveUserIds()) {
    const user = fixture.tenant.getUser(id);
    if (user && user.userType === 'Member' && user.accountEnabled) ids.add(id.toLowerCase());
  }
  return ids;
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 400, groups: 12 });
  // The two largest groups with user members: one gives a scarce licence, one a role.
  const bySize = fixture.tenant
    .liveGroupIds()
    .map((id) => ({
      id,
      users: fixture.tenant.membersOf(id).filter((member) => fixture.tenant.getUser(member)).length,
    }))
    .sort((a, b) => b.users - a.users);
  salesGroup = (bySize[0] as { id: string }).id;
  staffGroup = (bySize[1] as { id: string }).id;
  await fixture.service.applyConnection(
    fixture.connection({
      groupMappings: [
        { group: { id: salesGroup }, appGroup: 'Sales', license: 'pro' },
        { group: { id: staffGroup }, appGroup: 'Staff', roles: ['reader'] },
      ],
      licenses: { seats: { pro: 10, standard: 10_000 }, default: 'standard' },
    }),
  );
});

afterAll(async () => {
  await fixture.close();
});

describe('preview and full import', () => {
  it('previews every user in scope as CREATE and writes nothing', async () => {
    const before = fixture.service.stores.tables.meter.requests;
    const report = await fixture.service.preview('contoso');
    const inScope = expectedInScope();
    expect(report.mode).toBe('preview');
    expect(report.situations.ABSENT).toBe(inScope.size - (report.situations.NO_SEAT ?? 0));
    expect(report.actions.CREATE).toBe(report.situations.ABSENT);
    expect(await allUsers()).toHaveLength(0);
    expect((await fixture.service.runs('contoso')).length).toBe(0);
    // Reads only: the user index, e-mail claims and licence pools; no write request of any kind.
    expect(fixture.service.stores.tables.meter.requests - before).toBeGreaterThan(0);
  });

  it('imports exactly the users in scope with their mapped attributes, groups, roles and licences', async () => {
    const report = await fixture.service.import('contoso');
    expect(report.status).toBe('succeeded');
    const users = await allUsers();
    const inScope = expectedInScope();
    const noSeat = report.situations.NO_SEAT ?? 0;
    expect(users.map((user) => user.sourceId).sort()).toEqual(
      [...inScope]
        .filter(
          (id) =>
            !report.exceptions.some(
              (exception) => exception.situation === 'NO_SEAT' && users.every((u) => u.sourceId !== id),
            ),
        )
        .sort(),
    );
    expect(users.length + noSeat).toBe(inScope.size);

    const salesMembers = new Set(fixture.tenant.membersOf(salesGroup).map((id) => id.toLowerCase()));
    const staffMembers = new Set(fixture.tenant.membersOf(staffGroup).map((id) => id.toLowerCase()));
    for (const user of users) {
      const source = fixture.tenant.getUser(user.sourceId);
      expect(source).toBeDefined();
      if (!source) continue;
      expect(user.attributes.userName).toBe(source.userPrincipalName);
      expect(user.attributes.mail).toBe(source.mail ?? source.userPrincipalName);
      expect(user.attributes.sn).toBe(source.surname);
      expect(user.attributes.givenName).toBe(source.givenName);
      expect(user.status).toBe('active');
      expect(user.division).toBe('north');
      expect(user.appGroups.includes('Sales')).toBe(salesMembers.has(user.sourceId));
      expect(user.appGroups.includes('Staff')).toBe(staffMembers.has(user.sourceId));
      expect(user.roles).toEqual(staffMembers.has(user.sourceId) ? ['reader'] : []);
      expect(user.license).toBe(salesMembers.has(user.sourceId) ? 'pro' : 'standard');
    }
    // Ten pro seats: never more holders than seats, and everyone else in Sales is a NO_SEAT exception.
    const proHolders = users.filter((user) => user.license === 'pro').length;
    expect(proHolders).toBe(Math.min(10, [...salesMembers].filter((id) => inScope.has(id)).length));
    expect(noSeat).toBe([...salesMembers].filter((id) => inScope.has(id)).length - proHolders);
    expect(report.licenses.pro).toMatchObject({ seats: 10, used: proHolders });
    expect(report.graphRequests).toBeGreaterThan(0);
    expect(report.storageTransactions).toBeGreaterThan(0);
  });

  it('a second import finds everyone unchanged and writes no user', async () => {
    const before = new Map((await allUsers()).map((user) => [user.sourceId, user.etag]));
    const report = await fixture.service.import('contoso');
    expect(report.situations.CONFIRMED).toBe(before.size);
    expect(report.actions.CREATE ?? 0).toBe(0);
    const after = await allUsers();
    for (const user of after) expect(user.etag).toBe(before.get(user.sourceId));
  });

  it('keeps a delta baseline and a run history with a per-user log', async () => {
    const runs = await fixture.service.runs('contoso');
    expect(runs.map((run) => run.mode)).toEqual(['import', 'import']);
    const log = [];
    for await (const entry of fixture.service.runLog(runs[1]?.runId ?? '')) log.push(entry);
    expect(log.filter((entry) => entry.action === 'CREATE').length).toBe(runs[1]?.actions.CREATE);
    expect(await fixture.service.stores.cursors.get('contoso', 'users')).toBeDefined();
    expect(await fixture.service.stores.cursors.get('contoso', 'groups')).toBeDefined();
  });
});
