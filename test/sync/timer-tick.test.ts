import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSyncDue } from '../../shared/config/schedule.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

describe('isSyncDue', () => {
  const at = (iso: string): Date => new Date(iso);
  it('is always due without a schedule or a previous run', () => {
    expect(isSyncDue(undefined, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'))).toBe(true);
    expect(isSyncDue({ everyMinutes: 60 }, null, at('2026-01-01T00:01:00Z'))).toBe(true);
  });
  it('waits out an interval, with half a minute of slack for an early timer', () => {
    const last = at('2026-01-01T00:00:00Z');
    expect(isSyncDue({ everyMinutes: 60 }, last, at('2026-01-01T00:45:00Z'))).toBe(false);
    expect(isSyncDue({ everyMinutes: 60 }, last, at('2026-01-01T00:59:40Z'))).toBe(true);
  });
  it('is due when a cron minute passed since the last run', () => {
    const last = at('2026-01-01T03:10:00Z');
    expect(isSyncDue({ cron: '0 */4 * * *' }, last, at('2026-01-01T03:59:00Z'))).toBe(false);
    expect(isSyncDue({ cron: '0 */4 * * *' }, last, at('2026-01-01T04:00:30Z'))).toBe(true);
    // Sundays, written as 7: 2026-01-04 is a Sunday.
    expect(isSyncDue({ cron: '30 2 * * 7' }, at('2026-01-03T00:00:00Z'), at('2026-01-04T03:00:00Z'))).toBe(
      true,
    );
  });
});

describe('timer tick', () => {
  let fixture: SyncFixture;
  beforeAll(async () => {
    fixture = await startSyncFixture({ users: 60, groups: 3, seed: 13 });
    const base = fixture.connection();
    await fixture.service.applyConnection({ ...base, id: 'alpha' });
    await fixture.service.applyConnection({
      ...base,
      id: 'broken',
      clientSecret: { env: 'NOT_SET_ANYWHERE' },
    });
    await fixture.service.applyConnection({ ...base, id: 'busy' });
    await fixture.service.applyConnection({ ...base, id: 'hourly', schedule: { everyMinutes: 60 } });
    await fixture.service.applyConnection({ ...base, id: 'off', enabled: false });
    await fixture.service.import('hourly');
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('syncs what is due, skips a busy connection and says so, and one failure stops nobody', async () => {
    const held = await fixture.service.stores.leases.acquire('busy', 'someone-else', 60_000);
    expect(held.acquired).toBe(true);
    const outcomes = await fixture.service.syncDue();
    const by = Object.fromEntries(outcomes.map((outcome) => [outcome.connectionId, outcome]));
    expect(by.alpha).toMatchObject({ outcome: 'synced', status: 'succeeded' });
    expect(by.broken).toMatchObject({ outcome: 'failed' });
    expect(by.broken && 'reason' in by.broken ? by.broken.reason : '').toMatch(/NOT_SET_ANYWHERE/);
    expect(by.busy).toMatchObject({ outcome: 'skipped_busy' });
    expect(by.busy && 'reason' in by.busy ? by.busy.reason : '').toMatch(/someone-else/);
    expect(by.hourly).toEqual({ connectionId: 'hourly', outcome: 'not_due' });
    expect(by.off).toEqual({ connectionId: 'off', outcome: 'disabled' });
    // A past-due tick (the host missed some) is just a tick: alpha is synced again, incrementally.
    const late = await fixture.service.syncDue(new Date(Date.now() + 3 * 60 * 60_000));
    expect(late.find((outcome) => outcome.connectionId === 'hourly')).toMatchObject({ outcome: 'synced' });
  });
});
