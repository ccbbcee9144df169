import type { ConnectionConfig } from '../config/connection.js';
import { checkDeletionThreshold } from '../engine/threshold.js';
import { ConflictError, isEntraSyncError } from '../errors.js';
import type { GraphReader } from '../graph/reader.js';
import type { ConnectionStore } from '../storage/connections.js';
import type { CursorStore } from '../storage/cursors.js';
import type { EmailClaimStore } from '../storage/email-claims.js';
import type { GroupStore } from '../storage/groups.js';
import type { Lease, LeaseStore } from '../storage/leases.js';
import type { LicenseStore } from '../storage/licenses.js';
import {
  newRunId,
  newRunReport,
  type RunLogEntry,
  type RunMode,
  type RunReport,
  type RunStore,
} from '../storage/runs.js';
import type { Tables } from '../storage/tables.js';
import type { UserStore } from '../storage/users.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { openGraphReader, type GraphAccessOptions } from './graph-source.js';
import { configVersionOf } from './reconcile.js';
import { applyRemovals, type HeldRemovalStore, RemovalQueue } from './removals.js';
import { SeatLedger } from './seats.js';
import { RunTally, type LogSink } from './tally.js';

/** Everything a run reads and writes, built once per process. */
export interface SyncStores {
  readonly tables: Tables;
  readonly connections: ConnectionStore;
  readonly users: UserStore;
  readonly claims: EmailClaimStore;
  readonly groups: GroupStore;
  readonly licenses: LicenseStore;
  readonly cursors: CursorStore;
  readonly leases: LeaseStore;
  readonly runs: RunStore;
  readonly held: HeldRemovalStore;
}

export interface RunProgress {
  readonly runId: string;
  readonly connectionId: string;
  readonly mode: RunMode;
  readonly phase: 'groups' | 'users' | 'sweep' | 'removals' | 'done';
  readonly pages: number;
  readonly usersRead: number;
  readonly actions: Readonly<Record<string, number>>;
}

export interface RunOptions {
  readonly onProgress?: (progress: RunProgress) => void;
  /** For a preview: where the per-user outcomes go (a real run writes them to the run log). */
  readonly previewLog?: LogSink;
}

export interface RunEnvironment {
  readonly stores: SyncStores;
  readonly secrets: SecretStore;
  readonly graph: GraphAccessOptions;
  readonly leaseDurationMs: number;
}

/** A run in progress: what its stages share. */
export class ActiveRun {
  readonly tally = new RunTally();
  readonly removals = new RemovalQueue();
  readonly configVersion: string;
  readonly startedAt = new Date();
  fallbackReason: string | null = null;
  /** Set when the previous run of the connection died: counts kept by runs are recounted. */
  recoveredFromInterruption = false;
  /** Deletions and unlinks applied by this run (not held), for the linked-user count. */
  #unlinked = 0;
  #lastRenew = Date.now();

  constructor(
    readonly env: RunEnvironment,
    readonly config: ConnectionConfig,
    readonly runId: string,
    readonly mode: RunMode,
    readonly reader: GraphReader,
    readonly seats: SeatLedger,
    readonly lease: Lease | undefined,
    readonly log: LogSink,
    readonly options: RunOptions,
  ) {
    this.configVersion = configVersionOf(config);
  }

  get preview(): boolean {
    return this.mode === 'preview';
  }

  get stores(): SyncStores {
    return this.env.stores;
  }

  /** After each page: log lines out, progress reported, lease renewed when half of it is used. */
  async pageDone(phase: RunProgress['phase']): Promise<void> {
    await this.tally.flush(this.log);
    this.progress(phase);
    if (this.lease && Date.now() - this.#lastRenew > this.env.leaseDurationMs / 2) {
      await this.lease.renew();
      this.#lastRenew = Date.now();
    }
  }

  progress(phase: RunProgress['phase']): void {
    this.options.onProgress?.({
      runId: this.runId,
      connectionId: this.config.id,
      mode: this.mode,
      phase,
      pages: this.tally.pages,
      usersRead: this.tally.usersRead,
      actions: this.tally.actions,
    });
  }

  /**
   * The end of a run's reconciliation: queued suspensions and deletions are applied, or held when
   * together they pass the deletion threshold. Returns the held count (0 when applied).
   */
  async settleRemovals(linkedUsers: number): Promise<RunReport['held']> {
    const pending = this.removals.pending();
    const check = checkDeletionThreshold(this.config.policy.deletionThreshold, {
      linkedCount: linkedUsers,
      pendingDeletions: pending.deletions,
      pendingSuspensions: pending.suspensions,
    });
    const items = this.removals.items;
    if (items.length === 0 || this.preview) {
      return check.hold ? { count: check.pending, threshold: check.limit, linkedUsers } : null;
    }
    if (check.hold) {
      await this.stores.held.hold(this.runId, items);
      return { count: check.pending, threshold: check.limit, linkedUsers };
    }
    const { users, claims, licenses, tables } = this.stores;
    const outcome = await applyRemovals(
      { users, usersTable: tables.client('users'), claims, licenses },
      items,
      this.runId,
    );
    this.#unlinked += outcome.unlinked;
    return null;
  }

  /** App users linked after this run, from the count before it and what it did. */
  linkedAfter(linkedBefore: number): number {
    const gained = (this.tally.actions.CREATE ?? 0) + (this.tally.actions.LINK ?? 0);
    return Math.max(0, linkedBefore + gained - this.#unlinked);
  }
}

const NO_LOG: LogSink = {
  write: async () => {
    await Promise.resolve();
  },
};

/**
 * Runs `body` as one run of a connection: under the connection's lease (not for a preview), with a
 * Runs entity that says `running` until the end, a report however it ends, and the lease released.
 */
export async function executeRun(
  env: RunEnvironment,
  config: ConnectionConfig,
  mode: RunMode,
  options: RunOptions,
  body: (run: ActiveRun) => Promise<RunReport['held']>,
): Promise<RunReport> {
  const { stores } = env;
  const runId = newRunId();
  const storageBefore = stores.tables.meter.requests;
  const preview = mode === 'preview';

  let lease: Lease | undefined;
  if (!preview) {
    const result = await stores.leases.acquire(config.id, runId, env.leaseDurationMs);
    if (!result.acquired) {
      throw new ConflictError(
        `Connection ${config.id} is busy: run ${result.holder} holds it until ${result.expiresAt.toISOString()}.`,
        {
          nextStep: 'Wait for that run to finish (see `entra-sync runs`), then try again.',
          details: { holder: result.holder },
        },
      );
    }
    lease = result.lease;
  }

  const startedAt = new Date();
  let report = newRunReport(runId, config.id, mode, startedAt);
  const opened = await openGraphReader(config, env.secrets, env.graph).catch(async (error: unknown) => {
    await lease?.release();
    throw error;
  });
  const ledger = await SeatLedger.open(stores.licenses, config.division, config.licenses.seats, preview);
  const log: LogSink = preview
    ? (options.previewLog ?? NO_LOG)
    : {
        write: async (entries: readonly RunLogEntry[]) => {
          await stores.runs.appendLog(runId, entries);
        },
      };
  const run = new ActiveRun(env, config, runId, mode, opened.reader, ledger, lease, log, options);

  const finish = async (
    status: RunReport['status'],
    held: RunReport['held'],
    error: unknown,
  ): Promise<RunReport> => {
    const finishedAt = new Date();
    const pools = await stores.licenses.list(config.division);
    report = {
      ...report,
      status,
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      fallbackReason: run.fallbackReason,
      usersRead: run.tally.usersRead,
      pages: run.tally.pages,
      situations: run.tally.situations,
      actions: run.tally.actions,
      exceptions: run.tally.exceptions,
      moreExceptions: run.tally.moreExceptions,
      held,
      // The configured pools, also before the first import has created them (a first preview).
      licenses: Object.fromEntries(
        [...new Set([...Object.keys(config.licenses.seats), ...pools.map((pool) => pool.license)])].map(
          (license) => {
            const pool = pools.find((candidate) => candidate.license === license);
            const seats = pool?.seats ?? config.licenses.seats[license] ?? 0;
            return [license, { seats, used: pool?.used ?? 0, demand: ledger.demand.get(license) ?? 0 }];
          },
        ),
      ),
      graphRequests: opened.reader.requests.total,
      storageTransactions: stores.tables.meter.requests - storageBefore,
      error:
        error === undefined
          ? null
          : isEntraSyncError(error)
            ? { code: error.code, message: error.message, nextStep: error.nextStep ?? null }
            : {
                code: 'internal',
                message: error instanceof Error ? error.message : 'unknown error',
                nextStep: null,
              },
    };
    if (!preview) {
      await stores.runs.save(report);
      await stores.connections
        .update(config.id, (current) => ({
          ...current,
          lastRunId: runId,
          lastRunAt: report.finishedAt,
          lastRunStatus: status,
        }))
        .catch(() => undefined);
    }
    return report;
  };

  try {
    if (!preview) {
      run.recoveredFromInterruption = await recoverFromInterruptedRun(env, config);
      await stores.runs.save(report);
      await stores.licenses.configure(config.division, config.licenses.seats);
    }
    const carried = await carryOverHeldRemovals(run);
    const held = await body(run);
    await run.tally.flush(log);
    if (!preview) await supersede(run, carried);
    run.progress('done');
    return await finish(held ? 'deletions_held' : 'succeeded', held, undefined);
  } catch (error) {
    await finish('failed', null, error).catch(() => undefined);
    throw error;
  } finally {
    await opened.close();
    await lease?.release();
  }
}

/**
 * Deletions held by an earlier run are not forgotten when the next run starts: they join this run's
 * queue (unless their user changed since), this run's own decisions drop the ones whose users are back,
 * and what remains is held again or applied with the rest.
 */
async function carryOverHeldRemovals(run: ActiveRun): Promise<string[]> {
  const heldRuns = (await run.stores.runs.list(run.config.id, 20)).filter(
    (report) => report.status === 'deletions_held',
  );
  for (const report of heldRuns) {
    for (const removal of await run.stores.held.toRemovals(report.runId, run.stores.users))
      run.removals.add(removal);
  }
  return heldRuns.map((report) => report.runId);
}

async function supersede(run: ActiveRun, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    const report = await run.stores.runs.get(run.config.id, runId);
    if (report) await run.stores.runs.save({ ...report, status: 'superseded', supersededBy: run.runId });
    await run.stores.held.clear(runId);
  }
}

/**
 * A run that stopped without finishing (a crash, a killed process) left its Runs entity `running` and
 * may have taken licence seats it never used. Under the lease nobody else runs this connection, so the
 * seats of its division are counted again from the users that hold them.
 */
async function recoverFromInterruptedRun(env: RunEnvironment, config: ConnectionConfig): Promise<boolean> {
  const { stores } = env;
  const latest = await stores.runs.latest(config.id);
  if (latest?.status !== 'running') return false;
  await stores.runs.save({
    ...latest,
    status: 'failed',
    error: {
      code: 'interrupted',
      message: 'The run stopped before it finished.',
      nextStep: 'Nothing to do: the next run carried on from where it was safe to.',
    },
  });
  await recountSeats(stores, config);
  return true;
}

/**
 * Sets the seats used in the division's pools from the users that hold them: after a run that died
 * between taking seats and writing its users, or a job whose pages were delivered more than once.
 */
export async function recountSeats(
  stores: SyncStores,
  config: Pick<ConnectionConfig, 'id' | 'division'>,
): Promise<void> {
  const used = new Map<string, number>();
  for (const connection of await stores.connections.list()) {
    if (connection.document.division !== config.division && connection.id !== config.id) continue;
    for await (const user of stores.users.listLinked(connection.id)) {
      if (user.status !== 'deleted' && user.license !== '' && user.division === config.division) {
        used.set(user.license, (used.get(user.license) ?? 0) + 1);
      }
    }
  }
  await stores.licenses.setUsed(config.division, Object.fromEntries(used));
}
