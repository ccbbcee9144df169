import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../shared/storage/runs.js';
import type { StoredUser } from '../../shared/storage/users.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

let fixture: SyncFixture;
let salesGroup: string;

async function user(id: string): Promise<StoredUser | undefined> {
  return await fixture.service.stores.users.get('contoso', id);
}

/** An enabled member (in scope) that the test has not touched yet. */
const used = new Set<string>();
function freshMember(filter: (id: string) => boolean = () => true): string {
  for (const id of fixture.tenant.liveUserIds()) {
    const candidate = fixture.tenant.getUser(id);
    if (!candidate || used.has(id) || candidate.userType !== 'Member' || !candidate.accountEnabled) continue;
    if (!filter(id)) continue;
    used.add(id);
    return id.toLowerCase();
  }
  throw new Error('no fresh member left');
}

async function sync(): Promise<RunReport> {
  const report = await fixture.service.sync('contoso');
  expect(report.status, JSON.stringify(report.error)).not.toBe('failed');
  return report;
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 300, groups: 10, seed: 11 });
  salesGroup = fixture.tenant
    .liveGroupIds()
    .map((id) => ({ id, size: fixture.tenant.membersOf(id).length }))
    .sort((a, b) => b.size - a.size)[0]?.id as string;
  await fixture.service.applyConnection(
    fixture.connection({
      groupMappings: [{ group: { id: salesGroup }, appGroup: 'Sales', roles: ['seller'] }],
    }),
  );
  const report = await fixture.service.import('contoso');
  expect(report.status).toBe('succeeded');
});

afterAll(async () => {
  await fixture.close();
});

describe('incremental sync with delta queries', () => {
  it('does nothing, cheaply, when nothing changed', async () => {
    const report = await sync();
    expect(report.mode).toBe('sync');
    expect(report.fallbackReason).toBeNull();
    expect(report.usersRead).toBe(0);
    expect(report.actions).toEqual({});
    // One round of groups delta and one of users delta, whatever the tenant size.
    expect(report.graphRequests).toBeLessThanOrEqual(4);
  });

  it('applies an attribute change and nothing else', async () => {
    const id = freshMember();
    fixture.tenant.updateUser(id, { surname: 'Renamed', jobTitle: 'Chief' });
    const report = await sync();
    expect(report.actions).toEqual({ UPDATE: 1 });
    const stored = await user(id);
    expect(stored?.attributes.sn).toBe('Renamed');
    // A partial delta object (return=minimal) merges onto the snapshot: the other attributes stay.
    expect(stored?.attributes.givenName).toBe(fixture.tenant.getUser(id)?.givenName);
    expect(stored?.source.jobTitle).toBeUndefined(); // not selected: the mapping does not read it
  });

  it('suspends a soft-deleted user and reactivates it when restored', async () => {
    const id = freshMember();
    fixture.tenant.softDeleteUser(id);
    const deleted = await sync();
    expect(deleted.situations.SOURCE_SOFT_DELETED).toBe(1);
    expect(deleted.actions.SUSPEND).toBe(1);
    expect(await user(id)).toMatchObject({ status: 'suspended', suspendedBy: 'source_soft_deleted' });

    fixture.tenant.restoreUser(id);
    const restored = await sync();
    expect(restored.situations.RESTORED).toBe(1);
    expect(restored.actions.REACTIVATE).toBe(1);
    expect(await user(id)).toMatchObject({ status: 'active', suspendedBy: '' });
  });

  it('deletes a permanently deleted user and frees its e-mail', async () => {
    const id = freshMember((candidate) => Boolean(fixture.tenant.getUser(candidate)?.mail));
    const mail = (await user(id))?.mailKey as string;
    fixture.tenant.hardDeleteUser(id);
    const report = await sync();
    expect(report.situations.SOURCE_DELETED).toBe(1);
    expect(report.actions.DELETE).toBe(1);
    expect(await user(id)).toMatchObject({ status: 'deleted', license: '', mailKey: '' });
    expect(await fixture.service.stores.claims.get(mail)).toBeUndefined();

    // The address is free again: a new Entra user with it is created, not a conflict.
    const created = fixture.tenant.createUser({
      mail,
      userPrincipalName: `reborn@${fixture.tenant.domain}`,
      accountEnabled: true,
      userType: 'Member',
    });
    const next = await sync();
    expect(next.actions.CREATE).toBe(1);
    expect((await user(created.id))?.mailKey).toBe(mail);
  });

  it('follows group membership: a user joining and leaving a mapped group', async () => {
    const id = freshMember((candidate) => !fixture.tenant.membersOf(salesGroup).includes(candidate));
    fixture.tenant.addMember(salesGroup, id);
    const joined = await sync();
    expect(joined.actions.UPDATE).toBe(1);
    expect(await user(id)).toMatchObject({ appGroups: ['Sales'], roles: ['seller'] });

    fixture.tenant.removeMember(salesGroup, id);
    await sync();
    expect(await user(id)).toMatchObject({ appGroups: [], roles: [] });
  });

  it('suspends a user disabled in Entra (out of scope) and brings it back when enabled', async () => {
    const id = freshMember();
    fixture.tenant.updateUser(id, { accountEnabled: false });
    const disabled = await sync();
    expect(disabled.situations.UNQUALIFIED).toBe(1);
    expect(await user(id)).toMatchObject({ status: 'suspended', suspendedBy: 'out_of_scope' });
    fixture.tenant.updateUser(id, { accountEnabled: true });
    const enabled = await sync();
    expect(enabled.situations.RESTORED).toBe(1);
    expect(await user(id)).toMatchObject({ status: 'active' });
  });

  it('creates a new user', async () => {
    const created = fixture.tenant.createUser({
      givenName: 'Nova',
      surname: 'Newcomer',
      accountEnabled: true,
      userType: 'Member',
    });
    const report = await sync();
    expect(report.actions.CREATE).toBe(1);
    expect(await user(created.id)).toMatchObject({
      status: 'active',
      attributes: { givenName: 'Nova', sn: 'Newcomer' },
    });
  });

  it('falls back to a full import when the delta token expired, and suspends nobody still in Entra', async () => {
    const before = await fixture.service.stores.users.loadIndex('contoso');
    fixture.tenant.expireDeltaTokens();
    const report = await sync();
    expect(report.fallbackReason).toMatch(/expired/);
    expect(report.actions.SUSPEND ?? 0).toBe(0);
    expect(report.actions.DELETE ?? 0).toBe(0);
    expect(report.actions.CREATE ?? 0).toBe(0);
    const after = await fixture.service.stores.users.loadIndex('contoso');
    const statuses = (index: typeof before): string[] =>
      [...index].map(([id, entry]) => `${id}:${entry.status}`).sort();
    expect(statuses(after)).toEqual(statuses(before));
    // The fallback left a fresh baseline: the next sync is incremental again.
    expect((await sync()).fallbackReason).toBeNull();
  });

  it('falls back to a full import when Graph resets the delta state (410 Gone)', async () => {
    fixture.tenant.resetDeltaState();
    const id = freshMember();
    fixture.tenant.updateUser(id, { givenName: 'AfterReset' });
    const report = await sync();
    expect(report.fallbackReason).toMatch(/reset/);
    expect((await user(id))?.attributes.givenName).toBe('AfterReset');
    expect(report.actions.SUSPEND ?? 0).toBe(0);
  });

  it('waits out throttling (429 and 503 with Retry-After) and still completes', async () => {
    const id = freshMember();
    fixture.tenant.updateUser(id, { surname: 'Throttled' });
    fixture.sim.injectFault({ status: 429, retryAfter: 0.2, count: 2, path: '/v1.0/users/delta' });
    fixture.sim.injectFault({ status: 503, retryAfter: 0.1, count: 1, path: '/v1.0/groups/delta' });
    const report = await sync();
    expect((await user(id))?.attributes.sn).toBe('Throttled');
    expect(report.graphRequests).toBeGreaterThanOrEqual(5);
  });
});
