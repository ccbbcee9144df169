/**
 * The status an administrator sees for one user of a preview or run: one word per badge, derived from
 * the situation and the action of its log line. The console filters and counts by it, and so does the
 * API, so the two can never disagree.
 */

export const OUTCOME_STATUSES = [
  'create',
  'update',
  'unchanged',
  'link',
  'reactivate',
  'conflict',
  'ambiguous',
  'no_seat',
  'out_of_scope',
  'suspend',
  'delete',
  'unlink',
  'exception',
  'ignored',
] as const;

export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

export interface OutcomeLine {
  readonly situation: string;
  readonly action: string;
  readonly changes: readonly unknown[];
}

export function outcomeStatus(line: OutcomeLine): OutcomeStatus {
  switch (line.action) {
    case 'CREATE':
      return 'create';
    case 'LINK':
      return 'link';
    case 'REACTIVATE':
      return 'reactivate';
    case 'SUSPEND':
      return 'suspend';
    case 'DELETE':
      return 'delete';
    case 'UNLINK':
      return 'unlink';
    case 'UPDATE':
      return line.changes.length > 0 ? 'update' : 'unchanged';
  }
  // EXCEPTION and IGNORE: the situation says why nothing happens.
  switch (line.situation) {
    case 'CONFLICT':
      return 'conflict';
    case 'AMBIGUOUS':
      return 'ambiguous';
    case 'NO_SEAT':
      return 'no_seat';
    case 'UNQUALIFIED':
    case 'SOURCE_IGNORED':
      return 'out_of_scope';
    case 'CONFIRMED':
      return 'unchanged';
  }
  return line.action === 'EXCEPTION' ? 'exception' : 'ignored';
}
