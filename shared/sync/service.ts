import { validateConnectionConfig, type ConnectionConfig } from '../config/connection.js';
import { isSyncDue } from '../config/schedule.js';
import { BadRequestError, ConflictError, NotFoundError, SettingsError } from '../errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { StorageClients } from '../storage/clients.js';
import { ConnectionStore, type StoredConnection } from '../storage/connections.js';
import { CursorStore } from '../storage/cursors.js';
import { EmailClaimStore } from '../storage/email-claims.js';
import { GroupStore } from '../storage/groups.js';
import { LeaseStore } from '../storage/leases.js';
import { LicenseStore } from '../storage/licenses.js';
import { RunStore, type RunLogEntry, type RunReport } from '../storage/runs.js';
import { Tables } from '../storage/tables.js';
import { UserStore, type StoredUser } from '../storage/users.js';
import { runDeltaSync } from './delta-sync.js';
import { runFullImport } from './full-import.js';
import { ImportJobs, type WorkQueue } from './import-jobs.js';
import { openGraphReader, type GraphAccessOptions } from './graph-source.js';
import { pageOutcomes, type OutcomePage, type OutcomeQuery } from './outcomes.js';
import { applyRemovals, HeldRemovalStore, type RemovalAction } from './removals.js';
import { executeRun, type RunEnvironment, type RunOptions, type SyncStores } from './run.js';
import { runSelectedImport } from './selected-import.js';

export interface SyncServiceOptions {
  readonly storage: StorageClients;
  readonly tablePrefix: string;
  readonly secrets: SecretStore;
  readonly graph: GraphAccessOptions;
  /** How long a run holds its connection before it must renew. Default 10 minutes. */
  readonly leaseDurationMs?: number;
}

export type TickOutcome =
  | { connectionId: string; outcome: 'synced'; runId: string; status: RunReport['status'] }
  | { connectionId: string; outcome: 'disabled' | 'not_due' }
  | { connectionId: string; outcome: 'skipped_busy' | 'failed'; reason: string };

export interface ImportOptions extends RunOptions {
  /** Only these users (object ids or userPrincipalNames); all users in scope when absent. */
  readonly users?: readonly string[];
}

function userNameOf(user: StoredUser | undefined): string | null {
  const upn = user?.source.userPrincipalName ?? user?.attributes.userName;
  return typeof upn === 'string' ? upn : null;
}

export interface HeldSummary {
  runId: string;
  connectionId: string;
  division: string;
  count: number;
  actions: Record<RemovalAction, number>;
  /** The first users (up to the limit); `changedSince`: approving will leave this one alone. */
  users: {
    sourceId: string;
    userName: string | null;
    action: RemovalAction;
    reason: string;
    changedSince: boolean;
  }[];
}

/**
 * The one service the adapters (CLI, Azure Functions) call: connections, preview, import, sync,
 * approval of held deletions, and what the tables say. It knows nothing of its callers.
 */
export class SyncService {
  readonly stores: SyncStores;
  readonly #env: RunEnvironment;

  constructor(options: SyncServiceOptions) {
    const tables = new Tables(options.storage, options.tablePrefix);
    this.stores = {
      tables,
      connections: new ConnectionStore(tables.client('connections')),
      users: new UserStore(tables.client('users')),
      claims: new EmailClaimStore(tables.client('emailClaims')),
      groups: new GroupStore(tables.client('groups'), tables.client('groupMembers')),
      licenses: new LicenseStore(tables.client('licenses')),
      cursors: new CursorStore(tables.client('cursors')),
      leases: new LeaseStore(tables.client('leases')),
      runs: new RunStore(tables.client('runs'), tables.client('runLog')),
      held: new HeldRemovalStore(tables.client('heldActions')),
    };
    this.#env = {
      stores: this.stores,
      secrets: options.secrets,
      graph: options.graph,
      leaseDurationMs: options.leaseDurationMs ?? 10 * 60_000,
    };
  }

  /** Creates the tables that do not exist yet. */
  async initialize(): Promise<void> {
    await this.stores.tables.ensureCreated();
  }

  /** Validates a connection document and stores it (create or replace). */
  async applyConnection(document: unknown): Promise<StoredConnection> {
    const validation = validateConnectionConfig(document);
    if (!validation.ok) {
      throw new BadRequestError('The connection document is not valid.', {
        nextStep: 'Fix the fields listed in details (see docs/configuration.md).',
        details: validation.issues,
      });
    }
    const { config } = validation;
    return await this.stores.connections.apply(
      config.id,
      document as Record<string, unknown>,
      config.enabled,
    );
  }

  async listConnections(): Promise<StoredConnection[]> {
    return await this.stores.connections.list();
  }

  async getConnection(id: string): Promise<{ stored: StoredConnection; config: ConnectionConfig }> {
    const stored = await this.stores.connections.get(id);
    if (!stored) {
      throw new NotFoundError(`There is no connection ${id}.`, {
        nextStep:
          'Apply it first (`entra-sync connections apply --file <connection.json>`), or check the id with `entra-sync connections list`.',
      });
    }
    const validation = validateConnectionConfig(stored.document);
    if (!validation.ok) {
      throw new SettingsError(`The stored document of connection ${id} is no longer valid.`, {
        nextStep: 'Apply a corrected document for it.',
        details: validation.issues,
      });
    }
    return { stored, config: { ...validation.config, enabled: stored.enabled } };
  }

  async setEnabled(id: string, enabled: boolean): Promise<StoredConnection> {
    await this.getConnection(id);
    return await this.stores.connections.update(id, (current) => ({ ...current, enabled }));
  }

  /** What an import would do, per user, with no writes at all. */
  async preview(connectionId: string, options: ImportOptions = {}): Promise<RunReport> {
    const { config } = await this.getConnection(connectionId);
    return await executeRun(this.#env, config, 'preview', options, async (run) =>
      options.users ? await runSelectedImport(run, options.users) : await runFullImport(run),
    );
  }

  async import(connectionId: string, options: ImportOptions = {}): Promise<RunReport> {
    const config = await this.#enabledConfig(connectionId);
    return await executeRun(this.#env, config, 'import', options, async (run) =>
      options.users ? await runSelectedImport(run, options.users) : await runFullImport(run),
    );
  }

  async sync(connectionId: string, options: RunOptions = {}): Promise<RunReport> {
    const config = await this.#enabledConfig(connectionId);
    return await executeRun(this.#env, config, 'sync', options, runDeltaSync);
  }

  /**
   * Applies the suspensions and deletions a run held at the threshold. Each user is changed only if it
   * is still as the run saw it; users that changed since are left alone and counted as skipped.
   */
  async approve(runId: string): Promise<RunReport> {
    const report = await this.#run(runId);
    if (report.status === 'superseded') {
      throw new BadRequestError(
        `Run ${runId} was superseded by run ${report.supersededBy ?? '?'}, which carried its held deletions.`,
        {
          nextStep: `Review and approve the newer run: entra-sync approve --run ${report.supersededBy ?? '<run id>'}`,
        },
      );
    }
    if (report.status !== 'deletions_held') {
      throw new BadRequestError(`Run ${runId} has no held deletions (its status is ${report.status}).`);
    }
    const lease = await this.stores.leases.acquire(
      report.connectionId,
      `approve-${runId}`,
      this.#env.leaseDurationMs,
    );
    if (!lease.acquired) {
      throw new ConflictError(`Connection ${report.connectionId} is busy with run ${lease.holder}.`, {
        nextStep: 'Approve again when that run has finished.',
      });
    }
    try {
      const removals = await this.stores.held.toRemovals(runId, this.stores.users);
      const { users, claims, licenses, tables } = this.stores;
      const outcome = await applyRemovals(
        { users, usersTable: tables.client('users'), claims, licenses },
        removals,
        runId,
      );
      await this.stores.held.clear(runId);
      await this.stores.cursors.forgetLinkedUsers(report.connectionId);
      const approved: RunReport = {
        ...report,
        status: 'succeeded',
        held: null,
        approval: {
          approvedAt: new Date().toISOString(),
          applied: outcome.applied,
          skipped: outcome.skipped,
        },
      };
      await this.stores.runs.save(approved);
      return approved;
    } finally {
      await lease.lease.release();
    }
  }

  /**
   * One timer tick: syncs every enabled connection whose schedule says it is due, each under its own
   * lease. A connection whose lease is taken is skipped and says so; one that fails does not stop the
   * others. Returns what happened to each.
   */
  async syncDue(now = new Date(), options: RunOptions = {}): Promise<TickOutcome[]> {
    const outcomes: TickOutcome[] = [];
    for (const stored of await this.stores.connections.list()) {
      const id = stored.id;
      if (!stored.enabled) {
        outcomes.push({ connectionId: id, outcome: 'disabled' });
        continue;
      }
      try {
        const { config } = await this.getConnection(id);
        const lastStartedAt = (await this.stores.runs.latest(id))?.startedAt;
        if (!isSyncDue(config.schedule, lastStartedAt ? new Date(lastStartedAt) : null, now)) {
          outcomes.push({ connectionId: id, outcome: 'not_due' });
          continue;
        }
        const report = await this.sync(id, options);
        outcomes.push({ connectionId: id, outcome: 'synced', runId: report.runId, status: report.status });
      } catch (error) {
        const message = error instanceof Error ? error.message : 'unknown error';
        outcomes.push(
          error instanceof ConflictError
            ? { connectionId: id, outcome: 'skipped_busy', reason: message }
            : { connectionId: id, outcome: 'failed', reason: message },
        );
      }
    }
    return outcomes;
  }

  /**
   * The tenant's Entra groups, read live from Graph, for choosing scope and mappings: those whose name
   * starts with `search` (all when empty), at most `limit`.
   */
  async listEntraGroups(
    connectionId: string,
    options: { search?: string; limit?: number } = {},
  ): Promise<{ id: string; displayName: string | null; description: string | null }[]> {
    const { config } = await this.getConnection(connectionId);
    const opened = await openGraphReader(config, this.#env.secrets, this.#env.graph);
    try {
      const limit = options.limit ?? 100;
      const search = options.search?.trim();
      // OData string literals double their quotes.
      const filter = search ? `startswith(displayName,'${search.replace(/'/g, "''")}')` : undefined;
      const groups: { id: string; displayName: string | null; description: string | null }[] = [];
      const pages = opened.reader.listGroups({
        select: ['displayName', 'description'],
        ...(filter ? { filter } : {}),
        top: Math.min(limit, 999),
      });
      for await (const page of pages) {
        for (const group of page.items) {
          groups.push({
            id: group.id,
            displayName: group.displayName ?? null,
            description: group.description ?? null,
          });
          if (groups.length >= limit) return groups;
        }
      }
      return groups;
    } finally {
      await opened.close();
    }
  }

  /** Imports spread over a work queue, for many function instances (see import-jobs.ts). */
  importJobs(queue: WorkQueue): ImportJobs {
    return new ImportJobs(this.#env, queue);
  }

  async *users(connectionId: string): AsyncGenerator<StoredUser> {
    yield* this.stores.users.listLinked(connectionId);
  }

  async runs(connectionId: string, limit?: number): Promise<RunReport[]> {
    return await this.stores.runs.list(connectionId, limit);
  }

  async *runLog(runId: string): AsyncGenerator<RunLogEntry> {
    yield* this.stores.runs.readLog(runId);
  }

  /** A run's report by its id (ids are unique across connections). */
  async run(runId: string): Promise<RunReport> {
    return await this.#run(runId);
  }

  /** A page of a run's per-user lines, by status and search. */
  async runOutcomes(runId: string, query: OutcomeQuery): Promise<OutcomePage> {
    await this.#run(runId);
    return await pageOutcomes(this.stores.runs.readLog(runId), query);
  }

  /**
   * What approving a run's held removals would do: how many of each action, and the first users by
   * name, so that the button can say exactly that before anyone presses it.
   */
  async heldRemovals(runId: string, limit = 200): Promise<HeldSummary> {
    const report = await this.#run(runId);
    const actions: Record<RemovalAction, number> = { SUSPEND: 0, DELETE: 0, UNLINK: 0 };
    const users: HeldSummary['users'] = [];
    const held = report.status === 'deletions_held' ? await this.stores.held.read(runId) : [];
    for (const removal of held) {
      actions[removal.action] += 1;
      if (users.length >= limit) continue;
      const user = await this.stores.users.getByKey(removal.partitionKey, removal.rowKey);
      users.push({
        sourceId: user?.sourceId ?? '',
        userName: userNameOf(user),
        action: removal.action,
        reason: removal.reason,
        changedSince: !user || (removal.etag !== null && user.etag !== removal.etag),
      });
    }
    const { config } = await this.getConnection(report.connectionId);
    return {
      runId,
      connectionId: report.connectionId,
      division: config.division,
      count: held.length,
      actions,
      users,
    };
  }

  async #run(runId: string): Promise<RunReport> {
    const report = await this.stores.runs.find(runId);
    if (!report)
      throw new NotFoundError(`There is no run ${runId}.`, {
        nextStep: 'Check the id with `entra-sync runs`.',
      });
    return report;
  }

  async #enabledConfig(connectionId: string): Promise<ConnectionConfig> {
    const { config } = await this.getConnection(connectionId);
    if (!config.enabled) {
      throw new BadRequestError(`Connection ${connectionId} is disabled.`, {
        nextStep: 'Enable it (`entra-sync connections enable`) to import or sync.',
      });
    }
    return config;
  }
}
