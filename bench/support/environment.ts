import { readFile } from 'node:fs/promises';
import { Agent, fetch } from 'undici';
import { z } from 'zod';
import { startAzurite } from '../../test/harness/azurite.js';
import { startSimulatorProcess } from './processes.js';

/**
 * What a benchmark runs against: the simulated tenant and Azurite, each in its own process, started by
 * the orchestrator. Scenario processes get it as plain data (BenchEnvironment) and reach both over
 * loopback, so that a scenario process holds only the code it measures.
 */
export const benchEnvironmentSchema = z.object({
  azurite: z.string(),
  authorityHost: z.string(),
  graphBaseUrl: z.string(),
  controlUrl: z.string(),
  caPath: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  clientSecret: z.string(),
});
export type BenchEnvironment = z.infer<typeof benchEnvironmentSchema>;

export interface TenantShape {
  readonly users: number;
  readonly groups: number;
  readonly latencyMs: number;
}

const requestCountsSchema = z.object({
  total: z.number(),
  byEndpoint: z.record(z.string(), z.number()),
  batched: z.object({ total: z.number(), byEndpoint: z.record(z.string(), z.number()) }),
});
export type RequestCounts = z.infer<typeof requestCountsSchema>;

/** The simulator's control API (docs/dev/simulator.md), on the simulator's own certificate. */
export class SimulatorControl {
  readonly #base: string;
  readonly #tenant: string;
  readonly #agent: Agent;

  constructor(controlUrl: string, tenantId: string, ca: string) {
    this.#base = controlUrl.replace(/\/+$/, '');
    this.#tenant = tenantId;
    this.#agent = new Agent({ connect: { ca } });
  }

  static async of(env: BenchEnvironment): Promise<SimulatorControl> {
    return new SimulatorControl(env.controlUrl, env.tenantId, await readFile(env.caPath, 'utf8'));
  }

  async requests(): Promise<RequestCounts> {
    return requestCountsSchema.parse(await this.#call('GET', '/requests'));
  }

  async resetRequests(): Promise<void> {
    await this.#call('POST', '/requests/reset');
  }

  /** CPU time the simulator process has used so far. */
  async cpuSeconds(): Promise<number> {
    const body = z
      .object({ userMs: z.number(), systemMs: z.number() })
      .parse(await this.#call('GET', '/cpu'));
    return (body.userMs + body.systemMs) / 1000;
  }

  async groupIds(): Promise<string[]> {
    const body = z
      .object({ ids: z.array(z.string()) })
      .parse(await this.#call('GET', this.#tenantPath('/groups')));
    return body.ids;
  }

  /** A realistic mix of changes (updates, deletions, restores, memberships); returns how many. */
  async randomChanges(count: number, seed: number): Promise<number> {
    const body = z
      .object({ changes: z.array(z.unknown()) })
      .parse(await this.#call('POST', this.#tenantPath('/random-changes'), { count, seed }));
    return body.changes.length;
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }

  #tenantPath(path: string): string {
    return `/tenants/${this.#tenant}${path}`;
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.#base}${path}`, {
      method,
      dispatcher: this.#agent,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return await response.json();
  }
}

/** A running simulator and Azurite, for one tenant shape. */
export interface RunningEnvironment {
  readonly env: BenchEnvironment;
  readonly control: SimulatorControl;
  stop(): Promise<void>;
}

export async function startEnvironment(shape: TenantShape): Promise<RunningEnvironment> {
  // Started side by side: the simulator generates its groups while Azurite boots.
  const [azuriteStart, simulatorStart] = await Promise.allSettled([
    // Azurite keeps every entity in its heap: a million-user import grows it to about 5 GB.
    startAzurite({
      startTimeoutMs: 60_000,
      maxOldSpaceMb: Math.max(4096, Math.ceil(shape.users / 1000) * 8),
    }),
    startSimulatorProcess([
      '--users',
      String(shape.users),
      '--groups',
      String(shape.groups),
      '--latency',
      String(shape.latencyMs),
    ]),
  ]);
  const stopBoth = async (): Promise<void> => {
    await Promise.all([
      simulatorStart.status === 'fulfilled' ? simulatorStart.value.stop() : undefined,
      azuriteStart.status === 'fulfilled' ? azuriteStart.value.stop() : undefined,
    ]);
  };
  if (azuriteStart.status === 'rejected' || simulatorStart.status === 'rejected') {
    await stopBoth();
    throw azuriteStart.status === 'rejected'
      ? azuriteStart.reason
      : (simulatorStart as PromiseRejectedResult).reason;
  }
  const { start } = simulatorStart.value;
  const [tenant] = start.tenants;
  const [app] = start.apps;
  if (!tenant || !app) {
    await stopBoth();
    throw new Error('The simulator reported no tenant or app');
  }
  const env: BenchEnvironment = {
    azurite: azuriteStart.value.connectionString,
    authorityHost: start.authorityHost,
    graphBaseUrl: start.graphBaseUrl,
    controlUrl: start.controlUrl,
    caPath: start.caPath,
    tenantId: tenant.tenantId,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
  };
  const control = await SimulatorControl.of(env);
  return {
    env,
    control,
    stop: async () => {
      await control.close();
      await stopBoth();
    },
  };
}
