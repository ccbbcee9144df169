import type { RunReport } from '../../shared/storage/runs.js';
import { readInputLine } from '../support/child.js';
import type { BenchEnvironment } from '../support/environment.js';
import { benchConnection, benchService, CONNECTION_ID, meterByTable } from '../support/service.js';
import type { Measured } from './measured.js';

/**
 * Scenarios 2 and 3: a full import end to end into Azurite, and a sync of the changes the orchestrator
 * made in the tenant just before. Both go through the service the CLI and the Function app call; the
 * figures are the run report's own (its duration, Graph and storage requests).
 */
function measuredOf(report: RunReport): Measured & { fallbackReason: string | null } {
  if (report.status === 'failed') {
    throw new Error(`The ${report.mode} failed: ${report.error?.message ?? 'no message'}`);
  }
  return {
    seconds: report.durationMs / 1000,
    usersProcessed: report.usersRead,
    storageTransactions: report.storageTransactions,
    fallbackReason: report.fallbackReason,
    details: {
      status: report.status,
      actions: report.actions,
      pages: report.pages,
      graphRequestsByRun: report.graphRequests,
    },
  };
}

export async function importScenario(
  env: BenchEnvironment,
  groupIds: readonly string[],
  users: number,
): Promise<Measured> {
  const service = await benchService(env);
  await service.applyConnection(benchConnection(env, groupIds, users));
  const storageByTable = meterByTable(service);
  const { fallbackReason: _none, ...measured } = measuredOf(await service.import(CONNECTION_ID));
  return { ...measured, details: { ...measured.details, storageByTable: storageByTable() } };
}

/**
 * The timer's sync in a warm process: a first sync (nothing has changed since the import) loads code,
 * JIT and connections; then the orchestrator changes the tenant and the measured sync runs. Each run
 * still gets its own credential and token, as every timer run does.
 */
export async function syncScenario(env: BenchEnvironment): Promise<Measured> {
  const service = await benchService(env);
  const warmUp = measuredOf(await service.sync(CONNECTION_ID));
  await readInputLine();
  const storageByTable = meterByTable(service);
  const cpuAtStart = process.cpuUsage();
  const { fallbackReason, ...measured } = measuredOf(await service.sync(CONNECTION_ID));
  const cpu = process.cpuUsage(cpuAtStart);
  // A sync that read everything again would measure an import, not a sync.
  if (fallbackReason !== null) throw new Error(`The sync fell back to a full import: ${fallbackReason}`);
  return {
    ...measured,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    details: {
      ...measured.details,
      coldSyncWithoutChangesSeconds: warmUp.seconds,
      storageByTable: storageByTable(),
    },
  };
}
