import { describe, expect, it } from 'vitest';
import { EmailClaimStore, type EmailClaim } from '../../shared/storage/email-claims.js';
import { LicenseStore } from '../../shared/storage/licenses.js';
import {
  newRunId,
  newRunReport,
  RunStore,
  type RunLogEntry,
  type RunReport,
} from '../../shared/storage/runs.js';
import { useFreshTables } from '../harness/tables.js';

const freshTable = useFreshTables();

function claim(mailKey: string, connectionId: string, sourceId: string): EmailClaim {
  return {
    mailKey,
    appUserId: `${connectionId}.${sourceId}`,
    connectionId,
    sourceId,
    division: 'north',
    userPartitionKey: `${connectionId}|0`,
    userRowKey: sourceId,
    claimedAt: new Date().toISOString(),
  };
}

describe('e-mail claims', () => {
  it('lets exactly one of many concurrent claimers hold an address', async () => {
    const claims = new EmailClaimStore(await freshTable());
    const contenders = Array.from({ length: 12 }, (_, index) =>
      claim('ann@contoso.com', `c${index % 3}`, `u${index}`),
    );
    const results = await Promise.all(
      contenders.map(async (candidate) => await claims.claimMany([candidate])),
    );
    const winners = results.filter((taken) => !taken.has('ann@contoso.com'));
    expect(winners).toHaveLength(1);
    const holder = await claims.get('ann@contoso.com');
    for (const taken of results) {
      const owner = taken.get('ann@contoso.com');
      if (owner) expect(owner.sourceId).toBe(holder?.sourceId);
    }
  });

  it('claims a batch, reports the taken ones, and releases only its own', async () => {
    const claims = new EmailClaimStore(await freshTable());
    await claims.claimMany([claim('taken@contoso.com', 'other', 'x1')]);
    const batch = ['a@contoso.com', 'taken@contoso.com', 'we#ird/@contoso.com', 'b@contoso.com'].map(
      (mail, index) => claim(mail, 'mine', `u${index}`),
    );
    const taken = await claims.claimMany(batch);
    expect([...taken.keys()]).toEqual(['taken@contoso.com']);
    expect(taken.get('taken@contoso.com')?.connectionId).toBe('other');
    expect((await claims.get('we#ird/@contoso.com'))?.sourceId).toBe('u2');

    await claims.release('taken@contoso.com', { connectionId: 'mine', sourceId: 'u1' });
    expect(await claims.get('taken@contoso.com')).toBeDefined();
    await claims.release('a@contoso.com', { connectionId: 'mine', sourceId: 'u0' });
    expect(await claims.get('a@contoso.com')).toBeUndefined();
  });

  it('transfers a claim only from the version that was read', async () => {
    const claims = new EmailClaimStore(await freshTable());
    await claims.claimMany([claim('move@contoso.com', 'native', 'n1')]);
    const read = await claims.get('move@contoso.com');
    if (!read) throw new Error('expected the claim');
    const { mailKey: _mailKey, etag: _etag, ...owner } = claim('move@contoso.com', 'mine', 'u9');
    expect(await claims.transfer(read, owner)).toBe(true);
    expect(await claims.transfer(read, { ...owner, sourceId: 'late' })).toBe(false);
    expect((await claims.get('move@contoso.com'))?.sourceId).toBe('u9');
  });
});

describe('licence pools', () => {
  it('never sells more seats than the pool has, whatever the contention', async () => {
    const pools = new LicenseStore(await freshTable());
    await pools.configure('north', { pro: 25 });
    const takes = await Promise.all(
      Array.from({ length: 10 }, async () => await pools.take('north', 'pro', 4)),
    );
    expect(takes.reduce((sum, taken) => sum + taken, 0)).toBe(25);
    expect(await pools.list('north')).toEqual([{ division: 'north', license: 'pro', seats: 25, used: 25 }]);
    await pools.giveBack('north', 'pro', 5);
    expect(await pools.take('north', 'pro', 10)).toBe(5);
    expect(await pools.take('north', 'unknown', 1)).toBe(0);
  });
});

describe('runs', () => {
  it('stores reports newest first and a long per-user log in chunks', async () => {
    const runs = new RunStore(await freshTable(), await freshTable());
    const report = (runId: string, startedAt: string): RunReport => ({
      ...newRunReport(runId, 'contoso', 'import', new Date(startedAt)),
      status: 'succeeded',
      startedAt,
      finishedAt: startedAt,
    });
    const older = newRunId(new Date('2026-01-01T00:00:00Z'));
    const newer = newRunId(new Date('2026-01-02T00:00:00Z'));
    await runs.save(report(older, '2026-01-01T00:00:00Z'));
    await runs.save(report(newer, '2026-01-02T00:00:00Z'));
    expect((await runs.list('contoso')).map((run) => run.runId)).toEqual([newer, older]);
    expect((await runs.find(older))?.startedAt).toBe('2026-01-01T00:00:00Z');

    const entries: RunLogEntry[] = Array.from({ length: 3_000 }, (_, index) => ({
      sourceId: `user-${index}`,
      userName: `user${index}@contoso.com`,
      situation: 'ABSENT',
      action: 'CREATE',
      reason: 'In scope and not in the app yet.',
      changes: [{ attribute: 'mail', before: null, after: `user${index}@contoso.com` }],
    }));
    await runs.appendLog(newer, entries.slice(0, 1_000));
    await runs.appendLog(newer, entries.slice(1_000));
    const read: RunLogEntry[] = [];
    for await (const entry of runs.readLog(newer)) read.push(entry);
    expect(read).toEqual(entries);
  });
});
