import { QueueClient } from '@azure/storage-queue';
import { StorageWorkQueue } from '../../shared/storage/work-queue.js';
import type { JobStatus } from '../../shared/sync/import-jobs.js';
import { runQueueWorkers } from '../../test/harness/queue-workers.js';
import { readInputLine, spawnScenario, type ScenarioSpec } from '../support/child.js';
import type { BenchEnvironment } from '../support/environment.js';
import { benchConnection, benchService, CONNECTION_ID, meterByTable } from '../support/service.js';
import type { Measured } from './measured.js';

/**
 * Scenario 4, the queue-driven import: the import job of the Function app (shared/sync/import-jobs.ts)
 * handled by N workers, each a process of its own as Function instances are, taking work items from
 * the Azurite queue the way the Functions queue trigger does (test/harness/queue-workers.ts). The
 * workers start first and wait; the clock runs from the job's start until its last item is done.
 */
const QUEUE = 'bench-import';
const TERMINAL: readonly JobStatus[] = ['succeeded', 'deletions_held', 'failed'];
/** The orchestrator stops the coordinator sooner; its workers then go with it. */
const WORKER_TIMEOUT_MS = 2 * 60 * 60_000;

function queues(env: BenchEnvironment): { queue: QueueClient; poison: QueueClient } {
  return {
    queue: new QueueClient(env.azurite, QUEUE),
    poison: new QueueClient(env.azurite, `${QUEUE}-poison`),
  };
}

/** The coordinator: starts the workers, then the job, and waits for both. */
export async function queueScenario(spec: ScenarioSpec, groupIds: readonly string[]): Promise<Measured> {
  const { env, users } = spec;
  const workers = spec.workers ?? 1;
  const service = await benchService(env);
  await service.applyConnection(benchConnection(env, groupIds, users));
  const { queue } = queues(env);
  await queue.createIfNotExists();
  const jobs = service.importJobs(new StorageWorkQueue(queue));

  const children = Array.from({ length: workers }, () =>
    spawnScenario({ ...spec, kind: 'queue-worker' }, WORKER_TIMEOUT_MS),
  );
  try {
    await Promise.all(
      children.map(async (child) => {
        await child.ready;
      }),
    );
    const started = performance.now();
    const job = await jobs.start(CONNECTION_ID);
    for (const child of children) child.send(job.jobId);
    const results = await Promise.all(children.map(async (child) => await child.result));
    const seconds = (performance.now() - started) / 1000;
    const progress = await jobs.progress(job.jobId);
    if (progress.status !== 'succeeded' || !progress.report) {
      throw new Error(`The import job ended ${progress.status}: ${progress.error ?? 'no error given'}`);
    }
    // Every table request of the job, from every process: the workers' own counts and the start's.
    const storage =
      service.stores.tables.meter.requests +
      results.reduce((sum, result) => sum + (result.storageTransactions ?? 0), 0);
    return {
      seconds,
      usersProcessed: progress.report.usersRead,
      storageTransactions: storage,
      details: {
        storageTransactionsByRunReport: progress.report.storageTransactions,
        workers,
        pages: progress.pagesDone,
        actions: progress.report.actions,
        itemsHandled: results.map((result) => result.details.handled),
        storageByTable: results.map((result) => result.details.storageByTable),
        workerPeakRssMb: results.map((result) => result.peakRssMb),
        workersCpuSeconds: results.reduce((sum, result) => sum + result.cpuSeconds, 0),
        graphRequestsByRun: progress.report.graphRequests,
      },
    };
  } finally {
    for (const child of children) child.kill();
  }
}

/** One worker process: waits for the job id, then takes items until the job is over. */
export async function queueWorker(env: BenchEnvironment): Promise<Measured> {
  const service = await benchService(env);
  const storageByTable = meterByTable(service);
  const { queue, poison } = queues(env);
  const jobs = service.importJobs(new StorageWorkQueue(queue));
  const jobId = await readInputLine();
  const started = performance.now();
  const stats = await runQueueWorkers(
    queue,
    poison,
    async (message, dequeueCount) => {
      await jobs.handle(message, { dequeueCount });
    },
    async (message) => {
      await jobs.fail(message, 'kept failing');
    },
    {
      workers: 1,
      maxDequeueCount: 5,
      // Long enough that no page is delivered twice while it is being handled.
      visibilityTimeoutSeconds: 300,
      timeoutMs: WORKER_TIMEOUT_MS,
      // The host's polling backs off on an empty queue; so do these, so that idle workers do not load
      // Azurite with polls while one of them reads Graph.
      idlePoll: { minMs: 50, maxMs: 800 },
      done: async () => TERMINAL.includes((await jobs.get(jobId)).status),
    },
  );
  return {
    seconds: (performance.now() - started) / 1000,
    usersProcessed: 0,
    storageTransactions: service.stores.tables.meter.requests,
    details: {
      handled: stats.handled,
      failed: stats.failed,
      poisoned: stats.poisoned,
      lastError: stats.lastError,
      storageByTable: storageByTable(),
    },
  };
}
