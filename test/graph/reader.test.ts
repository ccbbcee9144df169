import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsentMissingError,
  createGraphClient,
  createGraphCredential,
  CredentialsInvalidError,
  DeltaStateLostError,
  GraphNotFoundError,
  GraphReader,
  GraphRequestError,
  ThrottledError,
  type GraphClient,
  type GraphReaderOptions,
} from '../../shared/graph/index.js';
import { makeCertificate, startStubGraph, type StubGraph, type StubRequest } from './helpers/stub-graph.js';
import { expectInstance } from './helpers/expect.js';

/**
 * The reader with the REAL @azure/identity credential and Graph SDK client against a scripted local
 * HTTPS login + Graph: exact control over what Graph answers (410 with Location, syncStateNotFound,
 * Retry-After, AADSTS codes).
 */

const SECRET = 'stub-secret-value-Zq8~do-not-log';
const CLIENT_ID = '11111111-1111-4111-8111-111111111111';
const CERT_CLIENT_ID = '22222222-2222-4222-8222-222222222222';
const appCert = makeCertificate('entrasync-test-app');
const otherCert = makeCertificate('some-other-cert');

let stub: StubGraph;
const clients: GraphClient[] = [];

beforeAll(async () => {
  stub = await startStubGraph({
    apps: [
      { clientId: CLIENT_ID, clientSecret: SECRET },
      { clientId: CERT_CLIENT_ID, certPem: appCert.certPem },
    ],
  });
});

afterEach(() => {
  stub.tokenFailure = undefined;
  stub.requests.length = 0;
});

afterAll(async () => {
  await Promise.all(
    clients.map(async (c) => {
      await c.close();
    }),
  );
  await stub.close();
});

function connect(
  options: { secret?: string; certificatePem?: string; clientId?: string } = {},
  readerOptions: GraphReaderOptions = {},
): GraphReader {
  const cloud = { authorityHost: stub.base, graphBaseUrl: stub.base };
  const credential = createGraphCredential(
    stub.tenantId,
    options.clientId ?? (options.certificatePem ? CERT_CLIENT_ID : CLIENT_ID),
    options.certificatePem
      ? { certificatePem: options.certificatePem }
      : { clientSecret: options.secret ?? SECRET },
    { cloud, ca: stub.ca, credentialReference: 'kv:entrasync-contoso-graph' },
  );
  const client = createGraphClient(credential, { ca: stub.ca });
  clients.push(client);
  return new GraphReader(client, readerOptions);
}

function query(request: StubRequest): URLSearchParams {
  return new URL(request.url, 'https://x').searchParams;
}

function user(id: string, name = `User ${id}`): Record<string, unknown> {
  return { id, displayName: name, userPrincipalName: `${id}@contoso.test` };
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

describe('paging', () => {
  it('lists every user once across pages, following absolute nextLinks as given', async () => {
    stub.graph = (request, base) => {
      const q = query(request);
      const skip = Number(q.get('$skiptoken') ?? '0');
      const ids = [0, 1, 2].map((i) => `u${skip * 3 + i}`);
      return {
        body: {
          '@odata.context': `${base}/v1.0/$metadata#users`,
          value: ids.map((id) => user(id)),
          ...(skip < 2 ? { '@odata.nextLink': `${base}/v1.0/users?$top=999&$skiptoken=${skip + 1}` } : {}),
        },
      };
    };
    const reader = connect();
    const pages = await collect(reader.listUsers({ select: ['displayName', 'userPrincipalName'] }));
    const ids = pages.flatMap((p) => p.items.map((u) => u.id));
    expect(ids).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']);
    expect(pages.map((p) => p.nextLink === undefined)).toEqual([false, false, true]);
    const first = stub.requests[0];
    expect(first && query(first).get('$top')).toBe('999');
    expect(first && query(first).get('$select')).toBe('id,displayName,userPrincipalName');
    expect(stub.requests.map((r) => query(r).get('$skiptoken'))).toEqual([null, '1', '2']);
    expect(reader.requests).toMatchObject({ total: 3, byKind: { 'GET /users': 3 }, retries: 0 });
  });

  it('reports a bad item on its page and keeps the rest', async () => {
    stub.graph = () => ({
      body: { value: [user('a'), { displayName: 'no id' }, { id: 'c', accountEnabled: 'yes' }] },
    });
    const [page] = await collect(connect().listUsers());
    expect(page?.items.map((u) => u.id)).toEqual(['a']);
    expect(page?.rejected).toEqual([
      { index: 1, path: '', id: undefined, reason: 'missing "id"' },
      { index: 2, path: '', id: 'c', reason: expect.stringContaining('accountEnabled') as string },
    ]);
  });

  it('refuses a nextLink to a host that does not get the token', async () => {
    stub.graph = () => ({
      body: { value: [user('a')], '@odata.nextLink': 'https://evil.example/v1.0/users?$skiptoken=1' },
    });
    const pages: unknown[] = [];
    await expect(async () => {
      for await (const page of connect().listUsers()) pages.push(page);
    }).rejects.toThrow(GraphRequestError);
    expect(pages).toHaveLength(1);
  });

  it('lists members and transitive members with their types', async () => {
    stub.graph = (request) => ({
      body: {
        value: request.url.includes('/transitiveMembers')
          ? [{ '@odata.type': '#microsoft.graph.group', id: 'g2' }]
          : [{ '@odata.type': '#microsoft.graph.user', id: 'u1' }, { id: 'x1' }],
      },
    });
    const reader = connect();
    const [direct] = await collect(reader.listGroupMembers('g1', { select: ['id'] }));
    const [transitive] = await collect(reader.listGroupMembers('g1', { transitive: true }));
    expect(direct?.items.map((m) => [m.id, m.type])).toEqual([
      ['u1', 'user'],
      ['x1', 'unknown'],
    ]);
    expect(transitive?.items.map((m) => [m.id, m.type])).toEqual([['g2', 'group']]);
    expect(Object.keys(reader.requests.byKind).sort()).toEqual([
      'GET /groups/{id}/members',
      'GET /groups/{id}/transitiveMembers',
    ]);
  });
});

describe('delta', () => {
  it('yields pages of a round and the deltaLink only on the last, with Prefer on every request', async () => {
    stub.graph = (request, base) => {
      const token = query(request).get('$skiptoken');
      if (token === null) {
        return {
          body: {
            value: [user('a'), { id: 'gone', '@removed': { reason: 'deleted' } }],
            '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=p2`,
          },
        };
      }
      return {
        body: {
          value: [
            { id: 'a', jobTitle: null },
            { id: 'soft', '@removed': { reason: 'changed' } },
          ],
          '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d1`,
        },
      };
    };
    const reader = connect();
    const pages = await collect(reader.usersDelta({ select: ['displayName'], preferMinimal: true }));
    expect(pages.map((p) => p.deltaLink)).toEqual([
      undefined,
      `${stub.base}/v1.0/users/delta?$deltatoken=d1`,
    ]);
    expect(pages[0]?.items).toEqual([
      { kind: 'upsert', id: 'a', user: user('a') },
      { kind: 'removed', id: 'gone', reason: 'deleted' },
    ]);
    // Partial object: jobTitle cleared (null), nothing else carried.
    expect(pages[1]?.items[0]).toEqual({ kind: 'upsert', id: 'a', user: { id: 'a', jobTitle: null } });
    expect(pages[1]?.items[1]).toEqual({ kind: 'removed', id: 'soft', reason: 'changed' });
    expect(stub.requests.map((r) => r.headers.prefer)).toEqual(['return=minimal', 'return=minimal']);
    expect(stub.requests[0] && query(stub.requests[0]).get('$select')).toBe('id,displayName');
    expect(reader.requests.byKind).toEqual({ 'GET /users/delta': 2 });
  });

  it('resumes from a stored deltaLink as given', async () => {
    stub.graph = (request, base) => ({
      body: {
        value: [],
        '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=${query(request).get('$deltatoken') ?? ''}-next`,
      },
    });
    const pages = await collect(
      connect().usersDelta({ deltaLink: `${stub.base}/v1.0/users/delta?$deltatoken=abc` }),
    );
    expect(pages).toHaveLength(1);
    expect(pages[0]?.deltaLink).toBe(`${stub.base}/v1.0/users/delta?$deltatoken=abc-next`);
  });

  it('yields each slice of a large group as it comes, under the same group id', async () => {
    let served = 0;
    stub.graph = (_request, base) => {
      served += 1;
      const slice = (n: number) =>
        [0, 1].map((i) => ({ '@odata.type': '#microsoft.graph.user', id: `m${n}-${i}` }));
      return {
        body:
          served < 3
            ? {
                value: [{ id: 'big', displayName: 'Big', 'members@delta': slice(served) }],
                '@odata.nextLink': `${base}/v1.0/groups/delta?$skiptoken=${served}`,
              }
            : {
                value: [{ id: 'big', displayName: 'Big', 'members@delta': slice(served) }],
                '@odata.deltaLink': `${base}/v1.0/groups/delta?$deltatoken=z`,
              },
      };
    };
    const seen: string[][] = [];
    for await (const page of connect().groupsDelta({ select: ['displayName'] })) {
      // Seen before the next page is even requested: nothing is buffered.
      expect(served).toBe(seen.length + 1);
      for (const item of page.items)
        if (item.kind === 'upsert') seen.push((item.members ?? []).map((m) => m.id));
    }
    expect(seen).toEqual([
      ['m1-0', 'm1-1'],
      ['m2-0', 'm2-1'],
      ['m3-0', 'm3-1'],
    ]);
    expect(stub.requests[0] && query(stub.requests[0]).get('$select')).toBe('id,displayName,members');
  });

  it('turns 410 Gone with a Location into a reset DeltaStateLostError', async () => {
    stub.graph = (_r, base) => ({
      status: 410,
      headers: { location: `${base}/v1.0/users/delta?$deltatoken=` },
      body: { error: { code: 'resyncRequired', message: 'Resync required.' } },
    });
    const error = await collect(
      connect().usersDelta({ deltaLink: `${stub.base}/v1.0/users/delta?$deltatoken=old` }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeltaStateLostError);
    expect(error).toMatchObject({
      kind: 'reset',
      status: 410,
      location: `${stub.base}/v1.0/users/delta?$deltatoken=`,
    });
  });

  it('turns 410 Gone with no body at all into a reset, keeping the Location', async () => {
    stub.graph = (_r, base) => ({
      status: 410,
      headers: { location: `${base}/v1.0/groups/delta?$deltatoken=` },
    });
    const error = await collect(
      connect().groupsDelta({ deltaLink: `${stub.base}/v1.0/groups/delta?$deltatoken=x` }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'delta_state_lost',
      kind: 'reset',
      location: `${stub.base}/v1.0/groups/delta?$deltatoken=`,
    });
  });

  it('turns 400 syncStateNotFound into an expired DeltaStateLostError', async () => {
    stub.graph = () => ({
      status: 400,
      body: { error: { code: 'syncStateNotFound', message: 'The sync state was not found.' } },
    });
    const error = await collect(
      connect().usersDelta({ deltaLink: `${stub.base}/v1.0/users/delta?$deltatoken=old` }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: 'expired',
      status: 400,
      graphCode: 'syncStateNotFound',
      location: undefined,
    });
  });

  it('refuses a stored deltaLink for another host without calling Graph', async () => {
    const error = await collect(
      connect().usersDelta({ deltaLink: 'https://graph.microsoft.us/v1.0/users/delta?$deltatoken=x' }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'delta_state_lost', kind: 'reset' });
    expect(stub.requests).toHaveLength(0);
  });

  it('asks for the latest deltaLink with $deltatoken=latest', async () => {
    stub.graph = (_r, base) => ({
      body: { value: [], '@odata.deltaLink': `${base}/v1.0/groups/delta?$deltatoken=now` },
    });
    const link = await connect().latestDeltaLink('groups', { select: ['displayName'] });
    expect(link).toBe(`${stub.base}/v1.0/groups/delta?$deltatoken=now`);
    const q = stub.requests[0] && query(stub.requests[0]);
    expect(q?.get('$deltatoken')).toBe('latest');
    expect(q?.get('$select')).toBe('id,displayName,members');
  });
});

describe('throttling', () => {
  it('honours fractional Retry-After within the budget', async () => {
    let calls = 0;
    stub.graph = () => {
      calls += 1;
      return calls <= 2
        ? {
            status: calls === 1 ? 429 : 503,
            headers: { 'retry-after': '0.05' },
            body: { error: { code: 'TooManyRequests', message: 'slow down' } },
          }
        : { body: { value: [user('a')] } };
    };
    const reader = connect();
    const started = Date.now();
    const pages = await collect(reader.listUsers());
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(pages[0]?.items).toHaveLength(1);
    expect(reader.requests).toMatchObject({ total: 3, retries: 2, throttledResponses: 2, waitedMs: 100 });
    expect(reader.retryBudget.waitedMs).toBe(100);
  });

  it('stops at once with a ThrottledError that says when, when Retry-After exceeds the budget', async () => {
    stub.graph = () => ({
      status: 429,
      headers: { 'retry-after': '2.128', 'request-id': 'req-1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    });
    const reader = connect({}, { retry: { maxTotalWaitMs: 1000 } });
    const before = Date.now();
    const error = await collect(reader.listUsers()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    const throttled = expectInstance(error, ThrottledError);
    expect(throttled.retryAfterSeconds).toBe(2.128);
    expect(throttled.retryAfterFromServer).toBe(true);
    expect(throttled.stopReason).toBe('budget_spent');
    expect(throttled.requestId).toBe('req-1');
    expect(throttled.retryAt.getTime()).toBeGreaterThanOrEqual(before + 2128);
    expect(throttled.nextStep).toContain(throttled.retryAt.toISOString());
    expect(reader.requests.total).toBe(1);
  });

  it('stops after the per-request retries with a back-off suggestion when Graph gives no Retry-After', async () => {
    stub.graph = () => ({ status: 503, body: { error: { code: 'serviceUnavailable', message: 'busy' } } });
    const reader = connect({}, { retry: { maxRetriesPerRequest: 2, initialBackoffMs: 10, random: () => 0 } });
    const error = await collect(reader.listUsers()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'throttled',
      status: 503,
      stopReason: 'max_retries',
      retryAfterFromServer: false,
    });
    expect(expectInstance(error, ThrottledError).retryAfterSeconds).toBe(0.04);
    expect(reader.requests).toMatchObject({ total: 3, retries: 2, waitedMs: 30 });
  });
});

describe('credentials and consent', () => {
  it('maps a wrong secret to CredentialsInvalidError naming the reference, never the secret', async () => {
    stub.graph = () => ({ body: { value: [] } });
    const error = await collect(connect({ secret: 'wrong-secret-value' }).listUsers()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CredentialsInvalidError);
    const invalid = expectInstance(error, CredentialsInvalidError);
    expect(invalid).toMatchObject({
      problem: 'secret_invalid',
      aadsts: 7000215,
      clientId: CLIENT_ID,
      tenantId: stub.tenantId,
    });
    expect(invalid.nextStep).toContain('kv:entrasync-contoso-graph');
    const everything = JSON.stringify({
      m: invalid.message,
      n: invalid.nextStep,
      d: invalid.details,
      s: invalid.stack,
    });
    expect(everything).not.toContain('wrong-secret-value');
    expect(everything).not.toContain(SECRET);
    expect(stub.requests).toHaveLength(0);
  });

  it('maps an expired secret (AADSTS7000222)', async () => {
    stub.tokenFailure = {
      status: 401,
      error: 'invalid_client',
      code: 7000222,
      description: 'The provided client secret keys are expired.',
    };
    const error = await connect()
      .getOrganization()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'credentials_invalid', problem: 'secret_expired', aadsts: 7000222 });
  });

  it('maps missing consent at sign-in (AADSTS65001) to ConsentMissingError with the admin-consent link', async () => {
    stub.tokenFailure = {
      status: 400,
      error: 'invalid_grant',
      code: 65001,
      description: 'The user or administrator has not consented to use the application.',
    };
    const error = await connect()
      .getOrganization()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsentMissingError);
    expect(error).toMatchObject({ problem: 'not_consented', aadsts: 65001 });
    expect(expectInstance(error, ConsentMissingError).nextStep).toContain(
      `${stub.base}/${stub.tenantId}/adminconsent?client_id=${CLIENT_ID}`,
    );
  });

  it('maps an app unknown in the tenant (AADSTS700016) to ConsentMissingError', async () => {
    const error = await collect(
      connect({ clientId: '99999999-9999-4999-8999-999999999999' }).listUsers(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'consent_missing', problem: 'app_not_in_tenant', aadsts: 700016 });
  });

  it('maps 403 Authorization_RequestDenied to ConsentMissingError naming the permissions', async () => {
    stub.graph = () => ({
      status: 403,
      headers: { 'request-id': 'r-403' },
      body: {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      },
    });
    const error = await collect(connect().listGroups()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'consent_missing',
      problem: 'insufficient_privileges',
      status: 403,
      requestId: 'r-403',
    });
    expect(expectInstance(error, ConsentMissingError).nextStep).toContain('GroupMember.Read.All');
  });

  it('signs in with a certificate', async () => {
    stub.graph = () => ({ body: { value: [{ id: 'org-1', displayName: 'Contoso' }] } });
    const org = await connect({ certificatePem: `${appCert.certPem}\n${appCert.keyPem}` }).getOrganization();
    expect(org).toMatchObject({ id: 'org-1', displayName: 'Contoso' });
  });

  it('maps a certificate the app does not know to CredentialsInvalidError', async () => {
    const error = await connect({ certificatePem: `${otherCert.certPem}\n${otherCert.keyPem}` })
      .getOrganization()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'credentials_invalid',
      problem: 'certificate_rejected',
      aadsts: 700027,
    });
    expect(expectInstance(error, Error).message).not.toContain('PRIVATE KEY');
  });
});

describe('single objects', () => {
  it('gets a user by id or userPrincipalName, encoding it', async () => {
    stub.graph = (request) => ({
      body: user(decodeURIComponent(request.url.split('?')[0]?.split('/users')[1] ?? '')),
    });
    const reader = connect();
    await reader.getUser('a_contoso.com#EXT#@fabrikam.test', { select: ['displayName'] });
    await reader.getUser('$admin@contoso.test');
    expect(stub.requests.map((r) => r.url.split('?')[0])).toEqual([
      '/v1.0/users/a_contoso.com%23EXT%23%40fabrikam.test',
      "/v1.0/users('%24admin%40contoso.test')",
    ]);
    expect(Object.keys(reader.requests.byKind).sort()).toEqual(['GET /users({id})', 'GET /users/{id}']);
  });

  it('maps 404 to GraphNotFoundError', async () => {
    stub.graph = () => ({
      status: 404,
      body: {
        error: {
          code: 'Request_ResourceNotFound',
          message: "Resource 'x' does not exist.",
          innerError: { 'request-id': 'r404' },
        },
      },
    });
    const error = await connect()
      .getGroup('x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphNotFoundError);
    expect(error).toMatchObject({
      code: 'not_found',
      graphCode: 'Request_ResourceNotFound',
      requestId: 'r404',
    });
  });

  it('counts with $count as text/plain and ConsistencyLevel: eventual', async () => {
    stub.graph = () => ({ body: '893' });
    expect(await connect().countUsers({ filter: "userType eq 'Guest'" })).toBe(893);
    expect(stub.requests[0]?.headers.consistencylevel).toBe('eventual');
    expect(stub.requests[0] && query(stub.requests[0]).get('$filter')).toBe("userType eq 'Guest'");
  });

  it('stops when aborted', async () => {
    stub.graph = () => ({
      status: 429,
      headers: { 'retry-after': '5' },
      body: { error: { code: 'TooManyRequests' } },
    });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    const started = Date.now();
    const error = await collect(connect().listUsers({ abortSignal: controller.signal })).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(expectInstance(error, Error).name).toBe('AbortError');
  });
});
