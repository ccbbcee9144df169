/**
 * The engine end to end: a full import of a simulated tenant into Azurite, then syncs of N random
 * changes. The simulator and Azurite run in their own processes, so the peak RSS printed is the
 * engine's (this process).
 *
 *   npx tsx bench/engine.ts --users 100000 --groups 200 [--latency 0] [--changes 100,1000]
 *
 * Prints a table and one JSON line per scenario.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';
import { EnvironmentSecretStore } from '../shared/secrets/secret-store.js';
import { createStorageClients } from '../shared/storage/clients.js';
import type { RunReport } from '../shared/storage/runs.js';
import { SyncService } from '../shared/sync/service.js';
import { startAzurite } from '../test/harness/azurite.js';
import { peakRssMb, startSimulatorProcess } from './support/processes.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    groups: { type: 'string', default: '200' },
    latency: { type: 'string', default: '0' },
    changes: { type: 'string', default: '100,1000' },
  },
});
const users = Number(values.users);
const groups = Number(values.groups);
const changeCounts = values.changes
  .split(',')
  .map(Number)
  .filter((count) => count > 0);

interface Measurement {
  scenario: string;
  users: number;
  seconds: number;
  usersPerSecond: number;
  graphRequests: number;
  storageRequests: number;
  peakRssMb: number;
  actions: Record<string, number>;
}

function measure(scenario: string, report: RunReport, processed: number): Measurement {
  const seconds = report.durationMs / 1000;
  return {
    scenario,
    users: processed,
    seconds: Math.round(seconds * 100) / 100,
    usersPerSecond: Math.round(processed / seconds),
    graphRequests: report.graphRequests,
    storageRequests: report.storageTransactions,
    peakRssMb: peakRssMb(),
    actions: report.actions,
  };
}

const azurite = await startAzurite();
const simulator = await startSimulatorProcess([
  '--users',
  String(users),
  '--groups',
  String(groups),
  '--latency',
  values.latency,
]);
const results: Measurement[] = [];
let control: Agent | undefined;
try {
  const { start } = simulator;
  const tenant = start.tenants[0];
  const app = start.apps[0];
  if (!tenant || !app) throw new Error('The simulator reported no tenant or app');
  const ca = await readFile(start.caPath, 'utf8');
  // The control API is served on the simulator's own certificate.
  control = new Agent({ connect: { ca } });
  const service = new SyncService({
    storage: createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString }),
    tablePrefix: 'Bench',
    secrets: new EnvironmentSecretStore({ BENCH_SECRET: app.clientSecret }),
    graph: { retryBudgetSeconds: 300, trustedCa: ca },
  });
  await service.initialize();

  // Map three groups, as an administrator would: the reader then fetches exactly their members.
  const controlUrl = start.controlUrl.replace(/\/+$/, '');
  const groupIds = await listGroupIds(controlUrl, tenant.tenantId);
  await service.applyConnection({
    id: 'bench',
    tenantId: tenant.tenantId,
    clientId: app.clientId,
    clientSecret: { env: 'BENCH_SECRET' },
    cloud: { authorityHost: start.authorityHost, graphBaseUrl: start.graphBaseUrl },
    division: 'Bench',
    groupMappings: groupIds
      .slice(0, 3)
      .map((id, index) => ({ group: { id }, appGroup: `App group ${index + 1}` })),
    licenses: { seats: { standard: users }, default: 'standard' },
  });

  const imported = await service.import('bench');
  results.push(measure(`full import ${users} users`, imported, imported.usersRead));

  for (const count of changeCounts) {
    await post(`${controlUrl}/tenants/${tenant.tenantId}/random-changes`, { count, seed: count });
    const synced = await service.sync('bench');
    results.push(measure(`sync of ${count} changes`, synced, synced.usersRead));
  }
} finally {
  await simulator.stop();
  await azurite.stop();
}

console.log('\n| scenario | users | seconds | users/s | Graph requests | storage requests | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|');
for (const result of results) {
  console.log(
    `| ${result.scenario} | ${result.users} | ${result.seconds} | ${result.usersPerSecond} | ${result.graphRequests} | ${result.storageRequests} | ${result.peakRssMb} |`,
  );
}
for (const result of results) console.log(JSON.stringify(result));

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    dispatcher: control,
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return await response.json();
}

async function listGroupIds(controlUrl: string, tenantId: string): Promise<string[]> {
  const response = await fetch(`${controlUrl}/tenants/${tenantId}/groups`, { dispatcher: control });
  if (!response.ok) throw new Error(`listing groups answered ${response.status}`);
  return ((await response.json()) as { ids: string[] }).ids;
}
