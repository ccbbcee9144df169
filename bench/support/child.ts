import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { benchEnvironmentSchema } from './environment.js';
import { ROOT } from './processes.js';

/**
 * Scenario processes: each scenario runs in a fresh Node process of its own, so that its peak RSS is
 * its own and nothing of an earlier scenario (heap, pools, modules) is in it. The parent passes the
 * scenario as JSON in BENCH_SPEC; the child prints `BENCH-READY` when it waits for a line on stdin
 * (queue workers wait for the job id) and one `BENCH-RESULT {json}` line at the end.
 */
export const scenarioSpecSchema = z.object({
  kind: z.enum(['read', 'import', 'sync', 'queue', 'queue-worker']),
  env: benchEnvironmentSchema,
  users: z.number().int().positive(),
  /** Old-space cap of the scenario process in MB (--max-old-space-size); 0 leaves V8's default. */
  heapMb: z.number().int().nonnegative(),
  /** Queue: worker processes. */
  workers: z.number().int().positive().optional(),
  /** Write a CPU profile of the scenario's work into this folder. */
  profileDir: z.string().optional(),
});
export type ScenarioSpec = z.infer<typeof scenarioSpecSchema>;

export const childResultSchema = z.object({
  seconds: z.number(),
  usersProcessed: z.number(),
  storageTransactions: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  peakRssMb: z.number(),
  /** CPU time of the scenario process (and of its queue workers). */
  cpuSeconds: z.number(),
});
export type ChildResult = z.infer<typeof childResultSchema>;

const READY = 'BENCH-READY';
const RESULT = 'BENCH-RESULT ';
const ENTRY = resolve(ROOT, 'bench/scenario.ts');

export interface ScenarioChild {
  /** Resolves when the child says it waits for its input line. */
  readonly ready: Promise<void>;
  send(line: string): void;
  /** The child's result; rejects when it exits without one. */
  readonly result: Promise<ChildResult>;
  kill(): void;
}

/** Starts a scenario process; it is killed when it runs longer than `timeoutMs`. */
export function spawnScenario(spec: ScenarioSpec, timeoutMs: number): ScenarioChild {
  const heap = spec.heapMb > 0 ? [`--max-old-space-size=${spec.heapMb}`] : [];
  const child = spawn(process.execPath, [...heap, '--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let resultLine: string | undefined;
  let timedOut = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((done) => {
    markReady = done;
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line === READY) markReady();
    else if (line.startsWith(RESULT)) resultLine = line.slice(RESULT.length);
    // Anything else the child prints goes to stderr, so that stdout keeps only the table.
    else process.stderr.write(`${line}\n`);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = new Promise<ChildResult>((done, fail) => {
    child.once('error', fail);
    // 'close', not 'exit': the result line may still be in the pipe when the process exits.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && resultLine !== undefined) {
        done(childResultSchema.parse(JSON.parse(resultLine)));
        return;
      }
      const how = timedOut
        ? `was stopped after ${Math.round(timeoutMs / 1000)} s`
        : `ended (${String(code ?? signal)})`;
      fail(new Error(`The ${spec.kind} scenario process ${how} without a result`));
    });
  });
  // A child that fails before it is ready must not leave a waiter hanging.
  result.then(markReady, markReady);
  return {
    ready,
    send: (line) => {
      child.stdin.write(`${line}\n`);
    },
    result,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

const parentLines: string[] = [];
const lineWaiters: ((line: string) => void)[] = [];
let watching = false;

/**
 * For the child: reads the parent's lines on stdin, and ends the process when the parent is gone (its
 * end of the pipe closes), so that no scenario or queue worker outlives the suite.
 */
export function watchParent(): void {
  if (watching) return;
  watching = true;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const waiter = lineWaiters.shift();
    if (waiter) waiter(line);
    else parentLines.push(line);
  });
  lines.on('close', () => {
    process.stderr.write('[bench] the parent process is gone; stopping\n');
    process.exit(1);
  });
}

/** For the child: says it is ready and waits for its one input line. */
export async function readInputLine(): Promise<string> {
  watchParent();
  process.stdout.write(`${READY}\n`);
  const queued = parentLines.shift();
  if (queued !== undefined) return queued;
  return await new Promise((resolve) => lineWaiters.push(resolve));
}

/** For the child: prints its result line. */
export function printResult(result: ChildResult): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}
