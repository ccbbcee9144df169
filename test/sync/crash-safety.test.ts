import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES, type TableKind } from '../../shared/storage/tables.js';
import type { SyncService } from '../../shared/sync/service.js';
import { uniqueName } from '../harness/names.js';
import { snapshot } from '../harness/store-snapshot.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

/**
 * A run killed at any point and run again ends in the same state as a run that never crashed: no
 * duplicate users, no lost changes, cursors that advanced only over stored changes. The "kill" is a
 * storage policy that fails every request after the k-th, as a dead process would; the next run is a
 * new service (a new process), which must wait out the dead run's lease.
 */
let fixture: SyncFixture;
const LEASE_MS = 1_500;

function killAfter(service: SyncService, requests: number): void {
  let seen = 0;
  for (const kind of Object.keys(TABLE_NAMES) as TableKind[]) {
    service.stores.tables.client(kind).pipeline.addPolicy({
      name: 'simulatedCrash',
      async sendRequest(request, next) {
        seen += 1;
        if (seen > requests) throw new Error('simulated crash: the process died');
        return await next(request);
      },
    });
  }
}

async function newService(prefix: string): Promise<SyncService> {
  const service = fixture.newService({ tablePrefix: prefix, leaseDurationMs: LEASE_MS });
  await service.initialize();
  return service;
}

async function runUntilItSticks(run: () => Promise<unknown>): Promise<void> {
  // The dead run's lease blocks the connection until it expires: retry as a scheduler would.
  for (let attempt = 0; attempt < 10; attempt += 1) {
    try {
      await run();
      return;
    } catch (error) {
      if (!(error instanceof Error) || !/is busy/.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2));
    }
  }
  throw new Error('the connection stayed busy');
}

const connection = (): ReturnType<SyncFixture['connection']> =>
  fixture.connection({ licenses: { seats: { pro: 12, standard: 1000 }, default: 'standard' } });

let referencePrefix: string;
let reference: SyncService;
let importRequests: number;

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 120, groups: 5, seed: 31 });
  referencePrefix = uniqueName('ref');
  reference = await newService(referencePrefix);
  const group = fixture.tenant
    .liveGroupIds()
    .sort((a, b) => fixture.tenant.membersOf(b).length - fixture.tenant.membersOf(a).length)[0] as string;
  await reference.applyConnection({
    ...connection(),
    groupMappings: [{ group: { id: group }, appGroup: 'Pro', license: 'pro' }],
  });
  const before = reference.stores.tables.meter.requests;
  await reference.import('contoso');
  importRequests = reference.stores.tables.meter.requests - before;
});

afterAll(async () => {
  await fixture.close();
});

describe('crash safety', () => {
  const crashedPrefixes: string[] = [];

  it('an import killed at any point and run again equals an import that never crashed', async () => {
    const expected = await snapshot(reference);
    const document = (await reference.getConnection('contoso')).stored.document;
    for (const fraction of [0.1, 0.35, 0.6, 0.85, 0.97]) {
      const prefix = uniqueName('crash');
      crashedPrefixes.push(prefix);
      const doomed = await newService(prefix);
      await doomed.applyConnection(document);
      killAfter(doomed, Math.floor(importRequests * fraction));
      await expect(doomed.import('contoso')).rejects.toThrow();
      const recovered = await newService(prefix);
      await runUntilItSticks(async () => await recovered.import('contoso'));
      const actual = await snapshot(recovered);
      for (const part of Object.keys(expected))
        expect(actual[part], `crash at ${fraction}: ${part}`).toEqual(expected[part]);
    }
  });

  it('a sync killed at any point and run again applies every change exactly once', async () => {
    const ids = fixture.tenant.liveUserIds().slice(0, 12);
    fixture.tenant.updateUser(ids[0] as string, { surname: 'Changed' });
    fixture.tenant.softDeleteUser(ids[1] as string);
    fixture.tenant.hardDeleteUser(ids[2] as string);
    fixture.tenant.createUser({
      givenName: 'Crash',
      surname: 'Newcomer',
      accountEnabled: true,
      userType: 'Member',
    });
    const group = fixture.tenant.liveGroupIds()[0] as string;
    for (const id of ids.slice(3, 8)) fixture.tenant.addMember(group, id);

    const before = reference.stores.tables.meter.requests;
    await reference.sync('contoso');
    const syncRequests = reference.stores.tables.meter.requests - before;
    const expected = await snapshot(reference);

    for (const [index, prefix] of crashedPrefixes.entries()) {
      const fraction = [0.15, 0.4, 0.6, 0.8, 0.95][index] ?? 0.5;
      const doomed = await newService(prefix);
      killAfter(doomed, Math.floor(syncRequests * fraction));
      await expect(doomed.sync('contoso')).rejects.toThrow();
      const recovered = await newService(prefix);
      await runUntilItSticks(async () => await recovered.sync('contoso'));
      const actual = await snapshot(recovered);
      for (const part of Object.keys(expected))
        expect(actual[part], `crash at ${fraction}: ${part}`).toEqual(expected[part]);
    }
  });
});
