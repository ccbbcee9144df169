import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { validateConnectionConfig, type ConnectionConfig } from '../config/connection.js';
import { createRunContext } from '../engine/run-context.js';
import type { GraphReader } from '../graph/reader.js';
import type { SourceUser } from '../engine/types.js';
import { BadRequestError, ConflictError, EntraSyncError, NotFoundError } from '../errors.js';
import { isStatus, submitInTransactions } from '../storage/batch.js';
import { packChunks, unpackChunk } from '../storage/chunks.js';
import {
  newRunId,
  newRunReport,
  reportFromProperties,
  reportProperties,
  type RunLogEntry,
  type RunReport,
} from '../storage/runs.js';
import { loadGroupDirectory } from './delta-sync.js';
import { namedGroupIds, readAllGroups, reconcileDeps, runFullImport, storedGroupsOf } from './full-import.js';
import { openGraphReader, sourcePropertiesOf, userSelect } from './graph-source.js';
import { reconcileUsers } from './reconcile.js';
import { pageOutcomes, type OutcomePage, type OutcomeQuery } from './outcomes.js';
import type { QueuedRemoval } from './removals.js';
import { ActiveRun, executeRun, recountSeats, type RunEnvironment } from './run.js';
import { runSelectedImport } from './selected-import.js';
import { SeatLedger } from './seats.js';
import type { LogSink } from './tally.js';

/**
 * The queue-driven import: one import job spread over many function executions, so that several
 * instances share a large tenant. A `read` item reads a few pages of users from Graph and stages
 * each as a `page` item; `page` items are reconciled by any worker, in any order, any number of times
 * (the queue delivers at least once, and each page's result overwrites itself); when the last page
 * is done a single `finalize` item sweeps the users no longer in Entra, settles removals against the
 * threshold, moves the cursors and writes the report. Progress and state live in Table Storage.
 */

/** Selected users travel in the queue message (64 KB at most): a few hundred ids or names fit. */
export const MAX_SELECTED_USERS = 500;

export const importJobMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('read'),
    jobId: z.string().min(1),
    pageNo: z.int().min(0),
    nextLink: z.string().optional(),
  }),
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('page'),
    jobId: z.string().min(1),
    pageNo: z.int().min(0),
  }),
  z.strictObject({ v: z.literal(1), kind: z.literal('finalize'), jobId: z.string().min(1) }),
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('selected'),
    jobId: z.string().min(1),
    users: z.array(z.string().min(1)).min(1).max(MAX_SELECTED_USERS),
  }),
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('preview'),
    jobId: z.string().min(1),
    users: z.array(z.string().min(1)).min(1).max(MAX_SELECTED_USERS).optional(),
  }),
]);
export type ImportJobMessage = z.infer<typeof importJobMessageSchema>;

/** Where work items go: the import queue (a storage queue in Azure). */
export interface WorkQueue {
  send(message: ImportJobMessage): Promise<void>;
}

export type JobStatus =
  'queued' | 'reading' | 'processing' | 'finalizing' | 'succeeded' | 'deletions_held' | 'failed';

/** A full import spread over the queue, an import of selected users, or a preview (writes nothing). */
export type JobKind = 'import' | 'selected' | 'preview';

/** Counts of a job that runs in one execution (selected, preview), saved as it goes. */
export interface LiveCounts {
  usersProcessed: number;
  situations: Record<string, number>;
  actions: Record<string, number>;
}

export interface JobState {
  jobId: string;
  kind: JobKind;
  connectionId: string;
  runId: string;
  status: JobStatus;
  createdAt: string;
  finishedAt: string | null;
  pagesRead: number;
  readDone: boolean;
  usersBaseline: string;
  groupsBaseline: string;
  configVersion: string;
  linkedBefore: number;
  firstImport: boolean;
  /** A page was delivered more than once: seats may have been taken twice and are counted again at the end. */
  redelivered: boolean;
  error: string | null;
  live: LiveCounts | null;
  etag?: string;
}

export interface JobProgress {
  jobId: string;
  kind: JobKind;
  connectionId: string;
  runId: string;
  status: JobStatus;
  pagesRead: number;
  readDone: boolean;
  pagesDone: number;
  usersProcessed: number;
  situations: Record<string, number>;
  actions: Record<string, number>;
  error: string | null;
  report: RunReport | null;
}

interface PageResult {
  situations: Record<string, number>;
  actions: Record<string, number>;
  usersRead: number;
  exceptions: RunReport['exceptions'];
  removals: QueuedRemoval[];
  seen: string[];
  graphRequests: number;
  storageRequests: number;
}

/** Pages a `read` item reads before it hands on to the next one: bounded work per execution. */
const PAGES_PER_READ = 10;
const JOB_ROW = 'job';
/** A preview's report: it is no run of the connection, so it lives with its job, not in the Runs table. */
const PREVIEW_REPORT_ROW = 'report';
/** How often a preview saves its counts, so the console's progress bar moves without a write per page. */
const LIVE_SAVE_INTERVAL_MS = 1_000;
const JOB_LEASE_MS = 15 * 60_000;

const pageKey = (pageNo: number): string => `page|${String(pageNo).padStart(7, '0')}`;
const resultKey = (pageNo: number): string => `result|${String(pageNo).padStart(7, '0')}`;

export function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class ImportJobs {
  readonly #env: RunEnvironment;
  readonly #queue: WorkQueue;
  readonly #table: TableClient;

  constructor(env: RunEnvironment, queue: WorkQueue) {
    this.#env = env;
    this.#queue = queue;
    this.#table = env.stores.tables.client('jobs');
  }

  /** Creates the job under the connection's lease and queues its first read. */
  /**
   * Creates the job and queues its first item. A full import holds the connection's lease for the
   * whole job; an import of selected users is one item that runs like the CLI's, under its own lease.
   */
  async start(connectionId: string, options: { users?: readonly string[] } = {}): Promise<JobState> {
    const { stores } = this.#env;
    const config = await this.#config(connectionId);
    if (!config.enabled) {
      throw new BadRequestError(`Connection ${connectionId} is disabled.`, {
        nextStep: 'Enable it to import.',
      });
    }
    const jobId = newJobId();
    if (options.users !== undefined) {
      const job = this.#newJob(jobId, 'selected', connectionId, '');
      await this.#table.createEntity(this.#toEntity(job));
      await this.#queue.send({ v: 1, kind: 'selected', jobId, users: [...options.users] });
      return job;
    }
    const lease = await stores.leases.acquire(connectionId, jobId, JOB_LEASE_MS);
    if (!lease.acquired) {
      throw new ConflictError(
        `Connection ${connectionId} is busy: ${lease.holder} holds it until ${lease.expiresAt.toISOString()}.`,
        {
          nextStep: 'Wait for that run or job to finish, then start the import again.',
        },
      );
    }
    const runId = newRunId();
    const job = this.#newJob(jobId, 'import', connectionId, runId);
    await this.#table.createEntity(this.#toEntity(job));
    await stores.runs.save(newRunReport(runId, connectionId, 'import', new Date(job.createdAt)));
    await this.#queue.send({ v: 1, kind: 'read', jobId, pageNo: 0 });
    return job;
  }

  /**
   * Starts a preview as a job: a large tenant's preview outlasts an HTTP request, and the console pages
   * through its lines. It takes no lease, since it writes nothing but its own lines and report.
   */
  async startPreview(connectionId: string, options: { users?: readonly string[] } = {}): Promise<JobState> {
    await this.#config(connectionId);
    const job = this.#newJob(newJobId(), 'preview', connectionId, '');
    await this.#table.createEntity(this.#toEntity(job));
    await this.#queue.send({
      v: 1,
      kind: 'preview',
      jobId: job.jobId,
      ...(options.users ? { users: [...options.users] } : {}),
    });
    return job;
  }

  #newJob(jobId: string, kind: JobKind, connectionId: string, runId: string): JobState {
    return {
      jobId,
      kind,
      connectionId,
      runId,
      status: 'queued',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      pagesRead: 0,
      readDone: false,
      usersBaseline: '',
      groupsBaseline: '',
      configVersion: '',
      linkedBefore: 0,
      firstImport: false,
      redelivered: false,
      error: null,
      live: null,
    };
  }

  async get(jobId: string): Promise<JobState> {
    try {
      return this.#fromEntity(await this.#table.getEntity(jobId, JOB_ROW));
    } catch (error) {
      if (isStatus(error, 404)) throw new NotFoundError(`There is no import job ${jobId}.`);
      throw error;
    }
  }

  /** Where the job stands: pages read and done, users processed, counts so far, the report at the end. */
  async progress(jobId: string): Promise<JobProgress> {
    const job = await this.get(jobId);
    const results = await this.#results(jobId);
    const situations: Record<string, number> = {};
    const actions: Record<string, number> = {};
    let usersProcessed = 0;
    for (const result of results.values()) {
      add(situations, result.situations);
      add(actions, result.actions);
      usersProcessed += result.usersRead;
    }
    if (job.live) {
      add(situations, job.live.situations);
      add(actions, job.live.actions);
      usersProcessed += job.live.usersProcessed;
    }
    const finished = job.status === 'succeeded' || job.status === 'deletions_held' || job.status === 'failed';
    const report = !finished
      ? null
      : job.kind === 'preview'
        ? await this.#previewReport(jobId)
        : ((await this.#env.stores.runs.get(job.connectionId, job.runId)) ?? null);
    return {
      jobId,
      kind: job.kind,
      connectionId: job.connectionId,
      runId: job.runId,
      status: job.status,
      pagesRead: job.pagesRead,
      readDone: job.readDone,
      pagesDone: results.size,
      usersProcessed,
      situations,
      actions,
      error: job.error,
      report,
    };
  }

  /** A page of the job's per-user lines: a preview's outcomes, or the log of the import's run. */
  async outcomes(jobId: string, query: OutcomeQuery): Promise<OutcomePage> {
    const job = await this.get(jobId);
    const logId = job.kind === 'preview' ? job.jobId : job.runId;
    if (logId === '') return await pageOutcomes([], query);
    return await pageOutcomes(this.#env.stores.runs.readLog(logId), query);
  }

  /** Handles one work item. Throws on failure so that the queue delivers it again (and finally poisons it). */
  async handle(raw: unknown, delivery: { dequeueCount: number } = { dequeueCount: 1 }): Promise<void> {
    const message = importJobMessageSchema.parse(raw);
    const job = await this.get(message.jobId);
    if (job.status === 'succeeded' || job.status === 'deletions_held' || job.status === 'failed') return;
    switch (message.kind) {
      case 'read':
        await this.#read(job, message);
        return;
      case 'page':
        await this.#page(job, message.pageNo, delivery.dequeueCount);
        return;
      case 'finalize':
        await this.#finalize(job);
        return;
      case 'selected':
        await this.#selected(job, message.users);
        return;
      case 'preview':
        await this.#preview(job, message.users);
        return;
    }
  }

  /** A work item that kept failing (the poison queue): the job fails with the reason, visibly. */
  async fail(raw: unknown, reason: string): Promise<void> {
    const parsed = importJobMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const job = await this.get(parsed.data.jobId);
    if (job.status === 'succeeded' || job.status === 'failed') return;
    const detail = `Work item ${parsed.data.kind}${'pageNo' in parsed.data ? ` ${parsed.data.pageNo}` : ''} failed repeatedly: ${reason}`;
    await this.#update(job.jobId, (current) => ({
      ...current,
      status: 'failed',
      error: detail,
      finishedAt: new Date().toISOString(),
    }));
    const report = await this.#env.stores.runs.get(job.connectionId, job.runId);
    if (report) {
      await this.#env.stores.runs.save({
        ...report,
        status: 'failed',
        finishedAt: new Date().toISOString(),
        error: {
          code: 'job_failed',
          message: detail,
          nextStep: 'Fix the cause named here, then start the import again.',
        },
      });
    }
    await this.#releaseLease(job);
  }

  // ---------------------------------------------------------------------------------------------
  // Work items

  async #read(job: JobState, message: Extract<ImportJobMessage, { kind: 'read' }>): Promise<void> {
    const { stores } = this.#env;
    const config = await this.#config(job.connectionId);
    await this.#renewLease(job);
    const opened = await openGraphReader(config, this.#env.secrets, this.#env.graph);
    try {
      const select = userSelect(config);
      if (message.pageNo === 0 && job.status === 'queued') {
        // The first read takes the baselines and the groups, which every page worker reads back.
        const run = await this.#jobRun(job.runId, config, opened.reader, noLog);
        const usersBaseline = await opened.reader.latestDeltaLink('users', { select });
        const groups = await readAllGroups(run);
        await stores.groups.replaceAll(config.id, storedGroupsOf(groups.directory, groups.relevant));
        await stores.licenses.configure(config.division, config.licenses.seats);
        const index = await stores.users.loadIndex(config.id);
        let linkedBefore = 0;
        for (const entry of index.values()) if (entry.status !== 'deleted') linkedBefore += 1;
        await this.#update(job.jobId, (state) => ({
          ...state,
          status: 'reading',
          usersBaseline,
          groupsBaseline: groups.deltaLink ?? '',
          configVersion: run.configVersion,
          linkedBefore,
          firstImport: index.size === 0,
        }));
      }
      let pageNo = message.pageNo;
      let nextLink = message.nextLink;
      let pagesThisItem = 0;
      const pages = opened.reader.listUsers(nextLink ? { continueFrom: nextLink } : { select });
      for await (const page of pages) {
        const users = page.items.map((user) => ({
          id: user.id.toLowerCase(),
          properties: sourcePropertiesOf(user),
        }));
        await this.#stagePage(
          job.jobId,
          pageNo,
          users,
          page.rejected.map((rejected) => ({
            id: rejected.id ?? `item ${rejected.index}`,
            reason: rejected.reason,
          })),
        );
        await this.#queue.send({ v: 1, kind: 'page', jobId: job.jobId, pageNo });
        pageNo += 1;
        pagesThisItem += 1;
        nextLink = page.nextLink;
        await this.#update(job.jobId, (state) => ({
          ...state,
          pagesRead: Math.max(state.pagesRead, pageNo),
        }));
        if (pagesThisItem >= PAGES_PER_READ && nextLink) {
          await this.#queue.send({ v: 1, kind: 'read', jobId: job.jobId, pageNo, nextLink });
          return;
        }
      }
      await this.#update(job.jobId, (state) => ({ ...state, readDone: true, status: 'processing' }));
      await this.#finalizeWhenDone(job.jobId);
    } finally {
      await opened.close();
    }
  }

  async #page(job: JobState, pageNo: number, dequeueCount: number): Promise<void> {
    const { stores } = this.#env;
    if (dequeueCount > 1 && !job.redelivered)
      await this.#update(job.jobId, (state) => ({ ...state, redelivered: true }));
    // A page whose result is stored is done: a redelivery only checks whether the job can finish.
    if (await this.#hasResult(job.jobId, pageNo)) {
      await this.#finalizeWhenDone(job.jobId);
      return;
    }
    const config = await this.#config(job.connectionId);
    const staged = await this.#readStaged(job.jobId, pageNo);
    const { directory, relevant } = await loadGroupDirectory(stores, config.id);
    const context = createRunContext(config, directory.entraGroups());
    const memberships = directory.directMemberships(
      relevant.size > 0
        ? relevant
        : directory.relevantGroups(namedGroupIds(context), config.scope.nestedGroups),
    );
    const opened = await openGraphReader(config, this.#env.secrets, this.#env.graph);
    const storageBefore = stores.tables.meter.requests;
    try {
      const entries: RunLogEntry[] = [];
      const log: LogSink = {
        write: async (written) => {
          entries.push(...written);
          await Promise.resolve();
        },
      };
      const run = await this.#jobRun(job.runId, config, opened.reader, log);
      for (const rejected of staged.rejected) run.tally.rejected(rejected.id, rejected.reason);
      const sources: SourceUser[] = staged.users.map((user) => ({
        id: user.id,
        properties: user.properties,
        removal: null,
        memberOf: memberships.get(user.id) ?? [],
      }));
      // On a first import nobody is stored yet, so the first delivery skips the reads; a redelivery reads.
      const index = job.firstImport && dequeueCount <= 1 ? new Map() : undefined;
      await reconcileUsers({ ...reconcileDeps(run, context, index) }, sources);
      await run.tally.flush(log);
      await stores.runs.writeLogPart(job.runId, `page-${String(pageNo).padStart(7, '0')}`, entries);
      const result: PageResult = {
        situations: run.tally.situations,
        actions: run.tally.actions,
        usersRead: sources.length,
        exceptions: run.tally.exceptions,
        removals: run.removals.items,
        seen: sources.map((source) => source.id),
        graphRequests: opened.reader.requests.total,
        storageRequests: stores.tables.meter.requests - storageBefore,
      };
      await this.#writeResult(job.jobId, pageNo, result);
    } finally {
      await opened.close();
    }
    await this.#finalizeWhenDone(job.jobId);
  }

  async #finalize(job: JobState): Promise<void> {
    if (job.status !== 'finalizing') return;
    const { stores } = this.#env;
    const config = await this.#config(job.connectionId);
    await this.#renewLease(job);
    const results = await this.#results(job.jobId);
    const opened = await openGraphReader(config, this.#env.secrets, this.#env.graph);
    try {
      const run = await this.#jobRun(job.runId, config, opened.reader, {
        write: async (entries) => {
          await stores.runs.writeLogPart(job.runId, 'finalize', entries);
        },
      });
      const seen = new Set<string>();
      let graphRequests = 0;
      let storageRequests = 0;
      for (const result of results.values()) {
        add(run.tally.situations, result.situations);
        add(run.tally.actions, result.actions);
        run.tally.usersRead += result.usersRead;
        run.tally.pages += 1;
        for (const exception of result.exceptions)
          run.tally.exception(exception.user, exception.situation, exception.reason);
        for (const removal of result.removals) run.removals.add(removal);
        for (const id of result.seen) seen.add(id);
        graphRequests += result.graphRequests;
        storageRequests += result.storageRequests;
      }
      // Sweep: linked users the read did not return are gone from Entra.
      const index = await stores.users.loadIndex(config.id);
      const gone: SourceUser[] = [];
      for (const [id, entry] of index) {
        if (!seen.has(id) && entry.status !== 'deleted')
          gone.push({ id, properties: {}, removal: 'missingFromFullImport', memberOf: [] });
      }
      const { directory } = await loadGroupDirectory(stores, config.id);
      const context = createRunContext(config, directory.entraGroups());
      for (let start = 0; start < gone.length; start += 500) {
        await reconcileUsers(reconcileDeps(run, context, index), gone.slice(start, start + 500));
      }
      await run.tally.flush(run.log);
      if ((await this.get(job.jobId)).redelivered) await recountSeats(stores, config);
      const held = await run.settleRemovals(job.linkedBefore);
      const usersCursor = await stores.cursors.get(config.id, 'users');
      const groupsCursor = await stores.cursors.get(config.id, 'groups');
      await stores.cursors.put(
        config.id,
        'users',
        {
          deltaLink: job.usersBaseline,
          runId: job.runId,
          configVersion: job.configVersion,
          linkedUsers: run.linkedAfter(job.linkedBefore),
        },
        usersCursor?.etag,
      );
      if (job.groupsBaseline !== '') {
        await stores.cursors.put(
          config.id,
          'groups',
          { deltaLink: job.groupsBaseline, runId: job.runId, configVersion: job.configVersion },
          groupsCursor?.etag,
        );
      }
      const status = held ? 'deletions_held' : 'succeeded';
      const finishedAt = new Date();
      const previous = await stores.runs.get(config.id, job.runId);
      const startedAt = previous?.startedAt ?? job.createdAt;
      const pools = await stores.licenses.list(config.division);
      await stores.runs.save({
        ...newRunReport(job.runId, config.id, 'import', new Date(job.createdAt)),
        status,
        startedAt,
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - Date.parse(startedAt),
        usersRead: run.tally.usersRead,
        pages: run.tally.pages,
        situations: run.tally.situations,
        actions: run.tally.actions,
        exceptions: run.tally.exceptions,
        moreExceptions: run.tally.moreExceptions,
        held,
        licenses: Object.fromEntries(
          pools.map((pool) => [pool.license, { seats: pool.seats, used: pool.used, demand: 0 }]),
        ),
        graphRequests: graphRequests + opened.reader.requests.total,
        storageTransactions: storageRequests + run.stores.tables.meter.requests,
      });
      await this.#update(job.jobId, (state) => ({ ...state, status, finishedAt: finishedAt.toISOString() }));
      await this.#cleanStaging(job.jobId);
      await this.#releaseLease(job);
    } finally {
      await opened.close();
    }
  }

  async #selected(job: JobState, users: readonly string[]): Promise<void> {
    const config = await this.#config(job.connectionId);
    const report = await executeRun(
      this.#env,
      config,
      'import',
      {},
      async (run) => await runSelectedImport(run, users),
    );
    const status =
      report.status === 'deletions_held'
        ? 'deletions_held'
        : report.status === 'failed'
          ? 'failed'
          : 'succeeded';
    await this.#update(job.jobId, (state) => ({
      ...state,
      runId: report.runId,
      status,
      pagesRead: 1,
      readDone: true,
      finishedAt: report.finishedAt,
      error: report.error?.message ?? null,
    }));
  }

  /**
   * A preview in one execution: its lines go to the run log under the job's id (a redelivery starts
   * them afresh), its counts to the job every second, its report to the job's partition.
   */
  async #preview(job: JobState, users: readonly string[] | undefined): Promise<void> {
    const { runs } = this.#env.stores;
    const config = await this.#config(job.connectionId);
    await runs.clearLog(job.jobId);
    await this.#update(job.jobId, (state) => ({ ...state, status: 'processing', live: null }));
    let lastSave = Date.now();
    let saving: Promise<unknown> = Promise.resolve();
    const report = await executeRun(
      this.#env,
      config,
      'preview',
      {
        previewLog: {
          write: async (entries) => {
            await runs.appendLog(job.jobId, entries);
          },
        },
        onProgress: (progress) => {
          if (Date.now() - lastSave < LIVE_SAVE_INTERVAL_MS) return;
          lastSave = Date.now();
          const live: LiveCounts = {
            usersProcessed: progress.usersRead,
            situations: {},
            actions: { ...progress.actions },
          };
          // Counts are a courtesy to the watcher: one save at a time, and a failed one is not fatal.
          saving = saving.then(() => this.#update(job.jobId, (state) => ({ ...state, live }))).catch(() => 0);
        },
      },
      async (run) => (users ? await runSelectedImport(run, users) : await runFullImport(run)),
    );
    await saving;
    await this.#table.upsertEntity(
      { partitionKey: job.jobId, rowKey: PREVIEW_REPORT_ROW, ...reportProperties(report) },
      'Replace',
    );
    await this.#update(job.jobId, (state) => ({
      ...state,
      runId: report.runId,
      status: 'succeeded',
      pagesRead: report.pages,
      readDone: true,
      finishedAt: report.finishedAt,
      error: report.error?.message ?? null,
      live: { usersProcessed: report.usersRead, situations: report.situations, actions: report.actions },
    }));
  }

  async #previewReport(jobId: string): Promise<RunReport | null> {
    try {
      return reportFromProperties(await this.#table.getEntity(jobId, PREVIEW_REPORT_ROW));
    } catch (error) {
      if (isStatus(error, 404)) return null;
      throw error;
    }
  }

  /** A run of this job in one execution: its seats, its log; the job holds the lease. */
  async #jobRun(
    runId: string,
    config: ConnectionConfig,
    reader: GraphReader,
    log: LogSink,
  ): Promise<ActiveRun> {
    const { licenses } = this.#env.stores;
    const ledger = await SeatLedger.open(licenses, config.division, config.licenses.seats, false);
    return new ActiveRun(this.#env, config, runId, 'import', reader, ledger, undefined, log, {});
  }

  /** Whoever sees the last page done moves the job to finalizing (once, by ETag) and queues the finalize. */
  async #finalizeWhenDone(jobId: string): Promise<void> {
    const job = await this.get(jobId);
    if (!job.readDone || job.status !== 'processing') return;
    const done = await this.#countResults(jobId);
    if (done < job.pagesRead) return;
    try {
      await this.#table.updateEntity(this.#toEntity({ ...job, status: 'finalizing' }), 'Replace', {
        etag: job.etag ?? '*',
      });
    } catch (error) {
      if (isStatus(error, 412)) return; // another worker got there first
      throw error;
    }
    await this.#queue.send({ v: 1, kind: 'finalize', jobId });
  }

  // ---------------------------------------------------------------------------------------------
  // Storage of the job

  async #config(connectionId: string): Promise<ConnectionConfig> {
    const stored = await this.#env.stores.connections.get(connectionId);
    if (!stored) throw new NotFoundError(`There is no connection ${connectionId}.`);
    const validation = validateConnectionConfig(stored.document);
    if (!validation.ok)
      throw new EntraSyncError(
        'settings_invalid',
        `The stored document of connection ${connectionId} is not valid.`,
      );
    return { ...validation.config, enabled: stored.enabled };
  }

  async #renewLease(job: JobState): Promise<void> {
    const lease = await this.#env.stores.leases.acquire(job.connectionId, job.jobId, JOB_LEASE_MS);
    if (!lease.acquired)
      throw new ConflictError(
        `Connection ${job.connectionId} was taken over by ${lease.holder}; job ${job.jobId} stops.`,
      );
  }

  async #releaseLease(job: JobState): Promise<void> {
    const lease = await this.#env.stores.leases.acquire(job.connectionId, job.jobId, 1);
    if (lease.acquired) await lease.lease.release();
  }

  async #update(jobId: string, change: (job: JobState) => JobState): Promise<JobState> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await this.get(jobId);
      const next = change(current);
      try {
        const response = await this.#table.updateEntity(this.#toEntity(next), 'Replace', {
          etag: current.etag ?? '*',
        });
        return { ...next, ...(response.etag ? { etag: response.etag } : {}) };
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw new Error(`Job ${jobId} is changing too often to update`);
  }

  async #stagePage(
    jobId: string,
    pageNo: number,
    users: { id: string; properties: SourceUser['properties'] }[],
    rejected: { id: string; reason: string }[],
  ): Promise<void> {
    const chunks = packChunks(
      [{ rejected }, ...users],
      jobId,
      (index) => `${pageKey(pageNo)}|${String(index).padStart(3, '0')}`,
    );
    await submitInTransactions(
      this.#table,
      chunks.map((chunk): TransactionAction => ['upsert', chunk, 'Replace']),
    );
  }

  async #readStaged(
    jobId: string,
    pageNo: number,
  ): Promise<{
    users: { id: string; properties: SourceUser['properties'] }[];
    rejected: { id: string; reason: string }[];
  }> {
    const prefix = `${pageKey(pageNo)}|`;
    const items: unknown[] = [];
    const entities = this.#table.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${jobId} and RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`,
      },
    });
    for await (const entity of entities) items.push(...unpackChunk<unknown>(entity));
    const [head, ...users] = items as [
      { rejected: { id: string; reason: string }[] } | undefined,
      ...{ id: string; properties: SourceUser['properties'] }[],
    ];
    return { users, rejected: head?.rejected ?? [] };
  }

  /**
   * Stores what a page did. Two deliveries of one page can run at once (at-least-once delivery); their
   * writes are idempotent, but only one may count: each writes its chunks under its own attempt id,
   * then inserts the page's marker naming it. The insert that loses leaves the winner's account alone.
   */
  async #writeResult(jobId: string, pageNo: number, result: PageResult): Promise<void> {
    const attempt = randomBytes(4).toString('hex');
    // One list item per user, exception and removal: no single item outgrows a table property.
    const { seen, removals, exceptions, ...head } = result;
    const items = [
      head,
      ...seen.map((id) => ({ id })),
      ...exceptions.map((exception) => ({ exception })),
      ...removals.map((removal) => ({ removal })),
    ];
    const prefix = `${resultKey(pageNo)}|${attempt}|`;
    const chunks = packChunks(items, jobId, (index) => `${prefix}${String(index).padStart(3, '0')}`);
    await submitInTransactions(
      this.#table,
      chunks.map((chunk): TransactionAction => ['upsert', chunk, 'Replace']),
    );
    try {
      await this.#table.createEntity({ partitionKey: jobId, rowKey: resultKey(pageNo), attempt });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      await submitInTransactions(
        this.#table,
        chunks.map((chunk): TransactionAction => ['delete', { partitionKey: jobId, rowKey: chunk.rowKey }]),
      );
    }
  }

  async #results(jobId: string): Promise<Map<number, PageResult>> {
    const winners = new Map<number, string>();
    const parts = new Map<string, unknown[]>();
    const entities = this.#table.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${jobId} and RowKey ge ${'result|'} and RowKey lt ${'result|~'}`,
      },
    });
    for await (const entity of entities) {
      const [, page, attempt] = String(entity.rowKey).split('|');
      if (attempt === undefined) {
        winners.set(Number(page), String(entity.attempt));
        continue;
      }
      const key = `${String(page)}|${attempt}`;
      const list = parts.get(key) ?? [];
      list.push(...unpackChunk<unknown>(entity));
      parts.set(key, list);
    }
    const results = new Map<number, PageResult>();
    for (const [pageNo, attempt] of winners) {
      const items = parts.get(`${resultKey(pageNo).split('|')[1] ?? ''}|${attempt}`) ?? [];
      const [head, ...rest] = items as [
        Omit<PageResult, 'seen' | 'removals' | 'exceptions'>,
        ...({ id: string } | { removal: QueuedRemoval } | { exception: RunReport['exceptions'][number] })[],
      ];
      const result: PageResult = { ...head, seen: [], removals: [], exceptions: [] };
      for (const item of rest) {
        if ('id' in item) result.seen.push(item.id);
        else if ('removal' in item) result.removals.push(item.removal);
        else result.exceptions.push(item.exception);
      }
      results.set(pageNo, result);
    }
    return results;
  }

  async #hasResult(jobId: string, pageNo: number): Promise<boolean> {
    try {
      await this.#table.getEntity(jobId, resultKey(pageNo));
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  /** Pages done: the markers (`result|<n>`, without an attempt). */
  async #countResults(jobId: string): Promise<number> {
    let done = 0;
    const entities = this.#table.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${jobId} and RowKey ge ${'result|'} and RowKey lt ${'result|~'}`,
        select: ['RowKey'],
      },
    });
    for await (const entity of entities) if (String(entity.rowKey).split('|').length === 2) done += 1;
    return done;
  }

  async #cleanStaging(jobId: string): Promise<void> {
    const actions: TransactionAction[] = [];
    const entities = this.#table.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${jobId} and RowKey ge ${'page|'} and RowKey lt ${'page|~'}`,
        select: ['RowKey'],
      },
    });
    for await (const entity of entities)
      actions.push(['delete', { partitionKey: jobId, rowKey: String(entity.rowKey) }]);
    await submitInTransactions(this.#table, actions);
  }

  #toEntity(job: JobState): Record<string, unknown> & { partitionKey: string; rowKey: string } {
    const { etag: _etag, ...rest } = job;
    return {
      partitionKey: job.jobId,
      rowKey: JOB_ROW,
      ...rest,
      finishedAt: rest.finishedAt ?? '',
      error: rest.error ?? '',
      live: rest.live ? JSON.stringify(rest.live) : '',
    };
  }

  #fromEntity(entity: Record<string, unknown>): JobState {
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    return {
      jobId: text(entity.jobId),
      kind: (text(entity.kind) || 'import') as JobKind,
      connectionId: text(entity.connectionId),
      runId: text(entity.runId),
      status: text(entity.status) as JobStatus,
      createdAt: text(entity.createdAt),
      finishedAt: text(entity.finishedAt) || null,
      pagesRead: Number(entity.pagesRead ?? 0),
      readDone: entity.readDone === true,
      usersBaseline: text(entity.usersBaseline),
      groupsBaseline: text(entity.groupsBaseline),
      configVersion: text(entity.configVersion),
      linkedBefore: Number(entity.linkedBefore ?? 0),
      firstImport: entity.firstImport === true,
      redelivered: entity.redelivered === true,
      error: text(entity.error) || null,
      live: text(entity.live) ? (JSON.parse(text(entity.live)) as LiveCounts) : null,
      ...(typeof entity.etag === 'string' ? { etag: entity.etag } : {}),
    };
  }
}

const noLog: LogSink = {
  write: async () => {
    await Promise.resolve();
  },
};

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}
