import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

/**
 * The same engine against a tenant that behaves like real Graph at its least convenient: objects
 * replayed within a round, no ordering, short and uneven pages, and a large group's member changes
 * spread over several pages under the same group id. The end state must still match the tenant.
 */
let fixture: SyncFixture;
let mapped: string;

async function expectStoreMatchesTenant(): Promise<void> {
  const members = new Set(fixture.tenant.membersOf(mapped).map((id) => id.toLowerCase()));
  const expected = new Map<string, boolean>();
  for (const id of fixture.tenant.liveUserIds()) {
    const user = fixture.tenant.getUser(id);
    if (user && user.userType === 'Member' && user.accountEnabled)
      expected.set(id.toLowerCase(), members.has(id.toLowerCase()));
  }
  const active = new Map<string, boolean>();
  for await (const user of fixture.service.users('contoso')) {
    if (user.status === 'active') active.set(user.sourceId, user.appGroups.includes('Mapped'));
    const source = fixture.tenant.getUser(user.sourceId);
    if (user.status === 'active' && source) expect(user.attributes.sn).toBe(source.surname);
  }
  const extra = [...active.keys()].filter((id) => !expected.has(id));
  const missing = [...expected.keys()].filter((id) => !active.has(id));
  if (extra.length + missing.length > 0) {
    console.log(
      'extra',
      extra.map((id) => [id, fixture.tenant.getUserState(id), fixture.tenant.getUser(id)?.accountEnabled]),
    );
    console.log('missing', missing);
  }
  expect(active).toEqual(expected);
}

beforeAll(async () => {
  fixture = await startSyncFixture({
    users: 500,
    groups: 8,
    seed: 99,
    simulator: { quirks: true, deltaPageSize: 37, memberBudget: 15 },
  });
  mapped = fixture.tenant.liveGroupIds()[1] as string;
  await fixture.service.applyConnection(
    fixture.connection({ groupMappings: [{ group: { id: mapped }, appGroup: 'Mapped' }] }),
  );
  await fixture.service.import('contoso');
});

afterAll(async () => {
  await fixture.close();
});

describe('Graph quirks', () => {
  it('a full import over uneven, unordered pages stores every user exactly once', async () => {
    await expectStoreMatchesTenant();
  });

  it('a sync over replayed objects and a large group split across pages applies every change', async () => {
    const ids = fixture.tenant.liveUserIds();
    const outsiders = ids.filter((id) => !fixture.tenant.membersOf(mapped).includes(id)).slice(0, 60);
    for (const id of outsiders) fixture.tenant.addMember(mapped, id);
    for (const id of ids.slice(100, 160))
      fixture.tenant.updateUser(id, { surname: `Quirk${id.slice(0, 4)}` });
    for (const id of ids.slice(200, 210)) fixture.tenant.softDeleteUser(id);
    const report = await fixture.service.sync('contoso');
    expect(report.status).toBe('succeeded');
    // 60 member changes at 15 per page, and 70 changed users at 37 per page: several pages of each.
    expect(report.graphRequests).toBeGreaterThanOrEqual(6);
    await expectStoreMatchesTenant();
    // Nothing left to do: a second sync finds no change at all.
    const again = await fixture.service.sync('contoso');
    expect(again.actions).toEqual({});
  });
});
