import type { Action, Situation } from '../../../shared/engine/policy.js';

/** The engine's situation and action codes, said plainly (docs/reconciliation.md). */
export const SITUATION_LABELS: Readonly<Record<Situation, string>> = {
  ABSENT: 'New: no app user has the e-mail',
  CONFIRMED: 'Linked: already imported',
  FOUND: 'Found: an app user of this division has the e-mail',
  CONFLICT: 'Conflict: the e-mail belongs to another division or link',
  AMBIGUOUS: 'Ambiguous: several app users have the e-mail',
  UNQUALIFIED: 'Linked but now out of scope',
  SOURCE_SOFT_DELETED: 'Soft-deleted in Entra (restorable)',
  SOURCE_DELETED: 'Deleted in Entra',
  RESTORED: 'Back in scope after the sync suspended it',
  NO_SEAT: 'Needs a licence seat; none free',
  SOURCE_IGNORED: 'Out of scope and not linked',
  ALL_GONE: 'Removed from Entra and not linked',
};

export const ACTION_LABELS: Readonly<Record<Action, string>> = {
  CREATE: 'Create the app user',
  UPDATE: 'Update the app user',
  LINK: 'Link the existing app user',
  UNLINK: 'Unlink (keep the app user, stop managing it)',
  SUSPEND: 'Suspend the app user',
  REACTIVATE: 'Reactivate the app user',
  DELETE: 'Delete the app user',
  EXCEPTION: 'Exception: leave for a person',
  IGNORE: 'Ignore',
};

export function situationLabel(code: string): string {
  return (SITUATION_LABELS as Readonly<Record<string, string | undefined>>)[code] ?? code;
}

export function actionLabel(code: string): string {
  return (ACTION_LABELS as Readonly<Record<string, string | undefined>>)[code] ?? code;
}
