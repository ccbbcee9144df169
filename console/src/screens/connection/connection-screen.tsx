import { useState } from 'preact/hooks';
import type { ConnectionView } from '../../api/types.js';
import { CONNECTION_TABS, href, type ConnectionTab } from '../../app/routes.js';
import { useApi } from '../../app/services.js';
import { Tag } from '../../components/badges.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { PageHeading } from '../../components/page-heading.js';
import { connectionName } from '../../lib/health.js';
import { useAsync } from '../../lib/use-async.js';
import { GroupsTab } from './groups.js';
import { ImportTab } from './import.js';
import { OverviewTab } from './overview.js';
import { PreviewTab } from './preview.js';
import { RunDetail } from './run-detail.js';
import { RunsTab } from './runs.js';
import { SettingsTab } from './settings.js';
import { UsersTab } from './users.js';

const TAB_LABELS: Readonly<Record<ConnectionTab, string>> = {
  overview: 'Overview',
  groups: 'Groups',
  preview: 'Preview',
  import: 'Import',
  users: 'Users',
  runs: 'Runs',
  settings: 'Settings',
};

export interface TabProps {
  readonly connection: ConnectionView;
  /** A tab that saved the connection hands back the API's new view of it. */
  readonly onSaved: (connection: ConnectionView) => void;
}

/** One connection: its name, the tabs, and the tab's screen. */
export function ConnectionScreen({ id, tab, runId }: { id: string; tab: ConnectionTab; runId?: string }) {
  const api = useApi();
  const loaded = useAsync(async () => await api.getConnection(id), [id]);
  // What a tab saved wins over what was loaded, until another connection is opened.
  const [saved, setSaved] = useState<ConnectionView | null>(null);
  const current = saved?.id === id ? saved : loaded.data?.id === id ? loaded.data : null;

  if (current === null) {
    return (
      <>
        <Breadcrumb name={id} />
        <PageHeading title={id} />
        {loaded.status === 'error' ? (
          <ErrorAlert error={loaded.error} title="The connection could not be loaded." />
        ) : (
          <p role="status">Loading the connection…</p>
        )}
      </>
    );
  }
  const name = connectionName(current);
  const props: TabProps = { connection: current, onSaved: setSaved };
  return (
    <>
      <Breadcrumb name={name} />
      <div class="page-header">
        <PageHeading title={`${name}: ${runId === undefined ? TAB_LABELS[tab] : 'Run'}`}>{name}</PageHeading>
        {!current.enabled && <Tag tone="neutral">Disabled</Tag>}
      </div>
      <p class="muted subtitle">
        {current.document.tenantId} · division {current.document.division}
      </p>
      <nav class="tabs" aria-label="Connection">
        {CONNECTION_TABS.map((candidate) => (
          <a
            key={candidate}
            href={href({ screen: 'connection', id, tab: candidate })}
            aria-current={candidate === tab && runId === undefined ? 'page' : undefined}
            class={candidate === tab ? 'is-active' : undefined}
          >
            {TAB_LABELS[candidate]}
          </a>
        ))}
      </nav>
      <div class="tab-body">
        {runId !== undefined ? (
          <RunDetail {...props} runId={runId} />
        ) : tab === 'overview' ? (
          <OverviewTab {...props} />
        ) : tab === 'groups' ? (
          <GroupsTab {...props} />
        ) : tab === 'preview' ? (
          <PreviewTab {...props} />
        ) : tab === 'import' ? (
          <ImportTab {...props} />
        ) : tab === 'users' ? (
          <UsersTab {...props} />
        ) : tab === 'runs' ? (
          <RunsTab {...props} />
        ) : (
          <SettingsTab {...props} />
        )}
      </div>
    </>
  );
}

function Breadcrumb({ name }: { name: string }) {
  return (
    <nav class="breadcrumb" aria-label="Breadcrumb">
      <a href={href({ screen: 'connections' })}>Connections</a>
      <span aria-hidden="true"> / </span>
      <span aria-current="location">{name}</span>
    </nav>
  );
}
