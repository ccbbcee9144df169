import { inject } from 'vitest';
import type { ConnectionConfigDocument } from '../../shared/config/connection.js';
import { EnvironmentSecretStore } from '../../shared/secrets/secret-store.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { SyncService } from '../../shared/sync/service.js';
import {
  startSimulator,
  type SimulatedTenant,
  type Simulator,
  type SimulatorOptions,
} from '../simulator/index.js';
import { uniqueName } from './names.js';

/**
 * A simulated tenant, a fresh set of tables in Azurite, and the real SyncService between them: the
 * whole engine against real parts. Each fixture has its own table prefix, so test files run in parallel.
 */
export interface SyncFixture {
  readonly sim: Simulator;
  readonly tenant: SimulatedTenant;
  readonly service: SyncService;
  readonly tablePrefix: string;
  readonly secretVariable: string;
  readonly env: Record<string, string>;
  /** A connection document for this tenant; `overrides` are laid over it. */
  connection(overrides?: Partial<ConnectionConfigDocument>): ConnectionConfigDocument;
  /** Another SyncService over the same tables, as a second process would have. */
  newService(options?: { leaseDurationMs?: number; tablePrefix?: string }): SyncService;
  close(): Promise<void>;
}

export interface SyncFixtureOptions {
  readonly users?: number;
  readonly groups?: number;
  readonly seed?: number;
  readonly simulator?: SimulatorOptions;
  readonly leaseDurationMs?: number;
}

export async function startSyncFixture(options: SyncFixtureOptions = {}): Promise<SyncFixture> {
  const sim = await startSimulator({
    quirks: false,
    ...options.simulator,
    tenants: [{ users: options.users ?? 300, groups: options.groups ?? 12, seed: options.seed ?? 7 }],
  });
  const tenant = sim.tenants[0] as SimulatedTenant;
  const app = sim.apps[0];
  if (!app) throw new Error('the simulator has no app');
  const secretVariable = 'ENTRASYNC_TEST_SECRET';
  const env = { [secretVariable]: app.clientSecret };
  const tablePrefix = uniqueName('es');
  const storage = createStorageClients({
    kind: 'connectionString',
    connectionString: inject('azuriteConnectionString'),
  });
  const build = (overrides: { leaseDurationMs?: number; tablePrefix?: string } = {}): SyncService =>
    new SyncService({
      storage,
      tablePrefix: overrides.tablePrefix ?? tablePrefix,
      secrets: new EnvironmentSecretStore(env),
      graph: { retryBudgetSeconds: 20, trustedCa: sim.ca },
      leaseDurationMs: overrides.leaseDurationMs ?? options.leaseDurationMs ?? 60_000,
    });
  const service = build();
  await service.initialize();
  return {
    sim,
    tenant,
    service,
    tablePrefix,
    secretVariable,
    env,
    connection: (overrides = {}) => ({
      id: 'contoso',
      tenantId: tenant.tenantId,
      clientId: app.clientId,
      clientSecret: { env: secretVariable },
      cloud: { authorityHost: sim.authorityHost, graphBaseUrl: sim.graphBaseUrl },
      division: 'north',
      ...overrides,
    }),
    newService: build,
    close: async () => {
      await sim.close();
    },
  };
}
