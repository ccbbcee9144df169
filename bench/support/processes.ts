import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The simulated tenant in its own process, so that only the measured code's memory counts in the
 * benchmark process. It exits when our stdin pipe to it closes, so it never outlives us.
 */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The standalone simulator's start line (docs/dev/simulator-contract.md). */
const startLineSchema = z.looseObject({
  authorityHost: z.string(),
  graphBaseUrl: z.string(),
  caPath: z.string(),
  controlUrl: z.string(),
  tenants: z.array(z.looseObject({ tenantId: z.string() })).min(1),
  apps: z.array(z.looseObject({ clientId: z.string(), clientSecret: z.string() })).min(1),
});
export type SimulatorStartLine = z.infer<typeof startLineSchema>;

export interface SimulatorProcess {
  readonly start: SimulatorStartLine;
  stop(): Promise<void>;
}

export async function startSimulatorProcess(args: readonly string[]): Promise<SimulatorProcess> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const child = spawn(process.execPath, [tsx, resolve(ROOT, 'test/simulator/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`The simulator exited (${String(code)}) before printing its start line`));
    });
  });
  const firstJsonLine = (async () => {
    for await (const line of lines) {
      const trimmed = line.trim();
      if (trimmed.startsWith('{')) return trimmed;
    }
    throw new Error('The simulator closed its output without a start line');
  })();
  const line = await Promise.race([firstJsonLine, exited]);
  // Keep draining its output so that it never blocks on a full pipe.
  lines.on('line', () => undefined);
  return {
    start: startLineSchema.parse(JSON.parse(line)),
    stop: async () => {
      await stop(child);
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
