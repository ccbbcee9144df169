import type { Decision } from '../engine/types.js';
import { REPORT_EXCEPTION_LIMIT, type RunException, type RunLogEntry } from '../storage/runs.js';

/** Where per-user outcomes go: the run log for a real run, the caller for a preview. */
export interface LogSink {
  write(entries: readonly RunLogEntry[]): Promise<void>;
}

/** Counts and exceptions of a run, and the per-user log lines, collected page by page. */
export class RunTally {
  readonly situations: Record<string, number> = {};
  readonly actions: Record<string, number> = {};
  readonly exceptions: RunException[] = [];
  moreExceptions = 0;
  usersRead = 0;
  pages = 0;
  #pending: RunLogEntry[] = [];

  count(situation: string, action: string): void {
    this.situations[situation] = (this.situations[situation] ?? 0) + 1;
    this.actions[action] = (this.actions[action] ?? 0) + 1;
  }

  exception(user: string, situation: string, reason: string): void {
    if (this.exceptions.length < REPORT_EXCEPTION_LIMIT) this.exceptions.push({ user, situation, reason });
    else this.moreExceptions += 1;
  }

  /** Records a decision: counts, the exception list, and a log line. */
  record(decision: Decision, userName: string | null, action = decision.action): void {
    this.count(decision.situation, action);
    if (action === 'EXCEPTION')
      this.exception(userName ?? decision.sourceUserId, decision.situation, decision.reason);
    this.#pending.push({
      sourceId: decision.sourceUserId,
      userName,
      situation: decision.situation,
      action,
      reason: decision.reason,
      changes: decision.changes.map((change) => ({ ...change })),
      appGroups: [...decision.mapped.appGroups],
      license: decision.mapped.license,
    });
  }

  /** A user read but not usable (it failed validation): reported, never fatal to the run. */
  rejected(user: string, reason: string): void {
    this.count('REJECTED', 'EXCEPTION');
    this.exception(user, 'REJECTED', reason);
    this.#pending.push({
      sourceId: user,
      userName: null,
      situation: 'REJECTED',
      action: 'EXCEPTION',
      reason,
      changes: [],
    });
  }

  /** An unchanged linked user: counted like the decision it would get, without deciding. */
  unchanged(sourceId: string, userName: string | null): void {
    this.count('CONFIRMED', 'UPDATE');
    this.#pending.push({
      sourceId,
      userName,
      situation: 'CONFIRMED',
      action: 'UPDATE',
      reason: 'Linked and unchanged since the last run; nothing to write.',
      changes: [],
    });
  }

  /** Hands the log lines collected so far to the sink. */
  async flush(sink: LogSink): Promise<void> {
    if (this.#pending.length === 0) return;
    const entries = this.#pending;
    this.#pending = [];
    await sink.write(entries);
  }
}
