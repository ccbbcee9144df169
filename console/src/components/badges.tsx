import type { JobStatus, OutcomeStatus, RunStatus } from '../api/types.js';

/** The words on the badges. Colour only repeats what the word says, so no one depends on seeing it. */
export const OUTCOME_LABELS: Readonly<Record<OutcomeStatus, string>> = {
  create: 'Create',
  update: 'Update',
  unchanged: 'Unchanged',
  link: 'Link',
  reactivate: 'Reactivate',
  conflict: 'Conflict',
  ambiguous: 'Ambiguous',
  no_seat: 'No seat',
  out_of_scope: 'Out of scope',
  suspend: 'Suspend',
  delete: 'Delete',
  unlink: 'Unlink',
  exception: 'Exception',
  ignored: 'Ignored',
};

/** What each status means, for the badge's tooltip and the filter's description. */
export const OUTCOME_HINTS: Readonly<Record<OutcomeStatus, string>> = {
  create: 'New: no app user has this e-mail; one will be created.',
  update: 'Already linked; some attributes, groups or the licence will be overwritten.',
  unchanged: 'Already linked and up to date.',
  link: 'An app user of this division has the e-mail; it will be linked and updated.',
  reactivate: 'Suspended by the sync earlier; the cause is gone, so it will be reactivated.',
  conflict: 'The e-mail belongs to an app user in another division or connection; not imported.',
  ambiguous: 'Several app users have this e-mail; not imported.',
  no_seat: 'Needs a licence seat and none is free; not imported.',
  out_of_scope: 'Not in the scope groups or filters (or a guest or disabled account).',
  suspend: 'The app user will be suspended.',
  delete: 'The app user will be deleted.',
  unlink: 'The app user stays but is no longer managed by the sync.',
  exception: 'Left for a person to resolve.',
  ignored: 'Nothing to do.',
};

export function OutcomeBadge({ status }: { status: OutcomeStatus }) {
  return (
    <span class={`badge badge-${status}`} data-status={status} title={OUTCOME_HINTS[status]}>
      {OUTCOME_LABELS[status]}
    </span>
  );
}

const RUN_STATUS: Readonly<Record<RunStatus, { label: string; tone: string }>> = {
  running: { label: 'Running', tone: 'info' },
  succeeded: { label: 'Succeeded', tone: 'good' },
  failed: { label: 'Failed', tone: 'bad' },
  deletions_held: { label: 'Deletions held', tone: 'warn' },
  superseded: { label: 'Superseded', tone: 'neutral' },
};

const JOB_STATUS: Readonly<Record<JobStatus, { label: string; tone: string }>> = {
  queued: { label: 'Queued', tone: 'info' },
  reading: { label: 'Reading from Entra', tone: 'info' },
  processing: { label: 'Processing', tone: 'info' },
  finalizing: { label: 'Finalizing', tone: 'info' },
  succeeded: { label: 'Succeeded', tone: 'good' },
  deletions_held: { label: 'Deletions held', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
};

export function jobStatusLabel(status: JobStatus): string {
  return JOB_STATUS[status].label;
}

export function RunStatusBadge({ status }: { status: string }) {
  const known = (RUN_STATUS as Record<string, { label: string; tone: string } | undefined>)[status];
  return (
    <span class={`badge tone-${known?.tone ?? 'neutral'}`} data-status={status}>
      {known?.label ?? status}
    </span>
  );
}

export function JobStatusBadge({ status }: { status: JobStatus }) {
  const { label, tone } = JOB_STATUS[status];
  return (
    <span class={`badge tone-${tone}`} data-status={status}>
      {label}
    </span>
  );
}

export function Tag({
  tone,
  children,
}: {
  tone: 'good' | 'bad' | 'warn' | 'info' | 'neutral';
  children: string;
}) {
  return <span class={`badge tone-${tone}`}>{children}</span>;
}
