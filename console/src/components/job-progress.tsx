import { useRef } from 'preact/hooks';
import type { JobProgress } from '../api/types.js';
import { countOf, formatNumber } from '../lib/format.js';
import { isJobFinished } from '../lib/use-job.js';
import { actionLabel } from '../lib/vocabulary.js';
import { JobStatusBadge, jobStatusLabel } from './badges.js';
import { ProgressBar } from './progress-bar.js';

/**
 * How far a job is. Once reading is done, pages done out of pages read is exact; before that, users
 * processed against an estimate (the preview's user count, or the number of ticked users) is the best
 * guess; without either the bar is indeterminate.
 */
export function jobFraction(job: JobProgress, estimate: number | null): number | null {
  if (isJobFinished(job.status)) return 1;
  if (job.readDone && job.pagesRead > 0) return Math.min(0.99, job.pagesDone / job.pagesRead);
  if (estimate !== null && estimate > 0) return Math.min(0.99, job.usersProcessed / estimate);
  return null;
}

/** The furthest a job's bar has been: estimates give way to exact page counts, and a bar must not go back. */
function useHighWater(jobId: string, fraction: number | null): number | null {
  const mark = useRef<{ jobId: string; value: number }>({ jobId, value: 0 });
  if (mark.current.jobId !== jobId) mark.current = { jobId, value: 0 };
  if (fraction === null) return null;
  mark.current.value = Math.max(mark.current.value, fraction);
  return mark.current.value;
}

export function JobProgressView({
  job,
  estimate,
  label,
}: {
  job: JobProgress;
  estimate: number | null;
  label: string;
}) {
  const fraction = useHighWater(job.jobId, jobFraction(job, estimate));
  const finished = isJobFinished(job.status);
  // A finished job's report has the final count; a selected import counts nothing until it ends.
  const processed = Math.max(job.usersProcessed, job.report?.usersRead ?? 0);
  const users =
    estimate !== null && !finished
      ? `${formatNumber(processed)} of about ${countOf(estimate, 'user')} processed`
      : `${countOf(processed, 'user')} processed`;
  // Chosen users are read one by one, not in pages; pages mean nothing there.
  const pages =
    job.kind === 'selected' || job.pagesRead === 0
      ? ''
      : `; ${formatNumber(job.pagesDone)} of ${formatNumber(job.pagesRead)}${job.readDone ? '' : ' so far'} pages done`;
  const percent = fraction === null ? null : Math.floor(fraction * 100);
  // Announced in steps of 10%, not on every poll, so a screen reader is not talked over.
  const announcement = `${label}: ${jobStatusLabel(job.status)}${percent === null || finished ? '' : `, ${Math.floor(percent / 10) * 10}%`}`;
  const actions = Object.entries(job.actions).filter(([, count]) => count > 0);
  return (
    <div class="job-progress">
      <div class="job-progress-head">
        <JobStatusBadge status={job.status} />
        <span>
          {users}
          {pages}
        </span>
        {percent !== null && <strong class="job-percent">{percent}%</strong>}
      </div>
      <ProgressBar label={label} fraction={fraction} valueText={`${users}${pages}`} />
      <p role="status" class="visually-hidden">
        {announcement}
      </p>
      {actions.length > 0 && (
        <p class="muted small">
          So far:{' '}
          {actions.map(([action, count], index) => (
            <span key={action}>
              {index > 0 && ' · '}
              {actionLabel(action)} {formatNumber(count)}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
