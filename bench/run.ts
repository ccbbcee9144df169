/**
 * The benchmark suite (`npm run bench`; docs/dev/benchmarks.md). For each tenant size and added
 * latency it starts the simulated tenant and Azurite in processes of their own, runs each scenario in
 * a fresh process (so that its peak RSS is its own), takes the Graph request counts from the simulated
 * tenant, prints a table and the targets, and writes bench/results.json.
 *
 *   npm run bench -- [--users 10000,100000] [--latency 0,50] [--scenario read,import,sync,queue]
 *                    [--groups 200] [--changes 100,1000] [--workers 1,2,4] [--queue-latency 0]
 *                    [--heap-mb 192] [--out FILE]
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnScenario, type ChildResult, type ScenarioSpec } from './support/child.js';
import { startEnvironment, type RunningEnvironment, type TenantShape } from './support/environment.js';
import { childCpuSeconds } from './support/cpu.js';
import { ROOT } from './support/processes.js';
import {
  graphCountsOf,
  loadAverage,
  machineInfo,
  resultsTable,
  type ScenarioRecord,
} from './support/results.js';
import { checkTargets, targetsTable } from './support/targets.js';

const SCENARIOS = ['read', 'import', 'sync', 'queue'] as const;
type Scenario = (typeof SCENARIOS)[number];

const usage = `Usage: npm run bench -- [options]
  --users N,N       tenant sizes (default 10000,100000; 1000000 on request)
  --groups N        groups in the tenant (default 200)
  --latency MS,MS   latency added to each Graph request (default 0,50)
  --scenario LIST   read, import, sync, queue (default all)
  --changes N,N     changes per sync (default 100,1000)
  --workers N,N     queue workers (default 1,2,4)
  --queue-latency MS,MS  latency for the queue scenario (default 0: its page items make no Graph
                    requests, so added latency only delays its read items)
  --profile DIR     write a CPU profile of each scenario process into DIR
  --heap-mb N       old-space cap of each scenario process in MB (default 192; 0: V8's default)
  --out FILE        where the results go (default bench/results.json)`;

function numbers(name: string, raw: string): number[] {
  const list = raw.split(',').map((part) => Number(part.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0)) {
    process.stderr.write(`--${name} takes whole numbers separated by commas, got '${raw}'\n${usage}\n`);
    process.exit(2);
  }
  return list;
}

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000,100000' },
    groups: { type: 'string', default: '200' },
    latency: { type: 'string', default: '0,50' },
    scenario: { type: 'string', default: SCENARIOS.join(',') },
    changes: { type: 'string', default: '100,1000' },
    workers: { type: 'string', default: '1,2,4' },
    'queue-latency': { type: 'string', default: '0' },
    'heap-mb': { type: 'string', default: '192' },
    profile: { type: 'string' },
    out: { type: 'string', default: 'bench/results.json' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const sizes = numbers('users', values.users).filter((n) => n > 0);
const [groups = 200] = numbers('groups', values.groups);
const latencies = numbers('latency', values.latency);
const changeCounts = numbers('changes', values.changes).filter((n) => n > 0);
const workerCounts = numbers('workers', values.workers).filter((n) => n > 0);
const queueLatencies = numbers('queue-latency', values['queue-latency']);
const [heapMb = 192] = numbers('heap-mb', values['heap-mb']);
const scenarios = values.scenario.split(',').map((s) => s.trim());
for (const scenario of scenarios) {
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    process.stderr.write(`Unknown scenario '${scenario}'\n${usage}\n`);
    process.exit(2);
  }
}
const wants = (scenario: Scenario): boolean => scenarios.includes(scenario);

const records: ScenarioRecord[] = [];
const machine = machineInfo();
const startedAt = new Date();
const loadBefore = loadAverage();
let running: RunningEnvironment | undefined;

const round = (value: number): number => Math.round(value * 100) / 100;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}

function progress(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

// Stop the simulator and Azurite on Ctrl-C too: they are our children and must not outlive us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

/**
 * Runs one scenario process and records it. With `whenReady`, the process first gets ready (warms
 * up), then `whenReady` prepares the tenant, and only then are requests counted and the process told
 * to go.
 */
async function measure(
  running: RunningEnvironment,
  spec: Omit<ScenarioSpec, 'env' | 'heapMb'>,
  record: Pick<ScenarioRecord, 'scenario' | 'label' | 'changes' | 'workers'>,
  shape: TenantShape,
  whenReady?: () => Promise<void>,
): Promise<ScenarioRecord> {
  progress(`${record.label}: ${shape.users} users, ${shape.latencyMs} ms`);
  const cpuNow = async () => ({
    azurite: await childCpuSeconds('azurite'),
    tenant: await running.control.cpuSeconds(),
  });
  await running.control.resetRequests();
  const child = spawnScenario(
    {
      ...spec,
      env: running.env,
      heapMb,
      ...(values.profile === undefined ? {} : { profileDir: resolve(values.profile) }),
    },
    // Generous (Azurite slows as its tables grow: 1,000,000 users take most of an hour), but a
    // scenario that takes this long is stuck, and the suite must finish.
    10 * 60_000 + shape.users * 6,
  );
  let before = await cpuNow();
  if (whenReady) {
    try {
      await child.ready;
      await whenReady();
      await running.control.resetRequests();
      before = await cpuNow();
      child.send('go');
    } catch (error) {
      child.kill();
      throw error;
    }
  }
  const result: ChildResult = await child.result;
  const after = await cpuNow();
  const graph = graphCountsOf(await running.control.requests());
  const workerRss = result.details.workerPeakRssMb;
  const measured: ScenarioRecord = {
    ...record,
    users: shape.users,
    groups: shape.groups,
    latencyMs: shape.latencyMs,
    heapMb,
    seconds: Math.round(result.seconds * 1000) / 1000,
    usersProcessed: result.usersProcessed,
    usersPerSecond:
      record.scenario === 'sync' ? null : Math.round(result.usersProcessed / Math.max(result.seconds, 0.001)),
    peakRssMb: Math.round(Array.isArray(workerRss) ? Math.max(...(workerRss as number[])) : result.peakRssMb),
    graph,
    storageTransactions: result.storageTransactions,
    cpuSeconds: {
      scenario: round(result.cpuSeconds),
      azurite:
        after.azurite === undefined || before.azurite === undefined
          ? null
          : round(after.azurite - before.azurite),
      tenant: round(after.tenant - before.tenant),
    },
    details: result.details,
  };
  records.push(measured);
  const { cpuSeconds } = measured;
  progress(
    `  ${measured.seconds} s, ${measured.usersPerSecond ?? '-'} users/s, ${measured.peakRssMb} MB, ${graph.requests} Graph requests, ${measured.storageTransactions ?? '-'} storage; CPU s: scenario ${cpuSeconds.scenario}, Azurite ${cpuSeconds.azurite ?? '?'}, tenant ${cpuSeconds.tenant}`,
  );
  return measured;
}

const failures: string[] = [];

/**
 * Runs one step; a failure is reported and recorded, and the suite goes on with the next step (a
 * stuck or failing scenario must not cost the others). Returns whether it succeeded.
 */
async function attempt(what: string, step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return true;
  } catch (error) {
    failures.push(`${what}: ${describe(error)}`);
    progress(`FAILED ${what}: ${describe(error)}`);
    return false;
  }
}

async function withEnvironment(shape: TenantShape, work: (env: RunningEnvironment) => Promise<void>) {
  const what = `environment of ${shape.users} users at ${shape.latencyMs} ms`;
  await attempt(what, async () => {
    running = await startEnvironment(shape);
    try {
      await work(running);
    } finally {
      await running.stop();
      running = undefined;
    }
  });
}

/** Read, import and syncs, one after another on one tenant and Azurite. */
async function scenarioSteps(env: RunningEnvironment, shape: TenantShape): Promise<void> {
  const { users } = shape;
  const at = `at ${users} users, ${shape.latencyMs} ms`;
  if (wants('read')) {
    await attempt(`Graph read ${at}`, async () => {
      await measure(env, { kind: 'read', users }, { scenario: 'read', label: 'Graph read' }, shape);
    });
  }
  if (!wants('import') && !wants('sync')) return;
  // The sync scenarios start from this import, so it runs for them too.
  const imported = await attempt(`Full import ${at}`, async () => {
    await measure(env, { kind: 'import', users }, { scenario: 'import', label: 'Full import' }, shape);
  });
  if (!wants('sync') || !imported) return;
  for (const [index, changes] of changeCounts.entries()) {
    await attempt(`Sync of ${changes} changes ${at}`, async () => {
      await measure(
        env,
        { kind: 'sync', users },
        { scenario: 'sync', label: `Sync of ${changes} changes`, changes },
        shape,
        async () => {
          const made = await env.control.randomChanges(changes, 1000 + index);
          progress(`  ${made} random changes made in the tenant`);
        },
      );
    });
  }
}

async function runAll(): Promise<void> {
  for (const users of sizes) {
    for (const latencyMs of [...new Set([...latencies, ...(wants('queue') ? queueLatencies : [])])]) {
      const shape: TenantShape = { users, groups, latencyMs };
      if (latencies.includes(latencyMs) && (wants('read') || wants('import') || wants('sync'))) {
        await withEnvironment(shape, async (env) => {
          await scenarioSteps(env, shape);
        });
      }
      if (wants('queue') && queueLatencies.includes(latencyMs)) {
        for (const workers of workerCounts) {
          // A fresh tenant and Azurite for each: every queue import starts from the same empty store.
          await withEnvironment(shape, async (env) => {
            const label = `Queue import, ${workers} worker${workers === 1 ? '' : 's'}`;
            await attempt(`${label} at ${users} users, ${latencyMs} ms`, async () => {
              await measure(
                env,
                { kind: 'queue', users, workers },
                { scenario: 'queue', label, workers },
                shape,
              );
            });
          });
        }
      }
    }
  }
}

await runAll();

const targets = checkTargets(records);
const out = resolve(ROOT, values.out);
await writeFile(
  out,
  `${JSON.stringify(
    {
      date: startedAt.toISOString(),
      machine,
      load: { before: loadBefore, after: loadAverage() },
      options: {
        queueLatencyMs: queueLatencies,
        users: sizes,
        groups,
        latencyMs: latencies,
        scenarios,
        changes: changeCounts,
        workers: workerCounts,
        heapMb,
      },
      results: records,
      targets,
      failures,
    },
    null,
    2,
  )}\n`,
);

process.stdout.write(
  `\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}; load ${loadBefore.join(' ')} -> ${loadAverage().join(' ')}\n\n`,
);
process.stdout.write(`${resultsTable(records)}\n\n${targetsTable(targets)}\n\nWritten to ${out}\n`);
if (failures.length > 0) {
  process.stdout.write(`\nFailed:\n${failures.map((failure) => `- ${failure}`).join('\n')}\n`);
  process.exitCode = 1;
}
