import { readFile } from 'node:fs/promises';
import { EnvironmentSecretStore } from '../../shared/secrets/secret-store.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { TABLE_NAMES, type TableKind } from '../../shared/storage/tables.js';
import { SyncService } from '../../shared/sync/service.js';
import type { BenchEnvironment } from './environment.js';

/** The connection every engine scenario imports and syncs: the tenant, three mapped groups. */
export const CONNECTION_ID = 'bench';
export const TABLE_PREFIX = 'Bench';
const SECRET_VARIABLE = 'BENCH_CLIENT_SECRET';

/**
 * The engine as the CLI and the Function app build it, on the benchmark's Azurite and simulated tenant.
 * The client secret comes from the environment, like a local connection's.
 */
export async function benchService(env: BenchEnvironment): Promise<SyncService> {
  const service = new SyncService({
    storage: createStorageClients({ kind: 'connectionString', connectionString: env.azurite }),
    tablePrefix: TABLE_PREFIX,
    secrets: new EnvironmentSecretStore({ [SECRET_VARIABLE]: env.clientSecret }),
    graph: { retryBudgetSeconds: 300, trustedCa: await readFile(env.caPath, 'utf8') },
  });
  await service.initialize();
  return service;
}

/**
 * The connection document: every user in scope, three groups mapped to app groups (so the import reads
 * their members), one licence pool with a seat for everyone.
 */
export function benchConnection(env: BenchEnvironment, groupIds: readonly string[], users: number): unknown {
  return {
    id: CONNECTION_ID,
    tenantId: env.tenantId,
    clientId: env.clientId,
    clientSecret: { env: SECRET_VARIABLE },
    cloud: { authorityHost: env.authorityHost, graphBaseUrl: env.graphBaseUrl },
    division: 'Bench',
    groupMappings: groupIds
      .slice(0, 3)
      .map((id, index) => ({ group: { id }, appGroup: `App group ${index + 1}` })),
    licenses: { seats: { standard: users }, default: 'standard' },
  };
}

/**
 * Storage requests of a service by table and kind ('Users transaction', 'Jobs GET'), counted on the
 * service's own table clients: where a scenario's storage requests go.
 */
export function meterByTable(service: SyncService): () => Record<string, number> {
  const counts = new Map<string, number>();
  for (const kind of Object.keys(TABLE_NAMES) as TableKind[]) {
    service.stores.tables.client(kind).pipeline.addPolicy({
      name: 'benchStorageByTable',
      async sendRequest(request, next) {
        const what = request.url.includes('$batch') ? 'transaction' : request.method;
        const key = `${TABLE_NAMES[kind]} ${what}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return await next(request);
      },
    });
  }
  return () => Object.fromEntries([...counts].sort(([, a], [, b]) => b - a));
}
