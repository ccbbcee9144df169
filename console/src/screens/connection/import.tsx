import { useState } from 'preact/hooks';
import { href } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { useConnectionWork } from '../../app/work.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { RadioGroup } from '../../components/fields.js';
import { JobProgressView } from '../../components/job-progress.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { ReportSummary } from '../../components/report-summary.js';
import { countOf, formatNumber, joinWords } from '../../lib/format.js';
import { isJobFinished, useJob } from '../../lib/use-job.js';
import type { TabProps } from './connection-screen.js';
import { JobFailure } from './job-failure.js';
import { MAX_SELECTED_USERS } from './preview.js';
import { StartError } from './start-error.js';

/** Imports everyone in scope (spread over the import queue) or the users ticked in the preview. */
export function ImportTab({ connection }: TabProps) {
  const api = useApi();
  const [work, setWork] = useConnectionWork(connection.id);
  const { job, error: pollError } = useJob(api, work.importJobId);
  const ticked = Object.entries(work.selected);
  const [what, setWhat] = useState<'all' | 'selected'>(ticked.length > 0 ? 'selected' : 'all');
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const choice = what === 'selected' && ticked.length === 0 ? 'all' : what;
  const running = job !== null && !isJobFinished(job.status);

  const start = async (): Promise<void> => {
    setStarting(true);
    setStartError(null);
    try {
      const users = choice === 'selected' ? ticked.map(([id]) => id).slice(0, MAX_SELECTED_USERS) : undefined;
      const started = await api.startImport(connection.id, users);
      // The ticks are spent: importing them twice by accident helps no one.
      setWork({
        importJobId: started.jobId,
        importSelectedCount: users?.length ?? null,
        ...(users ? { selected: {} } : {}),
      });
    } catch (error) {
      setStartError(error);
    } finally {
      setStarting(false);
    }
  };

  const names = ticked.slice(0, 5).map(([, name]) => name);
  const estimate = work.importSelectedCount ?? work.previewUsers;
  return (
    <>
      <section class="card" aria-labelledby="import-start-heading">
        <h2 id="import-start-heading">Import users</h2>
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            void start();
          }}
        >
          <RadioGroup<'all' | 'selected'>
            legend="What to import"
            value={choice}
            onValue={setWhat}
            choices={[
              {
                value: 'all',
                label: 'All users in scope',
                hint:
                  work.previewUsers === null
                    ? 'Every user the scope admits, read from the tenant and spread over the import queue.'
                    : `Every user the scope admits; the last preview read ${countOf(work.previewUsers, 'user')}.`,
              },
              {
                value: 'selected',
                label:
                  ticked.length === 0
                    ? 'Users ticked in the preview (none ticked)'
                    : `The ${countOf(ticked.length, 'user')} ticked in the preview`,
                disabled: ticked.length === 0,
                hint:
                  ticked.length === 0 ? (
                    <>
                      Tick users in the{' '}
                      <a href={href({ screen: 'connection', id: connection.id, tab: 'preview' })}>Preview</a>{' '}
                      to import just them (at most {formatNumber(MAX_SELECTED_USERS)}).
                    </>
                  ) : (
                    <>
                      {joinWords(
                        ticked.length > names.length
                          ? [...names, `${formatNumber(ticked.length - names.length)} more`]
                          : names,
                      )}
                      .{' '}
                      <a href={href({ screen: 'connection', id: connection.id, tab: 'preview' })}>
                        Change in the Preview
                      </a>
                    </>
                  ),
              },
            ]}
          />
          <div class="actions">
            <button
              type="submit"
              class="button button-primary"
              disabled={starting || running || !connection.enabled}
            >
              {starting ? 'Starting…' : 'Start import'}
            </button>
            {running && <span class="muted">An import is in progress.</span>}
            {!connection.enabled && (
              <span class="muted">The connection is disabled; enable it on the Overview.</span>
            )}
          </div>
        </form>
        {startError !== null && <StartError error={startError} connectionId={connection.id} what="import" />}
      </section>
      {pollError !== null && job === null && (
        <ErrorAlert error={pollError} title="The import's progress could not be read." />
      )}
      {work.importJobId !== null && job === null && pollError === null && (
        <section class="card" aria-labelledby="import-progress-heading">
          <h2 id="import-progress-heading">Import in progress</h2>
          <ProgressBar label="Import progress" fraction={null} valueText="Starting" />
          <p role="status">Starting the import…</p>
        </section>
      )}
      {job !== null && (
        <section class="card" aria-labelledby="import-progress-heading">
          <h2 id="import-progress-heading">{running ? 'Import in progress' : 'Last import'}</h2>
          <JobProgressView job={job} estimate={estimate} label="Import progress" />
          {job.status === 'failed' && <JobFailure job={job} title="The import failed." />}
          {job.status === 'deletions_held' && (
            <div class="alert alert-warning">
              <p>
                The import held deletions and suspensions for approval.{' '}
                <a href={href({ screen: 'run', id: connection.id, runId: job.runId })}>
                  Review and approve them
                </a>
              </p>
            </div>
          )}
          {isJobFinished(job.status) && job.report !== null && (
            <>
              <h3>Report</h3>
              <ReportSummary report={job.report} headingLevel={4} />
              <p class="actions">
                <a class="button" href={href({ screen: 'connection', id: connection.id, tab: 'users' })}>
                  See the users
                </a>
                <a class="button" href={href({ screen: 'run', id: connection.id, runId: job.runId })}>
                  See the run
                </a>
              </p>
            </>
          )}
        </section>
      )}
    </>
  );
}
