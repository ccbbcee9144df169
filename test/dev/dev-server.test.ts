import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { isAdminRoute } from '../../functions/http/admin-route.js';
import { ADMIN_ROLE } from '../../shared/auth/admin-auth.js';
import { startDevServer, type DevServer } from '../../scripts/dev/dev-server.js';
import { uniqueName } from '../harness/names.js';

/**
 * The admin API as the console uses it, over real HTTP through the dev server's adapter of the
 * registered functions, with Azurite, the simulated tenant and the import queue's trigger: sign-in
 * settings, every admin route refusing an anonymous call, consent as JSON, a preview job paged by
 * status, an import job, the run's lines, and held deletions described before they are approved.
 */
let dev: DevServer;
let token: string;
const USERS = 600;

beforeAll(async () => {
  dev = await startDevServer({
    console: 'built',
    azuriteConnectionString: inject('azuriteConnectionString'),
    tablePrefix: uniqueName('Dev'),
    queueName: uniqueName('devq').toLowerCase(),
    tenant: { users: USERS, groups: 12, seed: 7, domain: 'fabrikam.example' },
    simulator: { quirks: false },
    timerSeconds: 0,
    log: () => undefined,
  });
  const tenant = dev.sim.tenants[0];
  token = await dev.sim.issueAccessToken({
    tenant: tenant?.tenantId ?? '',
    audience: dev.sim.apps[0]?.clientId ?? '',
    roles: [ADMIN_ROLE],
  });
}, 60_000);

afterAll(async () => {
  await dev.close();
});

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${dev.url}/api/${path}`, {
    method,
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text },
    headers: response.headers,
  };
}

async function waitForJob(jobId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { json } = await api('GET', `jobs/${jobId}`);
    if (['succeeded', 'failed', 'deletions_held'].includes(String(json.status))) return json;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(json)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function connectionDocument(): Record<string, unknown> {
  const tenant = dev.sim.tenants[0];
  // A small group gets the scarce licence, a large one the default: most users are created.
  const bySize = (tenant?.liveGroupIds() ?? []).sort(
    (a, b) => (tenant?.membersOf(a).length ?? 0) - (tenant?.membersOf(b).length ?? 0),
  );
  const first = bySize.find((id) => (tenant?.membersOf(id).length ?? 0) >= 8);
  const second = bySize.at(-1);
  return {
    id: 'fabrikam',
    displayName: 'Fabrikam',
    tenantId: tenant?.domain,
    clientId: dev.sim.apps[0]?.clientId,
    clientSecret: { env: dev.secretVariable },
    cloud: { authorityHost: dev.sim.authorityHost, graphBaseUrl: dev.sim.graphBaseUrl },
    division: 'West',
    groupMappings: [
      { group: { id: first }, appGroup: 'Sales', license: 'pro' },
      { group: { id: second }, appGroup: 'Support' },
    ],
    licenses: { seats: { pro: 5, standard: 10_000 }, default: 'standard' },
    policy: { deletionThreshold: { count: 20 } },
  };
}

describe('the dev server', () => {
  it('sends a browser to the console and tells it how to sign in', async () => {
    const root = await fetch(dev.url, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/api/console/');
    const config = await fetch(`${dev.url}/api/console/config`);
    expect(config.status).toBe(200);
    const clientId = dev.sim.apps[0]?.clientId ?? '';
    expect(await config.json()).toEqual({
      clientId,
      authority: `${dev.sim.authorityHost}/${dev.sim.tenants[0]?.tenantId ?? ''}`,
      knownAuthorities: [new URL(dev.sim.authorityHost).host],
      scopes: [`${clientId}/.default`],
    });
  });

  it('refuses every admin route without a token, with 401 and a Bearer challenge', async () => {
    const admin = functionDefinitions.flatMap((definition) =>
      definition.trigger === 'http' && isAdminRoute(definition.handler) ? [definition] : [],
    );
    expect(admin.length).toBeGreaterThan(10);
    for (const definition of admin) {
      const path = definition.route.replace(/\{\w+\}/g, 'x');
      const method = definition.methods[0] ?? 'GET';
      const response = await fetch(`${dev.url}/api/${path}`, {
        method,
        ...(method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toMatch(/^Bearer\b/);
    }
  });
});

describe('the admin API as the console uses it', () => {
  it('creates a connection and hands out the consent URL as JSON; the consent round trip records it', async () => {
    const put = await api('PUT', 'connections/fabrikam', connectionDocument());
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    const started = await api('GET', 'connections/fabrikam/consent', undefined, {
      accept: 'application/json',
    });
    expect(started.status).toBe(200);
    const consentUrl = String(started.json.consentUrl);
    const expiresIn = Date.parse(String(started.json.expiresAt)) - Date.now();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
    expect(consentUrl).toContain('/adminconsent?');
    // The tenant's administrator accepts; Entra sends the browser back to the callback.
    const dispatcher = new Agent({ connect: { ca: dev.sim.ca } });
    const consented = await undiciFetch(consentUrl, { redirect: 'manual', dispatcher });
    await dispatcher.close();
    const callback = consented.headers.get('location') ?? '';
    expect(callback.startsWith(`${dev.url}/api/consent/callback`)).toBe(true);
    const landed = await fetch(callback);
    const page = (await landed.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(landed.status, page.slice(0, 600)).toBe(200);
    expect((await api('GET', 'connections/fabrikam')).json.consent).toMatchObject({
      tenantId: dev.sim.tenants[0]?.tenantId,
    });
  });

  it('runs a preview as a job and pages its lines by status and search', async () => {
    const started = await api('POST', 'connections/fabrikam/previews', {});
    expect(started.status).toBe(202);
    const jobId = String(started.json.jobId);
    expect(started.headers.get('location')).toBe(`/api/jobs/${jobId}`);
    const done = await waitForJob(jobId);
    expect(done).toMatchObject({ kind: 'preview', status: 'succeeded' });
    const report = done.report as { actions: Record<string, number>; licenses: Record<string, unknown> };
    const creates = report.actions.CREATE ?? 0;
    expect(creates).toBeGreaterThan(0);
    expect(report.licenses.pro).toMatchObject({ seats: 5, used: 0 });
    expect((report.licenses.pro as { demand: number }).demand).toBeGreaterThan(5);
    expect(report.actions.EXCEPTION).toBeGreaterThan(0); // no seat for some of the small group

    const page = await api('GET', `jobs/${jobId}/users?status=create&top=7&skip=2`);
    const counts = page.json.counts as Record<string, number>;
    expect(counts.create).toBe(creates);
    expect(page.json.total).toBe(creates);
    const items = page.json.items as { status: string; userName: string }[];
    expect(items).toHaveLength(7);
    for (const item of items) expect(item.status).toBe('create');

    const name = items[0]?.userName ?? '';
    const searched = await api('GET', `jobs/${jobId}/users?search=${encodeURIComponent(name.toUpperCase())}`);
    expect((searched.json.items as { userName: string }[]).map((item) => item.userName)).toContain(name);
    expect((await api('GET', `jobs/${jobId}/users?status=bogus`)).status).toBe(400);
    // A preview writes nothing: no users, no runs.
    expect((await api('GET', 'connections/fabrikam/users')).json.total).toBe(0);
    expect((await api('GET', 'connections/fabrikam/runs')).json.runs).toEqual([]);
  });

  it('imports through the queue, shows the run and its lines; a mass delete is held and described before approval', async () => {
    const started = await api('POST', 'connections/fabrikam/import', {});
    expect(started.status).toBe(202);
    const done = await waitForJob(String(started.json.jobId));
    expect(done).toMatchObject({ kind: 'import', status: 'succeeded' });
    const runId = String(done.runId);
    const created = (done.report as { actions: Record<string, number> }).actions.CREATE ?? 0;
    expect(created).toBeGreaterThan(0);
    expect((await api('GET', 'connections/fabrikam/users?top=1')).json.total).toBe(created);
    const lines = await api('GET', `runs/${runId}/users?status=create&top=1`);
    expect(lines.json.total).toBe(created);

    // Hard-delete more linked users than the threshold allows: the next import holds them.
    const tenant = dev.sim.tenants[0];
    const linked = (await api('GET', 'connections/fabrikam/users?top=30')).json.users as {
      sourceId: string;
    }[];
    for (const user of linked.slice(0, 25)) tenant?.hardDeleteUser(user.sourceId);
    const again = await waitForJob(String((await api('POST', 'connections/fabrikam/import', {})).json.jobId));
    expect(again.status, String(again.error)).toBe('deletions_held');
    const heldRun = String(again.runId);
    const held = await api('GET', `runs/${heldRun}/held`);
    expect(held.json).toMatchObject({
      count: 25,
      division: 'West',
      actions: { DELETE: 25, SUSPEND: 0, UNLINK: 0 },
    });
    const heldUsers = held.json.users as { sourceId: string; action: string; changedSince: boolean }[];
    expect(new Set(heldUsers.map((user) => user.sourceId))).toEqual(
      new Set(linked.slice(0, 25).map((user) => user.sourceId)),
    );

    expect((await api('GET', `runs/${heldRun}`)).json).toMatchObject({
      runId: heldRun,
      status: 'deletions_held',
    });
    expect((await api('GET', 'runs/no-such-run')).status).toBe(404);
    const approved = await api('POST', `runs/${heldRun}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json.approval).toMatchObject({ applied: 25, skipped: 0 });
    // Deleted app users stay as tombstones, so that readers of the table see the deletion.
    const after = (await api('GET', 'connections/fabrikam/users?top=1000')).json.users as {
      sourceId: string;
      status: string;
    }[];
    const deleted = new Set(after.filter((user) => user.status === 'deleted').map((user) => user.sourceId));
    expect(deleted).toEqual(new Set(linked.slice(0, 25).map((user) => user.sourceId)));
    expect((await api('GET', `runs/${heldRun}/held`)).json).toMatchObject({ count: 0 });
  });
});
