import type { JobProgress } from '../../api/types.js';
import { ErrorAlert } from '../../components/error-alert.js';

/** Why a job failed: the run report's error (with its next step) when there is one, else the job's reason. */
export function JobFailure({ job, title }: { job: JobProgress; title: string }) {
  const error = job.report?.error ?? {
    message: job.error ?? 'The job failed without saying why; the Function app log has more.',
  };
  return <ErrorAlert error={error} title={title} />;
}
