/**
 * The deletion threshold: a guard against a mistake upstream (a scope group emptied, a filter typo, a
 * tenant-wide disable) turning into mass suspension or deletion. Suspensions count with deletions
 * because to the people locked out they are the same.
 */

export interface DeletionThreshold {
  /** At most this many; omitted means no absolute limit. */
  readonly count?: number | undefined;
  /** At most this percentage of the connection's linked users; omitted means no relative limit. */
  readonly percent?: number | undefined;
}

export const DEFAULT_DELETION_THRESHOLD = { count: 500, percent: 20 } as const satisfies DeletionThreshold;

export interface ThresholdCheckInput {
  /** App users linked to this connection before the run. */
  readonly linkedCount: number;
  /** DELETE decisions that would write. */
  readonly pendingDeletions: number;
  /** SUSPEND decisions that would write (already suspended users do not count). */
  readonly pendingSuspensions: number;
}

export interface ThresholdCheck {
  readonly hold: boolean;
  /** The most deletions plus suspensions allowed for this connection now. */
  readonly limit: number;
  readonly pending: number;
  readonly reason: string;
}

/**
 * The limit is the smaller of the count and the percentage, the percentage rounded up so that a small
 * connection (3 users, 20%) can still lose one user without a hold.
 */
export function deletionLimit(threshold: DeletionThreshold, linkedCount: number): number {
  const limits: number[] = [];
  if (threshold.count !== undefined) limits.push(threshold.count);
  if (threshold.percent !== undefined) {
    // The small epsilon keeps 3000 * 1.1 / 100 = 33.00000000000001 from rounding up to 34.
    limits.push(Math.ceil((linkedCount * threshold.percent) / 100 - 1e-9));
  }
  return limits.length === 0 ? Infinity : Math.max(0, Math.min(...limits));
}

export function checkDeletionThreshold(
  threshold: DeletionThreshold,
  input: ThresholdCheckInput,
): ThresholdCheck {
  const limit = deletionLimit(threshold, input.linkedCount);
  const pending = input.pendingDeletions + input.pendingSuspensions;
  const hold = pending > limit;
  const parts = [
    `${input.pendingDeletions} deletion${input.pendingDeletions === 1 ? '' : 's'}`,
    `${input.pendingSuspensions} suspension${input.pendingSuspensions === 1 ? '' : 's'}`,
  ].join(' and ');
  const reason = hold
    ? `Held: ${parts} exceed the limit of ${limit} for ${input.linkedCount} linked users; confirm the run to apply them.`
    : `${parts} within the limit of ${limit} for ${input.linkedCount} linked users.`;
  return { hold, limit, pending, reason };
}
