import { cpus, availableParallelism, loadavg, platform, release, totalmem } from 'node:os';
import type { RequestCounts } from './environment.js';

/** What the suite records of one scenario run (bench/results.json, docs/dev/benchmarks.md). */
export interface ScenarioRecord {
  readonly scenario: 'read' | 'import' | 'sync' | 'queue';
  readonly label: string;
  /** Users in the tenant. */
  readonly users: number;
  readonly groups: number;
  readonly latencyMs: number;
  readonly changes?: number;
  readonly workers?: number;
  readonly heapMb: number;
  /** Wall time of the work. */
  readonly seconds: number;
  readonly usersProcessed: number;
  readonly usersPerSecond: number | null;
  /** Peak RSS of the scenario's process (the largest worker's for the queue). */
  readonly peakRssMb: number;
  readonly graph: GraphCounts;
  readonly storageTransactions: number | null;
  /**
   * CPU seconds over the scenario's wall time, per process: the scenario (its workers included),
   * Azurite and the simulated tenant. Near `seconds` means that process was busy all along.
   */
  readonly cpuSeconds: {
    readonly scenario: number;
    readonly azurite: number | null;
    readonly tenant: number;
  };
  readonly details: Readonly<Record<string, unknown>>;
}

/** Graph requests as the simulated tenant counted them: HTTP requests, and apart those inside $batch. */
export interface GraphCounts {
  readonly requests: number;
  readonly byEndpoint: Readonly<Record<string, number>>;
  readonly batched: number;
  readonly batchedByEndpoint: Readonly<Record<string, number>>;
  /** Token and metadata requests to the login endpoints: not Graph requests. */
  readonly loginRequests: number;
}

export function graphCountsOf(counts: RequestCounts): GraphCounts {
  const byEndpoint: Record<string, number> = {};
  let requests = 0;
  let loginRequests = 0;
  for (const [endpoint, count] of Object.entries(counts.byEndpoint)) {
    if (/^[A-Z]+ \/v1\.0\//.test(endpoint)) {
      byEndpoint[shortEndpoint(endpoint)] = count;
      requests += count;
    } else {
      loginRequests += count;
    }
  }
  const batchedByEndpoint: Record<string, number> = {};
  for (const [endpoint, count] of Object.entries(counts.batched.byEndpoint)) {
    batchedByEndpoint[shortEndpoint(endpoint)] = count;
  }
  return { requests, byEndpoint, batched: counts.batched.total, batchedByEndpoint, loginRequests };
}

/** 'GET /v1.0/groups/{id}/members' -> 'groups/{id}/members'; the method only when it is not GET. */
function shortEndpoint(endpoint: string): string {
  const [method, path = ''] = endpoint.split(' ');
  const short = path.replace(/^\/v1\.0\//, '');
  return method === 'GET' ? short : `${method ?? ''} ${short}`;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

/** The 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
export function loadAverage(): readonly number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function seconds(value: number): string {
  return value < 10 ? `${value.toFixed(2)} s` : `${value.toFixed(1)} s`;
}

function graphCell(graph: GraphCounts): string {
  const parts = Object.entries(graph.byEndpoint)
    .sort(([, a], [, b]) => b - a)
    .map(([endpoint, count]) => `${endpoint} ${count}`);
  const inside = graph.batched > 0 ? `; ${int.format(graph.batched)} inside $batch` : '';
  return `${int.format(graph.requests)} (${parts.join(', ')}${inside})`;
}

/** The results as a Markdown table: what the suite prints and what the README shows. */
export function resultsTable(records: readonly ScenarioRecord[]): string {
  const rows = [
    '| Scenario | Tenant | Latency | Time | Users/s | Peak RSS | Graph requests (by endpoint) | Storage requests |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const record of records) {
    rows.push(
      `| ${record.label} | ${int.format(record.users)} | ${record.latencyMs} ms | ${seconds(record.seconds)} | ${
        record.usersPerSecond === null ? '' : int.format(record.usersPerSecond)
      } | ${Math.round(record.peakRssMb)} MB | ${graphCell(record.graph)} | ${
        record.storageTransactions === null ? '' : int.format(record.storageTransactions)
      } |`,
    );
  }
  return rows.join('\n');
}
