import { useEffect, useState } from 'preact/hooks';
import type { JobProgress } from '../../api/types.js';
import { href } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { useConnectionWork } from '../../app/work.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { TextField } from '../../components/fields.js';
import { JobProgressView } from '../../components/job-progress.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { LicenseTable } from '../../components/license-table.js';
import { UserLines } from '../../components/user-lines.js';
import { countOf, formatDateTime, formatDuration, formatNumber } from '../../lib/format.js';
import { isJobFinished, useJob } from '../../lib/use-job.js';
import type { TabProps } from './connection-screen.js';
import { JobFailure } from './job-failure.js';
import { StartError } from './start-error.js';

/** The most users one selected import takes (MAX_SELECTED_USERS in shared/sync/import-jobs.ts). */
export const MAX_SELECTED_USERS = 500;

export function parseUserList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    ),
  ];
}

/**
 * What an import would do, per user, with nothing written: run in the background (a big tenant takes a
 * while), then browsed a page at a time by status and search. Users ticked here can be imported alone.
 */
export function PreviewTab({ connection }: TabProps) {
  const api = useApi();
  const [work, setWork] = useConnectionWork(connection.id);
  const { job, error: pollError } = useJob(api, work.previewJobId);
  const [only, setOnly] = useState('');
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const onlyUsers = parseUserList(only);
  const tooMany = onlyUsers.length > MAX_SELECTED_USERS;

  useEffect(() => {
    if (job?.report && job.status !== 'failed' && work.previewUsers !== job.report.usersRead) {
      setWork({ previewUsers: job.report.usersRead });
    }
  }, [job, work.previewUsers, setWork]);

  const start = async (): Promise<void> => {
    setStarting(true);
    setStartError(null);
    try {
      const started = await api.startPreview(connection.id, onlyUsers.length > 0 ? onlyUsers : undefined);
      setWork({ previewJobId: started.jobId });
    } catch (error) {
      setStartError(error);
    } finally {
      setStarting(false);
    }
  };

  const running = job !== null && !isJobFinished(job.status);
  return (
    <>
      <section class="card" aria-labelledby="preview-start-heading">
        <h2 id="preview-start-heading">Preview an import</h2>
        <p>
          Reads the tenant and shows what an import would do to each user: create, update, conflict, no seat
          and so on. Nothing is written.
        </p>
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (!tooMany) void start();
          }}
        >
          <TextField
            label="Only these users (optional)"
            hint={`Entra object ids or user principal names, separated by commas or spaces; at most ${formatNumber(MAX_SELECTED_USERS)}. Empty: everyone in scope.`}
            value={only}
            error={
              tooMany
                ? `${formatNumber(onlyUsers.length)} users; a preview of chosen users takes at most ${formatNumber(MAX_SELECTED_USERS)}`
                : undefined
            }
            onValue={setOnly}
          />
          <div class="actions">
            <button
              type="submit"
              class="button button-primary"
              disabled={starting || running || !connection.enabled}
            >
              {starting ? 'Starting…' : job === null ? 'Run preview' : 'Run a new preview'}
            </button>
            {!connection.enabled && (
              <span class="muted">The connection is disabled; enable it on the Overview.</span>
            )}
          </div>
        </form>
        {startError !== null && <StartError error={startError} connectionId={connection.id} what="preview" />}
      </section>
      {pollError !== null && job === null && (
        <ErrorAlert error={pollError} title="The preview's progress could not be read." />
      )}
      {work.previewJobId !== null && job === null && pollError === null && (
        <section class="card" aria-labelledby="preview-progress-heading">
          <h2 id="preview-progress-heading">Preview in progress</h2>
          <ProgressBar label="Preview progress" fraction={null} valueText="Starting" />
          <p role="status">Starting the preview…</p>
        </section>
      )}
      {job !== null && running && (
        <section class="card" aria-labelledby="preview-progress-heading">
          <h2 id="preview-progress-heading">Preview in progress</h2>
          <JobProgressView job={job} estimate={work.previewUsers} label="Preview progress" />
        </section>
      )}
      {job?.status === 'failed' && <JobFailure job={job} title="The preview failed." />}
      {job !== null && job.status !== 'failed' && isJobFinished(job.status) && (
        <PreviewResult job={job} connectionId={connection.id} />
      )}
    </>
  );
}

function PreviewResult({ job, connectionId }: { job: JobProgress; connectionId: string }) {
  const api = useApi();
  const [work, setWork] = useConnectionWork(connectionId);
  const report = job.report;
  const ticked = Object.keys(work.selected).length;
  return (
    <>
      {report !== null && (
        <section class="card" aria-labelledby="preview-summary-heading">
          <h2 id="preview-summary-heading">Preview result</h2>
          <p>
            {countOf(report.usersRead, 'user')} read {formatDateTime(report.startedAt)}, in{' '}
            {formatDuration(report.durationMs)}.
          </p>
          {report.held !== null && (
            <div class="alert alert-warning">
              <p>
                An import would hold{' '}
                {countOf(report.held.count, 'deletion or suspension', 'deletions and suspensions')} for
                approval: more than the threshold of {formatNumber(report.held.threshold)}.
              </p>
            </div>
          )}
          <h3>Licence demand</h3>
          <LicenseTable licenses={report.licenses} demandLabel="Needed by an import" />
        </section>
      )}
      <section class="card" aria-labelledby="preview-users-heading">
        <h2 id="preview-users-heading">Users</h2>
        <UserLines
          label="Preview users"
          sourceKey={job.jobId}
          load={async (query) => await api.jobUsers(job.jobId, query)}
          selection={{
            selected: work.selected,
            limit: MAX_SELECTED_USERS,
            onChange: (selected) => {
              setWork({ selected });
            },
          }}
        />
        {ticked > 0 && (
          <div class="selection-bar">
            <span>{countOf(ticked, 'user')} ticked.</span>
            <a
              class="button button-primary"
              href={href({ screen: 'connection', id: connectionId, tab: 'import' })}
            >
              Import the ticked users
            </a>
            <button
              type="button"
              class="button"
              onClick={() => {
                setWork({ selected: {} });
              }}
            >
              Clear ticks
            </button>
          </div>
        )}
      </section>
    </>
  );
}
