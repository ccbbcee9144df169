import { useState } from 'preact/hooks';
import type { AppUser } from '../../api/types.js';
import { useApi } from '../../app/services.js';
import { Tag } from '../../components/badges.js';
import { Breakable } from '../../components/breakable.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { Pager } from '../../components/pager.js';
import { formatDateTime, formatValue } from '../../lib/format.js';
import { useAsync } from '../../lib/use-async.js';
import type { TabProps } from './connection-screen.js';

const PAGE_SIZE = 50;

/** The app users this connection manages, as the application reads them from the table. */
export function UsersTab({ connection }: TabProps) {
  const api = useApi();
  const [skip, setSkip] = useState(0);
  const page = useAsync(
    async () => await api.listAppUsers(connection.id, PAGE_SIZE, skip),
    [connection.id, skip],
  );
  const data = page.data;
  return (
    <section class="card" aria-labelledby="users-heading">
      <h2 id="users-heading">App users</h2>
      {page.status === 'error' && <ErrorAlert error={page.error} title="The users could not be loaded." />}
      {data !== undefined && data.total === 0 && <p class="muted">No app users yet: run an import.</p>}
      {data !== undefined && data.users.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-busy={page.status === 'loading'}>
            <caption class="visually-hidden">App users of {connection.id}</caption>
            <thead>
              <tr>
                <th scope="col">User name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Display name</th>
                <th scope="col">Status</th>
                <th scope="col">App groups</th>
                <th scope="col">Roles</th>
                <th scope="col">Licence</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((user) => (
                <tr key={user.appUserId}>
                  <th scope="row" class="break">
                    <Breakable text={formatValue(user.userName)} />
                  </th>
                  <td class="break">
                    <Breakable text={formatValue(user.mail)} />
                  </td>
                  <td>{formatValue(user.displayName)}</td>
                  <td>
                    <UserStatus user={user} />
                  </td>
                  <td>{formatValue(user.appGroups)}</td>
                  <td>{formatValue(user.roles)}</td>
                  <td>{formatValue(user.license)}</td>
                  <td>{formatDateTime(user.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p role="status" class="visually-hidden">
        {page.status === 'loading' ? 'Loading users…' : ''}
      </p>
      {data !== undefined && data.total > 0 && (
        <Pager label="App users" total={data.total} top={PAGE_SIZE} skip={skip} onSkip={setSkip} />
      )}
    </section>
  );
}

function UserStatus({ user }: { user: AppUser }) {
  if (user.status === 'active') return <Tag tone="good">Active</Tag>;
  if (user.status === 'suspended') {
    return (
      <>
        <Tag tone="warn">Suspended</Tag>
        {user.suspendedBy !== null && <div class="muted small">{user.suspendedBy.replace(/_/g, ' ')}</div>}
      </>
    );
  }
  return <Tag tone="neutral">{user.status}</Tag>;
}
