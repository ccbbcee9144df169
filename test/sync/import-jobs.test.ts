import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StorageWorkQueue } from '../../shared/storage/work-queue.js';
import type { ImportJobs } from '../../shared/sync/import-jobs.js';
import type { SyncService } from '../../shared/sync/service.js';
import { uniqueName } from '../harness/names.js';
import { runQueueWorkers } from '../harness/queue-workers.js';
import { snapshot } from '../harness/store-snapshot.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

/**
 * The queue-driven import: work items on a real queue, handled by several concurrent workers with the
 * queue's at-least-once delivery, ends in the same state as a single-process import of the same tenant.
 */
let fixture: SyncFixture;
let reference: SyncService;

function queues(): { queue: QueueClient; poison: QueueClient } {
  const name = uniqueName('q');
  const connection = inject('azuriteConnectionString');
  return { queue: new QueueClient(connection, name), poison: new QueueClient(connection, `${name}-poison`) };
}

/** A group of a few hundred members, who get the pro licence. */
function midSizedGroup(): string {
  const sizes = fixture.tenant
    .liveGroupIds()
    .map((id) => ({ id, size: fixture.tenant.membersOf(id).length }));
  const mid = sizes
    .filter((group) => group.size >= 60 && group.size <= 800)
    .sort((a, b) => a.size - b.size)[0];
  if (!mid) throw new Error('the tenant has no mid-sized group');
  return mid.id;
}

async function serviceWithConnection(): Promise<SyncService> {
  const service = fixture.newService({ tablePrefix: uniqueName('job') });
  await service.initialize();
  await service.applyConnection(
    fixture.connection({
      groupMappings: [{ group: { id: midSizedGroup() }, appGroup: 'Pro users', license: 'pro' }],
      // Seats enough for everyone: with scarce seats, who gets one follows the order pages are done in,
      // which parallel workers change (the pool is never oversold either way; see import.test.ts).
      licenses: { seats: { pro: 5_000, standard: 10_000 }, default: 'standard' },
    }),
  );
  return service;
}

async function runJob(
  jobs: ImportJobs,
  queue: QueueClient,
  poison: QueueClient,
  jobId: string,
  workers: number,
  flaky = 0,
) {
  let flakes = flaky;
  return await runQueueWorkers(
    queue,
    poison,
    async (message, dequeueCount) => {
      await jobs.handle(message, { dequeueCount });
      // A worker that dies after doing an item, now and then: the item comes back and must be harmless twice.
      if (flakes > 0 && Math.random() < 0.3) {
        flakes -= 1;
        throw new Error('worker died after doing the work');
      }
    },
    async (message) => {
      await jobs.fail(message, 'kept failing');
    },
    {
      workers,
      maxDequeueCount: 5,
      visibilityTimeoutSeconds: 4,
      timeoutMs: 120_000,
      done: async () => ['succeeded', 'deletions_held', 'failed'].includes((await jobs.get(jobId)).status),
    },
  );
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 2_500, groups: 10, seed: 41, simulator: { quirks: false } });
  reference = await serviceWithConnection();
  await reference.import('contoso');
});

afterAll(async () => {
  await fixture.close();
});

describe('queue-driven import', () => {
  it('four concurrent workers, with redeliveries, end where a single-process import ends', async () => {
    const service = await serviceWithConnection();
    const { queue, poison } = queues();
    await queue.create();
    const jobs = service.importJobs(new StorageWorkQueue(queue));
    const job = await jobs.start('contoso');
    const stats = await runJob(jobs, queue, poison, job.jobId, 4, 5);
    const progress = await jobs.progress(job.jobId);
    expect(progress.error, stats.lastError).toBeNull();
    expect(progress.status).toBe('succeeded');
    expect(stats.poisoned).toBe(0);
    expect(progress.pagesDone).toBe(progress.pagesRead);
    expect(progress.pagesRead).toBeGreaterThan(2);
    expect(progress.report?.usersRead).toBe(2_500);
    expect(progress.report?.actions.CREATE).toBeGreaterThan(2_000);
    const [actual, expected] = [await snapshot(service), await snapshot(reference)];
    // Part by part, so that a difference says where it is.
    for (const part of Object.keys(expected)) expect(actual[part], part).toEqual(expected[part]);
    // The connection is free again, and the next sync is incremental from the job's baseline.
    const sync = await service.sync('contoso');
    expect(sync.fallbackReason).toBeNull();
  });

  it('a work item that keeps failing lands in the poison queue and fails the job with the reason', async () => {
    const service = await serviceWithConnection();
    const { queue, poison } = queues();
    await queue.create();
    const jobs = service.importJobs(new StorageWorkQueue(queue));
    const job = await jobs.start('contoso');
    // The app's secret is revoked mid-import: every Graph call now fails.
    fixture.tenant.revokeConsent(fixture.sim.apps[0]?.clientId ?? '');
    try {
      const stats = await runJob(jobs, queue, poison, job.jobId, 2);
      expect(stats.poisoned).toBeGreaterThan(0);
    } finally {
      fixture.tenant.grantConsent(fixture.sim.apps[0]?.clientId ?? '');
    }
    const progress = await jobs.progress(job.jobId);
    expect(progress.status).toBe('failed');
    expect(progress.error).toMatch(/failed repeatedly/);
    expect((await poison.peekMessages()).peekedMessageItems.length).toBeGreaterThan(0);
    // Nothing vanished silently: the run says failed, and the connection is free for the next run.
    expect(progress.report?.status).toBe('failed');
    expect((await service.import('contoso')).status).toBe('succeeded');
  });
});
