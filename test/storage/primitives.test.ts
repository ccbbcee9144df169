import type { TransactionAction } from '@azure/data-tables';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAllOrReport, submitInTransactions, toTransactions } from '../../shared/storage/batch.js';
import { packChunks, unpackChunk, CHUNK_PROPERTY_CHARS } from '../../shared/storage/chunks.js';
import { CursorStore } from '../../shared/storage/cursors.js';
import { escapeKey, unescapeKey, userPartition } from '../../shared/storage/keys.js';
import { LeaseStore } from '../../shared/storage/leases.js';
import { useFreshTables } from '../harness/tables.js';

const freshTable = useFreshTables();

describe('keys', () => {
  it('escapes what a key may not hold and round-trips', () => {
    const address = 'we/ird#name?x%y\\@example.com';
    const key = escapeKey(address);
    expect(key).not.toMatch(/[/\\#?]/);
    expect(unescapeKey(key)).toBe(address);
    expect(escapeKey('plain@example.com')).toBe('plain@example.com');
  });

  it('spreads users over partitions by the first two hex digits', () => {
    expect(userPartition('contoso', 'A1b2')).toBe('contoso|a1');
    expect(userPartition('contoso', 'not-a-guid')).toBe('contoso|x');
  });
});

describe('transactions', () => {
  it('splits by partition and at 100 operations', () => {
    const actions = Array.from({ length: 250 }, (_, index): TransactionAction => [
      'upsert',
      { partitionKey: index % 2 === 0 ? 'even' : 'odd', rowKey: String(index) },
      'Replace',
    ]);
    const transactions = toTransactions(actions);
    expect(transactions.map((t) => t.length).sort((a, b) => a - b)).toEqual([25, 25, 100, 100]);
    for (const transaction of transactions) {
      expect(new Set(transaction.map((action) => action[1].partitionKey)).size).toBe(1);
    }
  });

  it('writes hundreds of entities and reports the ones that already existed', async () => {
    const table = await freshTable();
    await submitInTransactions(
      table,
      Array.from(
        { length: 230 },
        (_, index) => ['upsert', { partitionKey: 'p', rowKey: `r${index}` }, 'Replace'] as const,
      ),
    );
    const candidates = Array.from({ length: 240 }, (_, index) => ({
      partitionKey: 'p',
      rowKey: `r${index + 225}`,
    }));
    const existing = await createAllOrReport(table, candidates);
    expect(existing.map((entity) => entity.rowKey).sort()).toEqual(['r225', 'r226', 'r227', 'r228', 'r229']);
    let count = 0;
    for await (const _entity of table.listEntities()) count += 1;
    expect(count).toBe(465);
  });
});

describe('chunks', () => {
  it('packs long lists under the property limit and unpacks them in order', () => {
    const items = Array.from({ length: 30_000 }, (_, index) => ({
      id: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
    }));
    const entities = packChunks(items, 'group', (index) => String(index).padStart(4, '0'));
    expect(entities.length).toBeGreaterThan(1);
    for (const entity of entities) {
      for (const [key, value] of Object.entries(entity)) {
        if (key.startsWith('p') && typeof value === 'string')
          expect(value.length).toBeLessThanOrEqual(CHUNK_PROPERTY_CHARS);
      }
    }
    expect(entities.flatMap((entity) => unpackChunk<{ id: string }>({ ...entity }))).toEqual(items);
    expect(entities.reduce((sum, entity) => sum + entity.count, 0)).toBe(items.length);
  });

  it('stores a packed list in Azurite', async () => {
    const table = await freshTable();
    const items = Array.from({ length: 5_000 }, (_, index) => `member-${index}`);
    const entities = packChunks(items, 'g1', (index) => String(index));
    await submitInTransactions(
      table,
      entities.map((entity): TransactionAction => ['upsert', entity, 'Replace']),
    );
    const read: string[] = [];
    for await (const entity of table.listEntities({ queryOptions: { filter: `PartitionKey eq 'g1'` } })) {
      read.push(...unpackChunk<string>(entity));
    }
    expect(read).toEqual(items);
  });
});

describe('leases', () => {
  let leases: LeaseStore;
  beforeAll(async () => {
    leases = new LeaseStore(await freshTable());
  });

  it('gives a connection to one holder at a time and hands it over after release', async () => {
    const first = await leases.acquire('c1', 'run-1', 60_000);
    expect(first.acquired).toBe(true);
    const second = await leases.acquire('c1', 'run-2', 60_000);
    expect(second).toMatchObject({ acquired: false, holder: 'run-1' });
    if (first.acquired) await first.lease.release();
    const third = await leases.acquire('c1', 'run-2', 60_000);
    expect(third.acquired).toBe(true);
  });

  it('lets exactly one of several contenders take over an expired lease', async () => {
    const stale = await leases.acquire('c2', 'crashed', 1);
    expect(stale.acquired).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (holder) => await leases.acquire('c2', holder, 60_000)),
    );
    expect(results.filter((result) => result.acquired)).toHaveLength(1);
  });

  it('refuses to renew a lease someone else took over', async () => {
    const mine = await leases.acquire('c3', 'slow', 1);
    if (!mine.acquired) throw new Error('expected the lease');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await leases.acquire('c3', 'fast', 60_000)).acquired).toBe(true);
    await expect(mine.lease.renew()).rejects.toMatchObject({ statusCode: 412 });
  });
});

describe('cursors', () => {
  it('moves a cursor only over the version that was read', async () => {
    const cursors = new CursorStore(await freshTable());
    expect(await cursors.get('c1', 'users')).toBeUndefined();
    await cursors.put(
      'c1',
      'users',
      { deltaLink: 'https://graph/delta?$deltatoken=1', runId: 'run-1', configVersion: 'v1' },
      undefined,
    );
    const first = await cursors.get('c1', 'users');
    expect(first?.deltaLink).toContain('deltatoken=1');
    await cursors.put(
      'c1',
      'users',
      { deltaLink: 'https://graph/delta?$deltatoken=2', runId: 'run-2', configVersion: 'v1' },
      first?.etag,
    );
    await expect(
      cursors.put(
        'c1',
        'users',
        { deltaLink: 'https://graph/delta?$deltatoken=stale', runId: 'run-3', configVersion: 'v1' },
        first?.etag,
      ),
    ).rejects.toMatchObject({ statusCode: 412 });
    await expect(
      cursors.put('c1', 'users', { deltaLink: 'x', runId: 'run-4', configVersion: 'v1' }, undefined),
    ).rejects.toMatchObject({
      statusCode: 409,
    });
    expect((await cursors.get('c1', 'users'))?.deltaLink).toContain('deltatoken=2');
  });
});
