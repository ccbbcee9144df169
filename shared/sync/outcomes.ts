import { OUTCOME_STATUSES, outcomeStatus, type OutcomeStatus } from '../engine/outcome-status.js';

export { OUTCOME_STATUSES, type OutcomeStatus };
import type { RunLogEntry } from '../storage/runs.js';

/**
 * One page of a preview's or run's per-user lines, filtered by status and a search over name and id,
 * with the count of every status over all lines (what the console's filter chips show). The lines are
 * read in one pass, so memory stays at one page however large the run.
 */

export interface OutcomeQuery {
  readonly status?: OutcomeStatus | undefined;
  /** Case-insensitive; matches the user name, the Entra object id or an attribute change's value. */
  readonly search?: string | undefined;
  readonly top: number;
  readonly skip: number;
}

export type OutcomeLine = RunLogEntry & { status: OutcomeStatus };

export interface OutcomePage {
  items: OutcomeLine[];
  /** Lines that match the query (status and search). */
  total: number;
  /** Lines per status over the whole run (the search applies, the status filter does not). */
  counts: Record<OutcomeStatus, number>;
}

function matches(entry: RunLogEntry, needle: string): boolean {
  if (entry.sourceId.toLowerCase().includes(needle)) return true;
  if (entry.userName?.toLowerCase().includes(needle)) return true;
  return entry.changes.some((change) => {
    const after = typeof change.after === 'string' ? change.after : JSON.stringify(change.after ?? '');
    return after.toLowerCase().includes(needle);
  });
}

export async function pageOutcomes(
  lines: AsyncIterable<RunLogEntry> | Iterable<RunLogEntry>,
  query: OutcomeQuery,
): Promise<OutcomePage> {
  const counts = Object.fromEntries(OUTCOME_STATUSES.map((status) => [status, 0])) as Record<
    OutcomeStatus,
    number
  >;
  const needle = query.search?.trim().toLowerCase() ?? '';
  const items: OutcomeLine[] = [];
  let total = 0;
  for await (const entry of lines) {
    if (needle !== '' && !matches(entry, needle)) continue;
    const status = outcomeStatus(entry);
    counts[status] += 1;
    if (query.status !== undefined && status !== query.status) continue;
    if (total >= query.skip && items.length < query.top) items.push({ ...entry, status });
    total += 1;
  }
  return { items, total, counts };
}
