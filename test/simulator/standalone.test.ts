import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/** The simulator as a separate process (test/simulator/main.ts) and its /_simulator/ control API. */

const startupLine = z.object({
  authorityHost: z.url(),
  graphBaseUrl: z.url(),
  caPath: z.string(),
  tenants: z.array(z.object({ tenantId: z.string(), domain: z.string() })).min(1),
  apps: z.array(z.object({ clientId: z.string(), clientSecret: z.string() })).min(1),
  controlUrl: z.url(),
});
type StartupLine = z.infer<typeof startupLine>;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly info: StartupLine;
  readonly stdoutLines: string[];
  readonly agent: Agent;
}

async function startProcess(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/simulator/main.ts', ...args], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  const stdoutLines: string[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      stdoutLines.push(...lines);
      if (stdoutLines[0] !== undefined) resolve(stdoutLines[0]);
    });
    child.once('exit', (code) => {
      reject(new Error(`simulator exited with ${String(code)} before printing: ${stderr}`));
    });
  });
  const info = startupLine.parse(JSON.parse(await firstLine));
  return {
    child,
    info,
    stdoutLines,
    agent: new Agent({ connect: { ca: readFileSync(info.caPath, 'utf8') } }),
  };
}

async function call(
  running: Running,
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    dispatcher: running.agent,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function token(running: Running): Promise<string> {
  const { info } = running;
  const app = info.apps[0];
  const tenant = info.tenants[0];
  if (!app || !tenant) throw new Error('no app or tenant');
  const response = await fetch(`${info.authorityHost}/${tenant.domain}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: `${info.graphBaseUrl}/.default`,
    }).toString(),
    dispatcher: running.agent,
  });
  return z.object({ access_token: z.string() }).parse(await response.json()).access_token;
}

describe('standalone process', () => {
  let running: Running;

  beforeAll(async () => {
    running = await startProcess(['--users', '300', '--groups', '6', '--port', '0', '--no-quirks']);
  }, 30_000);

  afterAll(async () => {
    if (running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await once(running.child, 'exit');
    }
    await running.agent.destroy();
  });

  it('prints exactly one JSON line with the endpoints, the CA file, tenants and apps', () => {
    const { info } = running;
    expect(running.stdoutLines).toHaveLength(1);
    expect(new URL(info.authorityHost).hostname).toBe('localhost');
    expect(info.controlUrl).toBe(`${info.authorityHost}/_simulator/`);
    expect(readFileSync(info.caPath, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('serves Graph to a client that trusts the CA file', async () => {
    const body = z
      .object({ value: z.array(z.object({ id: z.string() })) })
      .parse(
        (
          await call(
            running,
            'GET',
            `${running.info.graphBaseUrl}/v1.0/users?$select=id&$top=999`,
            undefined,
            await token(running),
          )
        ).json,
      );
    expect(body.value).toHaveLength(300);
  });

  it('changes the tenant and turns the knobs through the control API', async () => {
    const { info } = running;
    const tenant = info.tenants[0]?.tenantId ?? '';
    const control = info.controlUrl;
    const accessToken = await token(running);

    expect((await call(running, 'POST', `${control}requests/reset`)).status).toBe(200);
    const created = await call(running, 'POST', `${control}tenants/${tenant}/users`, {
      displayName: 'Via Control',
      jobTitle: 'Operator',
    });
    expect(created.status).toBe(201);
    const id = z.object({ id: z.string() }).parse(created.json).id;
    const fetched = await call(
      running,
      'GET',
      `${info.graphBaseUrl}/v1.0/users/${id}?$select=displayName`,
      undefined,
      accessToken,
    );
    expect(fetched.json).toMatchObject({ displayName: 'Via Control' });

    const changes = await call(running, 'POST', `${control}tenants/${tenant}/random-changes`, {
      count: 25,
      seed: 9,
    });
    expect(
      z.object({ changes: z.array(z.object({ op: z.string() })) }).parse(changes.json).changes,
    ).toHaveLength(25);
    expect(
      (await call(running, 'POST', `${control}tenants/${tenant}/users`, { favouriteColour: 'blue' })).status,
    ).toBe(400);

    const round = z
      .object({ '@odata.deltaLink': z.string().optional(), '@odata.nextLink': z.string().optional() })
      .parse(
        (
          await call(
            running,
            'GET',
            `${info.graphBaseUrl}/v1.0/groups/delta?$select=displayName`,
            undefined,
            accessToken,
          )
        ).json,
      );
    expect((await call(running, 'POST', `${control}tenants/${tenant}/delta/expire`)).status).toBe(200);
    const expired = await call(
      running,
      'GET',
      round['@odata.deltaLink'] ?? round['@odata.nextLink'] ?? '',
      undefined,
      accessToken,
    );
    expect(expired).toMatchObject({ status: 400, json: { error: { code: 'syncStateNotFound' } } });

    expect(
      (
        await call(running, 'POST', `${control}faults`, {
          status: 503,
          count: 1,
          path: '/v1.0/groups',
          retryAfter: 0.5,
        })
      ).status,
    ).toBe(201);
    expect(
      (await call(running, 'GET', `${info.graphBaseUrl}/v1.0/groups`, undefined, accessToken)).status,
    ).toBe(503);
    expect((await call(running, 'PUT', `${control}latency`, { ms: 5 })).json).toEqual({ ms: 5 });

    const counts = z
      .object({ total: z.number(), byEndpoint: z.record(z.string(), z.number()) })
      .parse((await call(running, 'GET', `${control}requests`)).json);
    expect(counts.byEndpoint['GET /v1.0/users/{id}']).toBe(1);
    expect(counts.byEndpoint['GET /v1.0/groups']).toBe(1);
    const memory = z
      .object({ rss: z.number(), heapUsed: z.number() })
      .parse((await call(running, 'GET', `${control}memory`)).json);
    expect(memory.rss).toBeGreaterThan(memory.heapUsed);
  });

  it('exits by itself when its stdin closes, removing the CA file', async () => {
    const exited = once(running.child, 'exit');
    running.child.stdin.end();
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(existsSync(running.info.caPath)).toBe(false);
  });
});

describe('standalone process signals', () => {
  it('exits on SIGTERM', async () => {
    const running = await startProcess(['--users', '10', '--groups', '1']);
    try {
      const exited = once(running.child, 'exit');
      running.child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      await running.agent.destroy();
    }
  }, 30_000);
});
