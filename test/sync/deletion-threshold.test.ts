import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

/**
 * Deletion safety: when a run's deletions and suspensions together pass the threshold (default: the
 * smaller of 500 and 20% of the linked users), the run applies everything else, holds those, and is
 * `deletions_held` until approved.
 */
let fixture: SyncFixture;
let linked: string[];

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 150, groups: 4, seed: 21 });
  await fixture.service.applyConnection(fixture.connection());
  await fixture.service.import('contoso');
  linked = [...(await fixture.service.stores.users.loadIndex('contoso')).keys()].sort();
});

afterAll(async () => {
  await fixture.close();
});

async function statusOf(id: string): Promise<string | undefined> {
  return (await fixture.service.stores.users.get('contoso', id))?.status;
}

describe('deletion threshold', () => {
  it('holds a mass deletion, applies the other changes, and applies the held ones on approval', async () => {
    const limit = Math.ceil(linked.length * 0.2);
    const doomed = linked.slice(0, limit + 5);
    const survivor = linked[linked.length - 1] as string;
    const comeback = doomed[0] as string;
    for (const id of doomed) fixture.tenant.softDeleteUser(id);
    fixture.tenant.updateUser(survivor, { surname: 'StillHere' });

    const held = await fixture.service.sync('contoso');
    expect(held.status).toBe('deletions_held');
    expect(held.held).toEqual({ count: doomed.length, threshold: limit, linkedUsers: linked.length });
    for (const id of doomed) expect(await statusOf(id)).toBe('active');
    expect((await fixture.service.stores.users.get('contoso', survivor))?.attributes.sn).toBe('StillHere');

    // One comes back before anyone approves: the next run drops it and carries the rest.
    fixture.tenant.restoreUser(comeback);
    const next = await fixture.service.sync('contoso');
    expect(next.status).toBe('deletions_held');
    expect(next.held?.count).toBe(doomed.length - 1);
    expect((await fixture.service.runs('contoso')).find((run) => run.runId === held.runId)?.status).toBe(
      'superseded',
    );
    await expect(fixture.service.approve(held.runId)).rejects.toThrow(/superseded/);

    const approved = await fixture.service.approve(next.runId);
    expect(approved.status).toBe('succeeded');
    expect(approved.approval).toMatchObject({ applied: doomed.length - 1, skipped: 0 });
    expect(await statusOf(comeback)).toBe('active');
    for (const id of doomed.slice(1)) expect(await statusOf(id)).toBe('suspended');
    await expect(fixture.service.approve(next.runId)).rejects.toThrow(/no held deletions/);
  });

  it('applies removals under the threshold at once', async () => {
    const id = linked[linked.length - 2] as string;
    fixture.tenant.hardDeleteUser(id);
    const report = await fixture.service.sync('contoso');
    expect(report.status).toBe('succeeded');
    expect(await statusOf(id)).toBe('deleted');
  });
});

describe('approving many deletions of licensed users', () => {
  it('gives every seat back to the pool, without the writers contending on it', async () => {
    const own = await startSyncFixture({ users: 300, groups: 3, seed: 33 });
    try {
      await own.service.applyConnection(
        own.connection({ licenses: { seats: { standard: 1000 }, default: 'standard' } }),
      );
      await own.service.import('contoso');
      const pool = async (): Promise<number | undefined> =>
        (await own.service.stores.licenses.list('north')).find((entry) => entry.license === 'standard')?.used;
      const ids = [...(await own.service.stores.users.loadIndex('contoso')).keys()].sort();
      const before = await pool();
      expect(before).toBe(ids.length);

      const doomed = ids.slice(0, 150);
      for (const id of doomed) own.tenant.hardDeleteUser(id);
      const held = await own.service.sync('contoso');
      expect(held.status).toBe('deletions_held');
      const approved = await own.service.approve(held.runId);
      expect(approved.approval).toMatchObject({ applied: doomed.length, skipped: 0 });
      expect(await pool()).toBe(ids.length - doomed.length);
    } finally {
      await own.close();
    }
  });
});
