/**
 * One benchmark scenario in a process of its own (started by bench/run.ts, never by hand): reads its
 * spec from BENCH_SPEC, runs, and prints one result line with its own peak RSS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { printResult, scenarioSpecSchema, watchParent } from './support/child.js';
import { SimulatorControl } from './support/environment.js';
import { importScenario, syncScenario } from './scenarios/engine-runs.js';
import type { Measured } from './scenarios/measured.js';
import { queueScenario, queueWorker } from './scenarios/queue.js';
import { readScenario } from './scenarios/read.js';

const spec = scenarioSpecSchema.parse(JSON.parse(process.env.BENCH_SPEC ?? 'null'));
watchParent();

async function groupIds(): Promise<string[]> {
  const control = await SimulatorControl.of(spec.env);
  try {
    return await control.groupIds();
  } finally {
    await control.close();
  }
}

async function run(): Promise<Measured> {
  switch (spec.kind) {
    case 'read':
      return await readScenario(spec.env, await groupIds());
    case 'import':
      return await importScenario(spec.env, await groupIds(), spec.users);
    case 'sync':
      return await syncScenario(spec.env);
    case 'queue':
      return await queueScenario(spec, await groupIds());
    case 'queue-worker':
      return await queueWorker(spec.env);
  }
}

/** run(), under the CPU profiler when asked: a .cpuprofile for Chrome DevTools or speedscope. */
async function profiled(): Promise<Measured> {
  if (spec.profileDir === undefined) return await run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(spec.profileDir, { recursive: true });
    const file = join(spec.profileDir, `${spec.kind}-${spec.users}-${process.pid}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    process.stderr.write(`[bench ${spec.kind}] CPU profile in ${file}\n`);
    session.disconnect();
  }
}

// From here: the modules are loaded, what follows is the scenario's own work.
const cpuAtStart = process.cpuUsage();
try {
  const measured = await profiled();
  const cpu = process.cpuUsage(cpuAtStart);
  const workersCpu =
    typeof measured.details.workersCpuSeconds === 'number' ? measured.details.workersCpuSeconds : 0;
  printResult({
    ...measured,
    details: { ...measured.details },
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: measured.cpuSeconds ?? (cpu.user + cpu.system) / 1e6 + workersCpu,
  });
  // Pools and pipes left open by the SDKs must not keep a finished scenario alive.
  process.exit(0);
} catch (error) {
  process.stderr.write(
    `[bench ${spec.kind}] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
