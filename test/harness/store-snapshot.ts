import { odata } from '@azure/data-tables';
import type { SyncService } from '../../shared/sync/service.js';

/** What downstream readers see, without the times and run ids that differ between runs. */
export async function snapshot(
  service: SyncService,
  connectionId = 'contoso',
  division = 'north',
): Promise<Record<string, unknown>> {
  const users: string[] = [];
  for await (const user of service.stores.users.listLinked(connectionId)) {
    const { createdAt: _c, updatedAt: _u, lastRunId: _r, etag: _e, deletedAt, ...rest } = user;
    users.push(JSON.stringify({ ...rest, deleted: deletedAt !== '' }));
  }
  const claims: string[] = [];
  for await (const claim of service.stores.tables.client('emailClaims').listEntities()) {
    claims.push(`${String(claim.rowKey)}=${String(claim.sourceId)}`);
  }
  const pools = await service.stores.licenses.list(division);
  const groups = (await service.stores.groups.load(connectionId))
    .map((group) => JSON.stringify(group))
    .sort();
  const cursors = await Promise.all(
    (['users', 'groups'] as const).map(
      async (kind) => (await service.stores.cursors.get(connectionId, kind)) !== undefined,
    ),
  );
  const running: string[] = [];
  for await (const run of service.stores.tables
    .client('runs')
    .listEntities({ queryOptions: { filter: odata`status eq 'running'` } })) {
    running.push(String(run.rowKey));
  }
  return { users: users.sort(), claims: claims.sort(), pools, groups, cursors, running };
}
