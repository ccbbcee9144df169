import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { z } from 'zod';
import { SimulatedTenant } from './tenant-model.js';

/**
 * Measures the simulator: `npx tsx test/simulator/measure.ts`. Prints
 *  1. the memory of a 1,000,000-user tenant built in this process (RSS and heap, before and after);
 *  2. how fast a standalone simulator (its own process, as in the product benchmark) serves 100,000
 *     users and 200 groups: /users at $top=999, users/delta, and groups/delta with members.
 * The figures in docs/dev/simulator.md come from here. SIM_NODE_ARGS passes node options to the
 * simulator process (for example '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it).
 */

const MB = 1024 * 1024;

function memory(): { rss: number; heapUsed: number } {
  const m = process.memoryUsage();
  return { rss: Math.round(m.rss / MB), heapUsed: Math.round(m.heapUsed / MB) };
}

function measureMillionUsers(): void {
  globalThis.gc?.();
  const before = memory();
  const started = performance.now();
  const tenant = new SimulatedTenant({ users: 1_000_000, groups: 200, seed: 1 });
  const built = performance.now() - started;
  let checksum = 0;
  for (let i = 0; i < 1_000_000; i += 997) checksum += tenant.userAt(i).displayName.length;
  tenant.applyRandomChanges(10_000, 7);
  globalThis.gc?.();
  const after = memory();
  console.log(
    JSON.stringify({
      measurement: '1,000,000-user tenant, 200 groups, after 10,000 random changes',
      buildMs: Math.round(built),
      memberships: tenant.stats().memberships,
      rssBeforeMB: before.rss,
      rssAfterMB: after.rss,
      heapBeforeMB: before.heapUsed,
      heapAfterMB: after.heapUsed,
      checksum,
    }),
  );
}

const startup = z.object({
  graphBaseUrl: z.string(),
  authorityHost: z.string(),
  caPath: z.string(),
  tenants: z.array(z.object({ tenantId: z.string() })),
  apps: z.array(z.object({ clientId: z.string(), clientSecret: z.string() })),
  controlUrl: z.string(),
});
interface Page {
  readonly '@odata.nextLink'?: string;
  readonly value: Record<string, unknown>[];
}

async function measureServing(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...(process.env.SIM_NODE_ARGS ? process.env.SIM_NODE_ARGS.split(' ') : []),
      '--import',
      'tsx',
      'test/simulator/main.ts',
      '--users',
      '100000',
      '--groups',
      '200',
    ],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const info = startup.parse(JSON.parse(line.toString().split('\n')[0] ?? ''));
  const agent = new Agent({ connect: { ca: readFileSync(info.caPath, 'utf8') } });
  try {
    const app = info.apps[0];
    const tenant = info.tenants[0];
    if (!app || !tenant) throw new Error('no app or tenant');
    const tokenResponse = await fetch(`${info.authorityHost}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        scope: `${info.graphBaseUrl}/.default`,
      }).toString(),
      dispatcher: agent,
    });
    const token = z.object({ access_token: z.string() }).parse(await tokenResponse.json()).access_token;

    const cpuSchema = z.object({ userMs: z.number(), systemMs: z.number() });
    const serverCpu = async (): Promise<number> => {
      const cpu = cpuSchema.parse(await (await fetch(`${info.controlUrl}cpu`, { dispatcher: agent })).json());
      return cpu.userMs + cpu.systemMs;
    };
    const readAll = async (
      start: string,
    ): Promise<{
      objects: number;
      members: number;
      requests: number;
      ms: number;
      serverCpuMs: number;
      bytes: number;
    }> => {
      const cpuBefore = await serverCpu();
      let url: string | undefined = `${info.graphBaseUrl}${start}`;
      let objects = 0;
      let members = 0;
      let requests = 0;
      let bytes = 0;
      const started = performance.now();
      while (url !== undefined) {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token}` },
          dispatcher: agent,
        });
        const text = await response.text();
        bytes += text.length;
        // A cast, not a zod parse: validating 100,000 objects would measure zod, not the simulator.
        const body = JSON.parse(text) as Page;
        requests++;
        objects += body.value.length;
        for (const item of body.value)
          members += Array.isArray(item['members@delta']) ? item['members@delta'].length : 0;
        url = body['@odata.nextLink'];
      }
      const ms = Math.round(performance.now() - started);
      return {
        objects,
        members,
        requests,
        ms,
        serverCpuMs: Math.round((await serverCpu()) - cpuBefore),
        bytes,
      };
    };

    const select =
      'id,displayName,givenName,surname,mail,userPrincipalName,accountEnabled,department,jobTitle,employeeId,userType';
    // Warm-up, then the measured reads.
    await readAll(`/v1.0/users?$top=999&$select=${select}`);
    for (const [name, path] of [
      ['/users $top=999', `/v1.0/users?$top=999&$select=${select}`],
      ['users/delta', `/v1.0/users/delta?$select=${select}`],
      ['groups/delta with members', '/v1.0/groups/delta?$select=id,displayName,members'],
    ] as const) {
      const r = await readAll(path);
      console.log(
        JSON.stringify({
          measurement: `standalone simulator, 100,000 users / 200 groups: ${name}`,
          ...r,
          megabytes: Math.round(r.bytes / MB),
          objectsPerSecond: Math.round((r.objects / r.ms) * 1000),
          // The simulator's own CPU time: a fair figure on a shared machine, where wall time is not.
          objectsPerServerCpuSecond: Math.round((r.objects / r.serverCpuMs) * 1000),
        }),
      );
    }
    const rss = z
      .object({ rss: z.number() })
      .parse(await (await fetch(`${info.controlUrl}memory`, { dispatcher: agent })).json()).rss;
    console.log(
      JSON.stringify({
        measurement: 'standalone simulator RSS after the reads',
        rssMB: Math.round(rss / MB),
      }),
    );
  } finally {
    child.stdin.end();
    await once(child, 'exit');
    await agent.destroy();
  }
}

measureMillionUsers();
await measureServing();
