import { useEffect, useState } from 'preact/hooks';
import type { AdminApi } from '../api/admin-api.js';
import { ApiError } from '../api/errors.js';
import type { JobProgress, JobStatus } from '../api/types.js';

export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'deletions_held', 'failed'];

export function isJobFinished(status: JobStatus): boolean {
  return FINISHED_JOB_STATUSES.includes(status);
}

export interface JobWatch {
  readonly job: JobProgress | null;
  /** The last failed poll; polling goes on (with a longer pause) unless the job is gone. */
  readonly error: unknown;
}

const POLL_MS = 1000;
const SLOW_POLL_MS = 5000;

/** Follows a job until it finishes: the progress bar and the final report come from here. */
export function useJob(api: AdminApi, jobId: string | null): JobWatch {
  const [watch, setWatch] = useState<JobWatch>({ job: null, error: null });
  useEffect(() => {
    setWatch({ job: null, error: null });
    if (jobId === null) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      let delay = POLL_MS;
      try {
        const job = await api.getJob(jobId);
        if (stopped) return;
        setWatch({ job, error: null });
        if (isJobFinished(job.status)) return;
      } catch (error) {
        if (stopped) return;
        setWatch((previous) => ({ job: previous.job, error }));
        if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return;
        delay = SLOW_POLL_MS;
      }
      timer = setTimeout(() => void poll(), delay);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, jobId]);
  // Until the effect has run for a new job, the state still holds the previous job: never show that.
  return watch.job === null || watch.job.jobId === jobId ? watch : { job: null, error: null };
}
