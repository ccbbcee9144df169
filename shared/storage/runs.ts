import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import { isStatus, submitInTransactions } from './batch.js';
import { packChunks, unpackChunk } from './chunks.js';

/**
 * Runs and their logs. A run's report lives on its Runs entity (newest first per connection); the
 * per-user log is stored in chunks beside it, because an import of 100,000 users must not cost 100,000
 * more entities.
 */
export type RunMode = 'preview' | 'import' | 'sync';
/** `superseded`: its held deletions were carried into a later run, which held or applied them. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'deletions_held' | 'superseded';

export interface RunException {
  user: string;
  situation: string;
  reason: string;
}

export interface RunReport {
  runId: string;
  connectionId: string;
  mode: RunMode;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
  /** Why a sync became a full import (expired or reset delta state, no baseline yet). */
  fallbackReason: string | null;
  usersRead: number;
  pages: number;
  situations: Record<string, number>;
  actions: Record<string, number>;
  exceptions: RunException[];
  /** Exceptions beyond those kept in the report; all of them are in the run log. */
  moreExceptions: number;
  held: { count: number; threshold: number; linkedUsers: number } | null;
  licenses: Record<string, { seats: number; used: number; demand: number }>;
  graphRequests: number;
  storageTransactions: number;
  error: { code: string; message: string; nextStep: string | null } | null;
  /** When held deletions were approved: how many were applied, and how many users had changed since. */
  approval?: { approvedAt: string; applied: number; skipped: number };
  /** The later run that took over this run's held deletions. */
  supersededBy?: string;
}

/** One line of the per-user run log. */
export interface RunLogEntry {
  sourceId: string;
  userName: string | null;
  situation: string;
  action: string;
  reason: string;
  changes: { attribute: string; before: unknown; after: unknown }[];
  appGroups?: string[];
  license?: string | null;
}

export const REPORT_EXCEPTION_LIMIT = 200;

/** The report of a run that has just started: nothing counted yet. */
export function newRunReport(runId: string, connectionId: string, mode: RunMode, startedAt: Date): RunReport {
  return {
    runId,
    connectionId,
    mode,
    status: 'running',
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    durationMs: 0,
    fallbackReason: null,
    usersRead: 0,
    pages: 0,
    situations: {},
    actions: {},
    exceptions: [],
    moreExceptions: 0,
    held: null,
    licenses: {},
    graphRequests: 0,
    storageTransactions: 0,
    error: null,
  };
}

/** Run ids sort newest first and are unique without coordination. */
export function newRunId(now = new Date()): string {
  const inverted = (9_999_999_999_999 - now.getTime()).toString().padStart(13, '0');
  return `${inverted}-${randomBytes(4).toString('hex')}`;
}

type RunEntity = {
  partitionKey: string;
  rowKey: string;
  mode: string;
  status: string;
  startedAt: string;
  [reportPart: `report${number}`]: string;
};

/** A report with hundreds of exceptions outgrows one property (32K characters): it spans several. */
const REPORT_PART_CHARS = 30_000;

function toEntity(report: RunReport): RunEntity {
  return {
    partitionKey: report.connectionId,
    rowKey: report.runId,
    mode: report.mode,
    status: report.status,
    startedAt: report.startedAt,
    ...reportProperties(report),
  };
}

/** A report as entity properties `report0..N` (a preview's report is kept the same way by its job). */
export function reportProperties(report: RunReport): Record<`report${number}`, string> {
  const json = JSON.stringify(report);
  const properties: Record<`report${number}`, string> = {};
  for (let part = 0; part * REPORT_PART_CHARS < json.length; part += 1) {
    properties[`report${part}`] = json.slice(part * REPORT_PART_CHARS, (part + 1) * REPORT_PART_CHARS);
  }
  return properties;
}

export const reportFromProperties = fromEntity;

function fromEntity(entity: Readonly<Record<string, unknown>>): RunReport {
  let json = '';
  for (let part = 0; typeof entity[`report${part}`] === 'string'; part += 1)
    json += String(entity[`report${part}`]);
  return JSON.parse(json) as RunReport;
}

export class RunStore {
  readonly #runs: TableClient;
  readonly #log: TableClient;
  readonly #logChunks = new Map<string, number>();

  constructor(runs: TableClient, log: TableClient) {
    this.#runs = runs;
    this.#log = log;
  }

  async save(report: RunReport): Promise<void> {
    await this.#runs.upsertEntity(toEntity(report), 'Replace');
  }

  async get(connectionId: string, runId: string): Promise<RunReport | undefined> {
    try {
      return fromEntity(await this.#runs.getEntity(connectionId, runId));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Finds a run by id alone (the CLI's `approve --run`); run ids are unique across connections. */
  async find(runId: string): Promise<RunReport | undefined> {
    for await (const entity of this.#runs.listEntities({
      queryOptions: { filter: odata`RowKey eq ${runId}` },
    })) {
      return fromEntity(entity);
    }
    return undefined;
  }

  async list(connectionId: string, limit = 50): Promise<RunReport[]> {
    const reports: RunReport[] = [];
    const pages = this.#runs.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${connectionId}` },
    });
    for await (const entity of pages) {
      reports.push(fromEntity(entity));
      if (reports.length >= limit) break;
    }
    return reports;
  }

  /** The newest run of a connection, if any: a crashed one is still `running`. */
  async latest(connectionId: string): Promise<RunReport | undefined> {
    return (await this.list(connectionId, 1))[0];
  }

  /** Appends log entries as new chunks after those this store already wrote for the run. */
  async appendLog(runId: string, entries: readonly RunLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const first = this.#logChunks.get(runId) ?? (await this.#countLogChunks(runId));
    const chunks = packChunks(entries, runId, (index) => String(first + index).padStart(8, '0'));
    this.#logChunks.set(runId, first + chunks.length);
    const actions: TransactionAction[] = chunks.map((chunk) => ['upsert', chunk, 'Replace']);
    await submitInTransactions(this.#log, actions);
  }

  /**
   * Writes the log lines of one part of a run (a page of a queue-driven job) under its own keys, so
   * that parallel workers never collide and a retried page overwrites its own lines.
   */
  async writeLogPart(runId: string, part: string, entries: readonly RunLogEntry[]): Promise<void> {
    const chunks = packChunks(entries, runId, (index) => `${part}-${String(index).padStart(4, '0')}`);
    await submitInTransactions(
      this.#log,
      chunks.map((chunk): TransactionAction => ['upsert', chunk, 'Replace']),
    );
  }

  /** Removes a log (a preview delivered again starts its lines afresh). */
  async clearLog(runId: string): Promise<void> {
    this.#logChunks.delete(runId);
    const actions: TransactionAction[] = [];
    for await (const entity of this.#log.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${runId}`, select: ['RowKey'] },
    }))
      actions.push(['delete', { partitionKey: runId, rowKey: String(entity.rowKey) }]);
    await submitInTransactions(this.#log, actions);
  }

  async *readLog(runId: string): AsyncGenerator<RunLogEntry> {
    for await (const entity of this.#log.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${runId}` },
    })) {
      yield* unpackChunk<RunLogEntry>(entity);
    }
  }

  async #countLogChunks(runId: string): Promise<number> {
    let count = 0;
    const pages = this.#log.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${runId}`, select: ['RowKey'] },
    });
    for await (const _entity of pages) count += 1;
    return count;
  }
}
