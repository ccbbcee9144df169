import { useApi } from '../app/services.js';
import { RunStatusBadge, Tag } from '../components/badges.js';
import { ErrorAlert } from '../components/error-alert.js';
import { PageHeading } from '../components/page-heading.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import { attentionOf, connectionName, nextSyncText } from '../lib/health.js';
import { useAsync } from '../lib/use-async.js';
import { href } from '../app/routes.js';

/** Every connection with its health: consent, last run, next sync, and what needs attention. */
export function ConnectionsScreen() {
  const api = useApi();
  const state = useAsync(async () => await api.listConnections(), []);
  const connections = state.data ?? [];
  return (
    <>
      <div class="page-header">
        <PageHeading title="Connections" />
        <a class="button button-primary" href={href({ screen: 'new-connection' })}>
          New connection
        </a>
      </div>
      <p class="lead">
        Each connection brings the users of one Microsoft Entra tenant into one division of the app.
      </p>
      {state.status === 'error' && (
        <ErrorAlert error={state.error} title="The connections could not be loaded." />
      )}
      {state.status === 'loading' && state.data === undefined && <p role="status">Loading connections…</p>}
      {state.status === 'ready' && connections.length === 0 && (
        <div class="empty">
          <h2>No connections yet</h2>
          <p>
            Create one to connect a Microsoft Entra tenant, then grant admin consent and choose its groups.
          </p>
          <a class="button button-primary" href={href({ screen: 'new-connection' })}>
            Create the first connection
          </a>
        </div>
      )}
      {connections.length > 0 && (
        <div class="card card-flush table-wrap">
          <table class="table">
            <caption class="visually-hidden">Connections and their health</caption>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Tenant</th>
                <th scope="col">Division</th>
                <th scope="col">Consent</th>
                <th scope="col">Last run</th>
                <th scope="col">Next sync</th>
                <th scope="col">Needs attention</th>
              </tr>
            </thead>
            <tbody>
              {connections.map((connection) => {
                const next = nextSyncText(connection);
                const attention = attentionOf(connection);
                return (
                  <tr key={connection.id}>
                    <th scope="row">
                      <a href={href({ screen: 'connection', id: connection.id, tab: 'overview' })}>
                        {connectionName(connection)}
                      </a>
                      <div class="muted small">{connection.id}</div>
                    </th>
                    <td class="break">{connection.document.tenantId}</td>
                    <td>{connection.document.division}</td>
                    <td>
                      {connection.consent ? (
                        <Tag tone="good">Granted</Tag>
                      ) : (
                        <Tag tone="warn">Not granted</Tag>
                      )}
                    </td>
                    <td>
                      {connection.lastRun ? (
                        <>
                          <RunStatusBadge status={connection.lastRun.status ?? 'running'} />{' '}
                          <span title={formatDateTime(connection.lastRun.at)}>
                            {formatRelative(connection.lastRun.at)}
                          </span>
                        </>
                      ) : (
                        <span class="muted">Never</span>
                      )}
                    </td>
                    <td title={next.title}>{next.text}</td>
                    <td>
                      {attention.length === 0 ? (
                        <span class="muted">Nothing</span>
                      ) : (
                        <ul class="plain">
                          {attention.map((item) => (
                            <li key={item.text}>
                              <Tag tone={item.tone}>{item.text}</Tag>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
