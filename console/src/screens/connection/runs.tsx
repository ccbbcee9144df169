import type { RunReport } from '../../api/types.js';
import { href } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { RunStatusBadge } from '../../components/badges.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { capitalize, formatDateTime, formatDuration, formatNumber } from '../../lib/format.js';
import { useAsync } from '../../lib/use-async.js';
import type { TabProps } from './connection-screen.js';

const ACTION_WORDS: Readonly<Record<string, string>> = {
  CREATE: 'created',
  UPDATE: 'updated',
  LINK: 'linked',
  UNLINK: 'unlinked',
  SUSPEND: 'suspended',
  REACTIVATE: 'reactivated',
  DELETE: 'deleted',
  EXCEPTION: 'exceptions',
  IGNORE: 'ignored',
};

/** Runs, newest first: imports, syncs and previews, with what each did. */
export function RunsTab({ connection }: TabProps) {
  const api = useApi();
  const runs = useAsync(async () => await api.listRuns(connection.id, 50), [connection.id]);
  return (
    <section class="card" aria-labelledby="runs-heading">
      <div class="section-header">
        <h2 id="runs-heading">Runs</h2>
        <button type="button" class="button" onClick={runs.reload} disabled={runs.status === 'loading'}>
          Refresh
        </button>
      </div>
      {runs.status === 'error' && <ErrorAlert error={runs.error} title="The runs could not be loaded." />}
      {runs.data !== undefined && runs.data.length === 0 && <p class="muted">No runs yet.</p>}
      {runs.data !== undefined && runs.data.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-busy={runs.status === 'loading'}>
            <caption class="visually-hidden">The latest runs of {connection.id}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Users read
                </th>
                <th scope="col">What it did</th>
                <th scope="col" class="num">
                  Exceptions
                </th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((run) => (
                <tr key={run.runId}>
                  <th scope="row">
                    <a href={href({ screen: 'run', id: connection.id, runId: run.runId })}>
                      {formatDateTime(run.startedAt)}
                    </a>
                  </th>
                  <td>{capitalize(run.mode)}</td>
                  <td>
                    <RunStatusBadge status={run.status} />
                  </td>
                  <td class="num">{formatNumber(run.usersRead)}</td>
                  <td>{actionSummary(run)}</td>
                  <td class="num">{formatNumber(run.exceptions.length + run.moreExceptions)}</td>
                  <td>{run.finishedAt === null ? '—' : formatDuration(run.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function actionSummary(run: RunReport): string {
  const parts = Object.entries(run.actions)
    .filter(([action, count]) => count > 0 && action !== 'IGNORE' && action !== 'EXCEPTION')
    .sort((a, b) => b[1] - a[1])
    .map(
      ([action, count]) =>
        `${formatNumber(count)} ${run.mode === 'preview' ? `to ${action.toLowerCase()}` : (ACTION_WORDS[action] ?? action)}`,
    );
  if (run.held !== null && run.status === 'deletions_held')
    parts.push(`${formatNumber(run.held.count)} held`);
  return parts.length === 0 ? 'No changes' : parts.join(' · ');
}
