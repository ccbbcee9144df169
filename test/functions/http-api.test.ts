import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../cli/entra-sync.js';
import { buildAppContext, useAppContext, type AppContext } from '../../functions/app-context.js';
import { functionDefinitions } from '../../functions/registry.js';
import { ADMIN_ROLE } from '../../shared/auth/admin-auth.js';
import { KeyVaultSecretStore } from '../../shared/secrets/key-vault-store.js';
import { EnvironmentSecretStore } from '../../shared/secrets/secret-store.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { SyncService } from '../../shared/sync/service.js';
import { findSecretLeaks } from '../harness/secret-leak.js';
import { uniqueName } from '../harness/names.js';
import { runQueueWorkers } from '../harness/queue-workers.js';
import { snapshot } from '../harness/store-snapshot.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';
import { startFakeKeyVault, type FakeKeyVault } from '../keyvault/fake-key-vault.js';
import { secretCredential } from '../simulator/test-clients.js';

/**
 * The Function app end to end, through the registered handlers (HttpRequest and InvocationContext, as
 * the host calls them), against Azurite, the simulated tenant and a local Key Vault: admin auth, input
 * validation, the consent round trip, a queue-driven import of 20,000 users by concurrent workers that
 * ends where the CLI's import ends, the poison path, the timer, and no secret anywhere it must not be.
 */
const USERS = 20_000;
const CANARY_SECRET = 'Canary~ClientSecret~7f3a91c2d84e5b06';
const API_URI = 'api://entrasync-tests';
const REDIRECT = 'https://entrasync.example/api/consent/callback';
const GRAPH_ROLES = ['User.Read.All', 'GroupMember.Read.All', 'Organization.Read.All'];

let fixture: SyncFixture;
let vault: FakeKeyVault;
let app: AppContext;
let env: Record<string, string>;
let queueName: string;
const logs: string[] = [];
const responses: HttpResponseInit[] = [];

function invocation(name: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    functionName: name,
    invocationId: uniqueName('inv'),
    triggerMetadata,
    logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
  });
}

async function call(
  name: string,
  options: {
    url?: string;
    params?: Record<string, string>;
    body?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResponseInit> {
  const definition = functionDefinitions.find((candidate) => candidate.name === name);
  if (definition?.trigger !== 'http') throw new Error(`no HTTP function ${name}`);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? (await adminToken())}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const request = new HttpRequest({
    method: definition.methods[0] ?? 'GET',
    url: options.url ?? `https://entrasync.example/api/${definition.route}`,
    params: options.params ?? {},
    headers,
    ...(options.body === undefined ? {} : { body: { string: options.body } }),
  });
  const response = (await definition.handler(request, invocation(name))) as HttpResponseInit;
  responses.push(response);
  return response;
}

async function adminToken(roles: string[] = [ADMIN_ROLE]): Promise<string> {
  return await fixture.sim.issueAccessToken({ tenant: fixture.tenant.tenantId, audience: API_URI, roles });
}

function body(response: HttpResponseInit): Record<string, unknown> {
  return response.jsonBody as Record<string, unknown>;
}

function connectionDocument(): Record<string, unknown> {
  return { ...fixture.connection(), clientSecret: { keyVault: 'contoso-client-secret' } };
}

async function drainImportQueue(jobId: string): Promise<{ poisoned: number }> {
  const connection = inject('azuriteConnectionString');
  const queue = new QueueClient(connection, queueName);
  const poison = new QueueClient(connection, `${queueName}-poison`);
  const worker = functionDefinitions.find((definition) => definition.name === 'importWorker');
  const poisonHandler = functionDefinitions.find((definition) => definition.name === 'importPoison');
  if (worker?.trigger !== 'queue' || poisonHandler?.trigger !== 'queue')
    throw new Error('queue functions missing');
  return await runQueueWorkers(
    queue,
    poison,
    async (message, dequeueCount) => {
      await worker.handler(message, invocation('importWorker', { dequeueCount }));
    },
    async (message, dequeueCount) => {
      await poisonHandler.handler(message, invocation('importPoison', { dequeueCount }));
    },
    {
      workers: 4,
      maxDequeueCount: 5,
      visibilityTimeoutSeconds: 4,
      timeoutMs: 240_000,
      done: async () =>
        ['succeeded', 'failed', 'deletions_held'].includes((await app.jobs.get(jobId)).status),
    },
  );
}

beforeAll(async () => {
  fixture = await startSyncFixture({
    users: USERS,
    groups: 40,
    seed: 77,
    simulator: {
      quirks: false,
      // The app registration asks for what the consent callback reads too (/organization).
      apps: [{ clientSecret: CANARY_SECRET, redirectUris: [REDIRECT], roles: [...GRAPH_ROLES] }],
    },
  });
  vault = await startFakeKeyVault({
    tenantId: fixture.tenant.tenantId,
    authorityHost: fixture.sim.authorityHost,
    resource: fixture.sim.graphBaseUrl,
  });
  vault.setSecret('contoso-client-secret', CANARY_SECRET);
  queueName = uniqueName('imp');
  env = {
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    TABLE_PREFIX: uniqueName('fn'),
    IMPORT_QUEUE_NAME: queueName,
    KEY_VAULT_URL: vault.url,
    ADMIN_TENANT_ID: fixture.tenant.tenantId,
    ADMIN_API_AUDIENCE: API_URI,
    ADMIN_AUTHORITY_HOST: fixture.sim.authorityHost,
    CONSENT_REDIRECT_URI: REDIRECT,
    GRAPH_RETRY_BUDGET_SECONDS: '5',
  };
  const secrets = new KeyVaultSecretStore(vault.url, secretCredential(fixture.sim), {
    disableChallengeResourceVerification: true,
    ...(vault.ca ? { tlsOptions: { ca: vault.ca } } : { allowInsecureConnection: true }),
    retryOptions: { maxRetries: 0 },
  });
  app = await buildAppContext(env, { secrets, trustedCa: fixture.sim.ca });
  useAppContext(app);
}, 120_000);

afterAll(async () => {
  useAppContext(undefined);
  await app.admin.close();
  await vault.close();
  await fixture.close();
});

describe('admin API authentication', () => {
  it('refuses a call without a token, and one without the EntraSync.Admin role', async () => {
    const none = await call('connectionsList', { token: null });
    expect(none.status).toBe(401);
    expect(body(none).error).toMatchObject({ code: 'unauthorized' });
    expect(new Headers(none.headers as Record<string, string>).get('www-authenticate')).toMatch(/^Bearer\b/);
    const noRole = await call('connectionsList', { token: await adminToken([]) });
    expect(noRole.status).toBe(403);
    expect(body(noRole).error).toMatchObject({ code: 'forbidden' });
    expect((await call('connectionsList')).status).toBe(200);
  });
});

describe('connections', () => {
  it('rejects malformed JSON, oversized bodies and wrong types, and writes nothing', async () => {
    const params = { id: 'contoso' };
    expect((await call('connectionPut', { params, body: '{"id": "contoso",' })).status).toBe(400);
    expect(
      (await call('connectionPut', { params, body: JSON.stringify({ pad: 'x'.repeat(300_000) }) })).status,
    ).toBe(413);
    expect(
      (await call('connectionPut', { params, body: '{}', headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    const wrong = await call('connectionPut', {
      params,
      body: JSON.stringify({ ...connectionDocument(), division: 5 }),
    });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(body(wrong).error)).toMatch(/division/);
    expect((await call('connectionGet', { params })).status).toBe(404);
  });

  it('creates, replaces, reads, lists and disables a connection', async () => {
    const params = { id: 'contoso' };
    expect((await call('connectionPut', { params, body: JSON.stringify(connectionDocument()) })).status).toBe(
      201,
    );
    expect((await call('connectionPut', { params, body: JSON.stringify(connectionDocument()) })).status).toBe(
      200,
    );
    expect(body(await call('connectionGet', { params }))).toMatchObject({ id: 'contoso', enabled: true });
    expect((await call('connectionPatch', { params, body: '{"enabled": false}' })).status).toBe(200);
    expect((await call('importStart', { params, body: '{}' })).status).toBe(400);
    await call('connectionPatch', { params, body: '{"enabled": true}' });
    const list = body(await call('connectionsList')).connections as { id: string }[];
    expect(list.map((connection) => connection.id)).toEqual(['contoso']);
  });

  it('lists the tenant groups to map, with search', async () => {
    const name = fixture.tenant.getGroup(fixture.tenant.liveGroupIds()[3] ?? '')?.displayName ?? '';
    const found = body(
      await call('groupsList', {
        params: { id: 'contoso' },
        url: `https://entrasync.example/api/connections/contoso/groups?search=${encodeURIComponent(name.slice(0, 5))}`,
      }),
    );
    const groups = found.groups as { displayName: string }[];
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect(group.displayName.startsWith(name.slice(0, 5))).toBe(true);
  });
});

describe('admin consent', () => {
  it('goes round trip: redirect to the tenant, consent, callback, recorded; a replay is refused', async () => {
    const start = await call('consentStart', { params: { id: 'contoso' } });
    expect(start.status).toBe(302);
    const location = new Headers(start.headers).get('location') ?? '';
    expect(location).toContain(`/${fixture.tenant.tenantId}/v2.0/adminconsent?`);
    const dispatcher = new Agent({ connect: { ca: fixture.sim.ca } });
    const consented = await fetch(location, { redirect: 'manual', dispatcher });
    const callbackUrl = consented.headers.get('location') ?? '';
    await dispatcher.destroy();
    expect(callbackUrl.startsWith(REDIRECT)).toBe(true);

    const done = await call('consentCallback', { url: callbackUrl, token: null });
    const page = typeof done.body === 'string' ? done.body : '';
    expect(done.status, page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).toBe(200);
    expect(page).toMatch(/consent/i);
    expect(body(await call('connectionGet', { params: { id: 'contoso' } })).consent).toMatchObject({
      tenantId: fixture.tenant.tenantId,
    });

    const replay = await call('consentCallback', { url: callbackUrl, token: null });
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
  });
});

describe('queue-driven import over HTTP', () => {
  it('answers 202 with a job, and concurrent workers import the tenant exactly as the CLI does', async () => {
    const started = await call('importStart', { params: { id: 'contoso' }, body: '{}' });
    expect(started.status).toBe(202);
    const { jobId } = body(started) as { jobId: string };
    expect(new Headers(started.headers as Record<string, string>).get('location')).toBe(`/api/jobs/${jobId}`);
    const stats = await drainImportQueue(jobId);
    expect(stats.poisoned).toBe(0);
    const status = body(await call('jobStatus', { params: { jobId } }));
    expect(status).toMatchObject({ status: 'succeeded', usersProcessed: USERS });
    expect(status.pagesDone).toBe(status.pagesRead);

    // The same tenant imported by the CLI into other tables.
    const cliPrefix = uniqueName('cli');
    const cliEnv = { ...env, TABLE_PREFIX: cliPrefix, KEY_VAULT_URL: '', CONTOSO_SECRET: CANARY_SECRET };
    const out: string[] = [];
    const io = {
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => out.push(text),
      interactive: false,
      env: cliEnv,
      cwd: '/',
      trustedCa: fixture.sim.ca,
    };
    const file = `${process.env.TMPDIR ?? '/tmp'}/${cliPrefix}.json`;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      file,
      JSON.stringify({ ...fixture.connection(), clientSecret: { env: 'CONTOSO_SECRET' } }),
    );
    expect(await runCli(['connections', 'apply', '--file', file], io)).toBe(0);
    expect(await runCli(['import', '--connection', 'contoso'], io), out.join('')).toBe(0);
    const cli = new SyncService({
      storage: createStorageClients({
        kind: 'connectionString',
        connectionString: env.AzureWebJobsStorage ?? '',
      }),
      tablePrefix: cliPrefix,
      secrets: new EnvironmentSecretStore({}),
      graph: { retryBudgetSeconds: 5 },
    });
    const imported = await snapshot(app.service);
    expect(imported).toEqual(await snapshot(cli));

    // Users and runs over HTTP.
    const users = body(
      await call('usersList', {
        params: { id: 'contoso' },
        url: 'https://entrasync.example/api/connections/contoso/users?top=5',
      }),
    );
    expect((users.users as unknown[]).length).toBe(5);
    expect(users.total).toBe((imported.users as unknown[]).length);
    const runs = body(await call('runsList', { params: { id: 'contoso' } })).runs as { status: string }[];
    expect(runs[0]?.status).toBe('succeeded');
  }, 300_000);

  it('previews selected users without writing', async () => {
    const upn = fixture.tenant.getUser(fixture.tenant.liveUserIds()[10] ?? '')?.userPrincipalName ?? '';
    const response = await call('preview', {
      params: { id: 'contoso' },
      body: JSON.stringify({ users: [upn] }),
    });
    expect(response.status).toBe(200);
    const result = body(response) as { report: { mode: string }; users: { userName: string }[] };
    expect(result.report.mode).toBe('preview');
    expect(result.users.map((user) => user.userName)).toEqual([upn]);
  });

  it('marks a job failed, visibly, when its work items end in the poison queue', async () => {
    const client = fixture.sim.apps[0]?.clientId ?? '';
    const started = body(await call('importStart', { params: { id: 'contoso' }, body: '{}' })) as {
      jobId: string;
    };
    fixture.tenant.revokeConsent(client);
    try {
      const stats = await drainImportQueue(started.jobId);
      expect(stats.poisoned).toBeGreaterThan(0);
    } finally {
      fixture.tenant.grantConsent(client, GRAPH_ROLES);
    }
    const status = body(await call('jobStatus', { params: { jobId: started.jobId } }));
    expect(status).toMatchObject({ status: 'failed' });
    expect(String(status.error)).toMatch(/failed repeatedly/);
  }, 120_000);
});

describe('timer', () => {
  it('syncs due connections on a tick, past due or not, and says what it did', async () => {
    const timer = functionDefinitions.find((definition) => definition.name === 'syncTimer');
    if (timer?.trigger !== 'timer') throw new Error('no timer');
    const before = logs.length;
    // A spent consent state from the round trip above, expired by now as far as the store knows.
    expect(await app.consentNonces.deleteExpired(new Date(Date.now() + 11 * 60_000))).toBeGreaterThan(0);
    await timer.handler(
      {
        isPastDue: true,
        schedule: { adjustForDST: false },
        scheduleStatus: { last: '', next: '', lastUpdated: '' },
      },
      invocation('syncTimer'),
    );
    const written = logs.slice(before).join('\n');
    expect(written).toMatch(/past due/);
    expect(written).toMatch(/contoso: synced/);
  });
});

describe('secrets', () => {
  it('never puts the client secret in a log line, a table, a report or an answer', async () => {
    const everything: unknown[] = [logs, responses];
    const service = app.service;
    for await (const table of service.stores.tables.client('users').listEntities()) everything.push(table);
    const tableNames = [
      'connections',
      'users',
      'emailClaims',
      'groups',
      'groupMembers',
      'licenses',
      'cursors',
      'leases',
      'runs',
      'runLog',
      'heldActions',
      'jobs',
    ] as const;
    for (const name of tableNames) {
      for await (const entity of service.stores.tables.client(name).listEntities()) everything.push(entity);
    }
    expect(everything.length).toBeGreaterThan(USERS);
    expect(findSecretLeaks(everything, CANARY_SECRET, 'the app')).toEqual([]);
  });
});
