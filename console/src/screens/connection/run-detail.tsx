import { useState } from 'preact/hooks';
import type { HeldAction, RunReport } from '../../api/types.js';
import { href } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { OutcomeBadge } from '../../components/badges.js';
import { Breakable } from '../../components/breakable.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { ReportSummary } from '../../components/report-summary.js';
import { UserLines } from '../../components/user-lines.js';
import { approvalSentence } from '../../lib/approval.js';
import { countOf, formatDateTime } from '../../lib/format.js';
import { useAsync } from '../../lib/use-async.js';
import type { TabProps } from './connection-screen.js';

const HELD_STATUS: Readonly<Record<HeldAction, 'suspend' | 'delete' | 'unlink'>> = {
  SUSPEND: 'suspend',
  DELETE: 'delete',
  UNLINK: 'unlink',
};

/** One run: its report, held deletions to approve, and every user's line. */
export function RunDetail({ connection, runId }: TabProps & { runId: string }) {
  const api = useApi();
  const loaded = useAsync(async () => await api.getRun(runId), [connection.id, runId]);
  // The approval's answer is the run's new report; it wins over the one loaded.
  const [approved, setApproved] = useState<RunReport | null>(null);
  const [approveError, setApproveError] = useState<unknown>(null);
  const report = approved?.runId === runId ? approved : (loaded.data ?? null);

  const back = (
    <p>
      <a href={href({ screen: 'connection', id: connection.id, tab: 'runs' })}>← All runs</a>
    </p>
  );
  if (loaded.status === 'error')
    return (
      <>
        {back}
        <ErrorAlert error={loaded.error} title="The run could not be loaded." />
      </>
    );
  if (loaded.status === 'loading' && report === null)
    return (
      <>
        {back}
        <p role="status">Loading the run…</p>
      </>
    );
  if (report === null) {
    return (
      <>
        {back}
        <p>There is no run {runId}.</p>
      </>
    );
  }
  const awaitingApproval = report.status === 'deletions_held' && report.approval === undefined;
  return (
    <>
      {back}
      <section class="card" aria-labelledby="run-heading">
        <h2 id="run-heading">
          {report.mode === 'preview' ? 'Preview' : report.mode === 'import' ? 'Import' : 'Sync'} of{' '}
          {formatDateTime(report.startedAt)}
        </h2>
        <p class="muted small mono">Run {report.runId}</p>
        {report.status === 'superseded' && report.supersededBy !== undefined && (
          <div class="alert alert-info">
            <p>
              A later run took over this run's held deletions and suspensions:{' '}
              <a href={href({ screen: 'run', id: connection.id, runId: report.supersededBy })}>
                open the later run
              </a>{' '}
              to review and approve them.
            </p>
          </div>
        )}
        {approveError !== null && (
          <ErrorAlert error={approveError} title="The approval did not go through." />
        )}
        {awaitingApproval && (
          <HeldPanel
            runId={report.runId}
            onApproved={(next) => {
              setApproveError(null);
              setApproved(next);
            }}
            onFailed={(error) => {
              // The run may have changed meanwhile (a later sync took over its held changes): show it as it is now.
              setApproveError(error);
              loaded.reload();
            }}
          />
        )}
        <ReportSummary report={report} headingLevel={3} showHeld={!awaitingApproval} />
      </section>
      <section class="card" aria-labelledby="run-users-heading">
        <h2 id="run-users-heading">Users</h2>
        <UserLines
          label="Run users"
          sourceKey={report.runId}
          load={async (query) => await api.runUsers(report.runId, query)}
        />
      </section>
    </>
  );
}

function HeldPanel({
  runId,
  onApproved,
  onFailed,
}: {
  runId: string;
  onApproved: (report: RunReport) => void;
  onFailed: (error: unknown) => void;
}) {
  const api = useApi();
  const held = useAsync(async () => await api.heldRemovals(runId), [runId]);
  const [confirming, setConfirming] = useState(false);
  const [approving, setApproving] = useState(false);

  if (held.status === 'error')
    return <ErrorAlert error={held.error} title="The held deletions could not be loaded." />;
  if (held.data === undefined) return <p role="status">Loading the held deletions…</p>;
  const { count, actions, users, division } = held.data;
  const sentence = approvalSentence(actions, division);
  const changed = users.filter((user) => user.changedSince).length;

  const approve = async (): Promise<void> => {
    setApproving(true);
    try {
      const report = await api.approveRun(runId);
      setConfirming(false);
      onApproved(report);
    } catch (error) {
      setConfirming(false);
      onFailed(error);
    } finally {
      setApproving(false);
    }
  };

  return (
    <div class="alert alert-warning held">
      <h3>Held for approval</h3>
      <p>
        This run would have suspended, deleted or unlinked {countOf(count, 'user')}, more than the deletion
        threshold allows, so it held them. Check that this is intended (not an emptied group or a filter
        typo), then approve.
      </p>
      <div class="table-wrap table-scroll" tabIndex={0} role="region" aria-label="Held users">
        <table class="table table-compact">
          <caption class="visually-hidden">Held users</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Held action</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.sourceId}>
                <th scope="row" class="break">
                  <Breakable text={user.userName ?? user.sourceId} />
                </th>
                <td>
                  <OutcomeBadge status={HELD_STATUS[user.action]} />
                </td>
                <td>
                  {user.reason}
                  {user.changedSince && (
                    <div class="muted small">Changed since the run: approving skips this user.</div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {count > users.length && <p class="muted">…and {countOf(count - users.length, 'more user')}.</p>}
      <div class="actions">
        <button
          type="button"
          class="button button-danger"
          onClick={() => {
            setConfirming(true);
          }}
        >
          Approve: {sentence.charAt(0).toLowerCase() + sentence.slice(1)}
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Approve the held changes?"
        confirmLabel={approving ? 'Applying…' : 'Approve and apply'}
        danger
        busy={approving}
        onCancel={() => {
          setConfirming(false);
        }}
        onConfirm={() => void approve()}
      >
        <p>
          <strong>{sentence}.</strong>
        </p>
        {changed > 0 && (
          <p>{countOf(changed, 'user')} of those listed changed since the run and will be skipped.</p>
        )}
        <p>
          Users who changed in Entra since this run are skipped. A deleted app user loses its e-mail claim and
          licence seat; deleting cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
