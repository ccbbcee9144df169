import { parseRetryAfterMs, type RetryStopReason } from './errors.js';

/**
 * The retry budget: how long one reader may spend waiting on throttled Graph responses. Decisions are
 * pure (status, Retry-After, retries so far, time) so that they are tested without I/O; the middleware
 * in middleware.ts applies them.
 *
 * Why not the SDK's RetryHandler: it caps retries per request (at most 10) but not the total wait of a
 * run, caps each delay at 180 s whatever Retry-After says, cannot be aborted, and hides the final
 * response's reason. An Azure Function has minutes, not hours: a run must stop and say when to retry.
 */

/** Throttled (429) or busy (503, 504): the statuses Graph asks clients to retry after Retry-After. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

export interface RetryBudgetOptions {
  /** Retries of one request before giving up. Default 5. */
  readonly maxRetriesPerRequest?: number;
  /** Total time one reader may wait on retries, over all its requests. Default 120 s. */
  readonly maxTotalWaitMs?: number;
  /** First back-off when Graph sends no Retry-After; doubles each retry. Default 1 s. */
  readonly initialBackoffMs?: number;
  /** Largest back-off without Retry-After. Default 30 s. */
  readonly maxBackoffMs?: number;
  /** Jitter source in [0, 1) for back-off without Retry-After (tests pass () => 0). */
  readonly random?: () => number;
}

export const DEFAULT_RETRY_BUDGET = {
  maxRetriesPerRequest: 5,
  maxTotalWaitMs: 120_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 30_000,
} as const;

export type RetryDecision =
  | {
      readonly retry: true;
      /** How long to wait before the next attempt. */
      readonly delayMs: number;
      /** Retry-After as Graph sent it, in ms, when it did. */
      readonly retryAfterMs: number | undefined;
    }
  | {
      readonly retry: false;
      readonly reason: RetryStopReason | 'not_retryable';
      readonly retryAfterMs: number | undefined;
      /** What the caller should wait before trying again (Retry-After, or the next back-off). */
      readonly suggestedWaitMs: number;
    };

function checked(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

export class RetryBudget {
  readonly maxRetriesPerRequest: number;
  readonly maxTotalWaitMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  private readonly random: () => number;
  private spentMs = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.maxRetriesPerRequest = checked(
      'maxRetriesPerRequest',
      options.maxRetriesPerRequest ?? DEFAULT_RETRY_BUDGET.maxRetriesPerRequest,
    );
    this.maxTotalWaitMs = checked(
      'maxTotalWaitMs',
      options.maxTotalWaitMs ?? DEFAULT_RETRY_BUDGET.maxTotalWaitMs,
    );
    this.initialBackoffMs = checked(
      'initialBackoffMs',
      options.initialBackoffMs ?? DEFAULT_RETRY_BUDGET.initialBackoffMs,
    );
    this.maxBackoffMs = checked('maxBackoffMs', options.maxBackoffMs ?? DEFAULT_RETRY_BUDGET.maxBackoffMs);
    this.random = options.random ?? Math.random;
  }

  /** Time already waited (or reserved for a wait under way). */
  get waitedMs(): number {
    return this.spentMs;
  }

  get remainingMs(): number {
    return Math.max(0, this.maxTotalWaitMs - this.spentMs);
  }

  /** Back-off when Graph says nothing: initial * 2^retries, capped, plus up to 10% jitter. */
  backoffMs(retriesSoFar: number): number {
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** retriesSoFar);
    return Math.round(base * (1 + 0.1 * this.random()));
  }

  /**
   * Decides whether to retry a response. Does not spend: call spend(delayMs) right after a retry
   * decision, before any await, so that concurrent requests of one reader share the budget honestly.
   * A Retry-After longer than what is left is not waited partly: the reader stops at once and says when.
   */
  decide(
    status: number,
    retryAfter: string | null | undefined,
    retriesSoFar: number,
    nowMs = Date.now(),
  ): RetryDecision {
    const retryAfterMs = parseRetryAfterMs(retryAfter, nowMs);
    const waitMs = retryAfterMs ?? this.backoffMs(retriesSoFar);
    if (!RETRYABLE_STATUSES.has(status)) {
      return { retry: false, reason: 'not_retryable', retryAfterMs, suggestedWaitMs: waitMs };
    }
    if (retriesSoFar >= this.maxRetriesPerRequest) {
      return { retry: false, reason: 'max_retries', retryAfterMs, suggestedWaitMs: waitMs };
    }
    if (waitMs > this.remainingMs) {
      return { retry: false, reason: 'budget_spent', retryAfterMs, suggestedWaitMs: waitMs };
    }
    return { retry: true, delayMs: waitMs, retryAfterMs };
  }

  spend(ms: number): void {
    this.spentMs += checked('ms', ms);
  }
}
