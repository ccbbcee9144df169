import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './index.js';
import { get, graphClient, jsonOf } from './test-clients.js';

/** Injected throttling and outages, added latency, and the Graph client's retry handler against them. */

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({ tenants: [{ users: 50, groups: 4 }] });
  token = await sim.issueAccessToken();
});

afterAll(async () => {
  await sim.close();
});

describe('faults', () => {
  it('answers 429 with a fractional Retry-After and the throttling body for N matching requests', async () => {
    sim.faults.clear();
    sim.faults.add({ status: 429, count: 2, method: 'GET', path: '/v1.0/users', retryAfter: 2.128 });
    for (let i = 0; i < 2; i++) {
      const response = await get(sim, '/v1.0/users', { token });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('2.128');
      const body = await jsonOf(response);
      expect(body).toMatchObject({
        error: {
          code: 'TooManyRequests',
          message: 'Please retry again later.',
          innerError: { code: '429', status: '429' },
        },
      });
    }
    expect((await get(sim, '/v1.0/users', { token })).status).toBe(200);
    expect(sim.faults.list()[0]).toMatchObject({ hits: 2, remaining: 0 });
  });

  it('is honoured by the Graph client retry handler, which waits Retry-After and succeeds', async () => {
    sim.faults.clear();
    sim.requests.reset();
    const client = graphClient(sim);
    await client.api('/groups').get(); // token first, so timing covers the retries only
    sim.requests.reset();
    sim.faults.add({ status: 429, count: 2, path: '/v1.0/users', retryAfter: 0.3 });
    const started = performance.now();
    const body = (await client.api('/users').select('id').get()) as { value: unknown[] };
    const elapsed = performance.now() - started;
    expect(body.value.length).toBeGreaterThan(0);
    expect(sim.requests.count('GET /v1.0/users')).toBe(3);
    expect(elapsed).toBeGreaterThanOrEqual(590);
  });

  it('injects 503 and 504 on a normalised path pattern, leaving other paths alone', async () => {
    sim.faults.clear();
    const groupId = sim.tenant().liveGroupIds()[0] ?? '';
    sim.faults.add({ status: 503, path: '/v1.0/groups/{id}/members', retryAfter: 1 });
    sim.faults.add({ status: 504, path: '/v1.0/users/*', retryAfter: null });
    expect((await get(sim, `/v1.0/groups/${groupId}`, { token })).status).toBe(200);
    const unavailable = await get(sim, `/v1.0/groups/${groupId}/members`, { token });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('1');
    expect(await jsonOf(unavailable)).toMatchObject({
      error: { innerError: { 'request-id': expect.any(String) as unknown } },
    });
    const timeout = await get(sim, '/v1.0/users/delta', { token });
    expect(timeout.status).toBe(504);
    expect(timeout.headers.get('retry-after')).toBeNull();
    expect((await get(sim, '/v1.0/users/delta', { token })).status).toBe(200);
  });

  it('can throttle the token endpoint too, when asked', async () => {
    sim.faults.clear();
    sim.faults.add({ status: 429, method: 'POST', path: '/{tenant}/oauth2/v2.0/token', retryAfter: 0 });
    const response = await fetchToken();
    expect(response).toBe(429);
    expect(await fetchToken()).toBe(200);
  });
});

async function fetchToken(): Promise<number> {
  const { fetch } = await import('undici');
  const app = sim.app();
  const response = await fetch(`${sim.authorityHost}/${sim.tenant().tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: `${sim.graphBaseUrl}/.default`,
    }).toString(),
    dispatcher: sim.dispatcher,
  });
  await response.arrayBuffer();
  return response.status;
}

describe('latency', () => {
  it('adds the configured latency to each request, settable at runtime', async () => {
    sim.faults.clear();
    sim.setLatency(150);
    try {
      const started = performance.now();
      await (await get(sim, '/v1.0/groups', { token })).arrayBuffer();
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    } finally {
      sim.setLatency(0);
    }
    const started = performance.now();
    await (await get(sim, '/v1.0/groups', { token })).arrayBuffer();
    expect(performance.now() - started).toBeLessThan(145);
  });
});
