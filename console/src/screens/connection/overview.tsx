import { useState } from 'preact/hooks';
import type { ConnectionView } from '../../api/types.js';
import { href } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { RunStatusBadge, Tag } from '../../components/badges.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { countOf, formatDateTime, formatRelative } from '../../lib/format.js';
import { nextSyncText } from '../../lib/health.js';
import { useAsync } from '../../lib/use-async.js';
import type { TabProps } from './connection-screen.js';
import { ConsentPanel } from './consent-panel.js';

/** Health at a glance: enabled, consent, the last run and its error, the next sync, what is configured. */
export function OverviewTab({ connection, onSaved }: TabProps) {
  const api = useApi();
  const latest = useAsync(
    async () => (await api.listRuns(connection.id, 1))[0] ?? null,
    [connection.id, connection.lastRun?.runId],
  );
  const [toggling, setToggling] = useState(false);
  const [toggleError, setToggleError] = useState<unknown>(null);
  const next = nextSyncText(connection);
  const run = latest.data ?? null;

  const setEnabled = async (enabled: boolean): Promise<void> => {
    setToggling(true);
    setToggleError(null);
    try {
      onSaved(await api.setEnabled(connection.id, enabled));
    } catch (error) {
      setToggleError(error);
    } finally {
      setToggling(false);
    }
  };

  return (
    <>
      <section class="card" aria-labelledby="health-heading">
        <h2 id="health-heading">Health</h2>
        <dl class="stats">
          <div>
            <dt>State</dt>
            <dd>
              {connection.enabled ? <Tag tone="good">Enabled</Tag> : <Tag tone="neutral">Disabled</Tag>}
            </dd>
          </div>
          <div>
            <dt>Admin consent</dt>
            <dd>
              {connection.consent ? <Tag tone="good">Granted</Tag> : <Tag tone="warn">Not granted</Tag>}
            </dd>
          </div>
          <div>
            <dt>Last run</dt>
            <dd>
              {connection.lastRun ? (
                <>
                  <RunStatusBadge status={connection.lastRun.status ?? 'running'} />{' '}
                  <a
                    href={href({ screen: 'run', id: connection.id, runId: connection.lastRun.runId })}
                    title={formatDateTime(connection.lastRun.at)}
                  >
                    {formatRelative(connection.lastRun.at)}
                  </a>
                </>
              ) : (
                'Never'
              )}
            </dd>
          </div>
          <div>
            <dt>Next sync</dt>
            <dd title={next.title}>{next.text}</dd>
          </div>
        </dl>
        {run?.error && (
          <ErrorAlert
            error={run.error}
            title={`The last ${run.mode} failed (${formatDateTime(run.startedAt)}).`}
          />
        )}
        {run?.status === 'deletions_held' && (
          <div class="alert alert-warning">
            <p>
              The last run held{' '}
              {countOf(run.held?.count ?? 0, 'deletion or suspension', 'deletions and suspensions')} for
              approval.{' '}
              <a href={href({ screen: 'run', id: connection.id, runId: run.runId })}>Review and approve</a>
            </p>
          </div>
        )}
        {latest.status === 'error' && (
          <ErrorAlert error={latest.error} title="The last run could not be loaded." />
        )}
        <div class="actions">
          <button
            type="button"
            class="button"
            disabled={toggling}
            onClick={() => void setEnabled(!connection.enabled)}
          >
            {connection.enabled ? 'Disable connection' : 'Enable connection'}
          </button>
        </div>
        {toggleError !== null && <ErrorAlert error={toggleError} />}
      </section>
      <ConsentPanel connection={connection} onSaved={onSaved} />
      <Configured connection={connection} />
    </>
  );
}

function Configured({ connection }: { connection: ConnectionView }) {
  const document = connection.document;
  const cloud = document.cloud ?? 'global';
  const credential = document.certificate ?? document.clientSecret;
  const reference =
    credential === undefined
      ? '—'
      : 'keyVault' in credential
        ? `Key Vault secret ${credential.keyVault}`
        : `app setting ${credential.env}`;
  const scopeGroups = document.scope?.groups?.length ?? 0;
  const mappings = document.groupMappings?.length ?? 0;
  return (
    <section class="card" aria-labelledby="configured-heading">
      <h2 id="configured-heading">Configuration</h2>
      <dl class="details">
        <dt>Tenant</dt>
        <dd class="mono">{document.tenantId}</dd>
        <dt>Cloud</dt>
        <dd>{typeof cloud === 'string' ? cloud : `${cloud.authorityHost} and ${cloud.graphBaseUrl}`}</dd>
        <dt>Application (client) ID</dt>
        <dd class="mono">{document.clientId}</dd>
        <dt>Credential</dt>
        <dd>
          {document.certificate ? 'Certificate' : 'Client secret'} in {reference}
        </dd>
        <dt>Division</dt>
        <dd>{document.division}</dd>
        <dt>Scope</dt>
        <dd>
          {scopeGroups === 0 ? 'The whole tenant' : `Members of ${countOf(scopeGroups, 'group')}`}
          {document.scope?.nestedGroups ? ', with nested groups' : ''}
          {(document.scope?.filters?.length ?? 0) > 0
            ? `, ${countOf(document.scope?.filters?.length ?? 0, 'filter')}`
            : ''}
          {document.scope?.includeGuests ? ', guests included' : ''}
          {document.scope?.includeDisabled ? ', disabled accounts included' : ''}
        </dd>
        <dt>Group mappings</dt>
        <dd>
          {mappings === 0 ? 'None' : countOf(mappings, 'group')} ·{' '}
          <a href={href({ screen: 'connection', id: connection.id, tab: 'groups' })}>Edit groups</a>
        </dd>
        <dt>Created</dt>
        <dd>{formatDateTime(connection.createdAt)}</dd>
        <dt>Changed</dt>
        <dd>{formatDateTime(connection.updatedAt)}</dd>
      </dl>
    </section>
  );
}
