import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './index.js';

/** JSON batching (concepts/json-batching.md): shape, per-request status, throttling inside a batch. */

const EXAMPLE = join(
  process.env.GRAPH_EXAMPLES_DIR ?? fileURLToPath(new URL('../../../shared/graph-examples', import.meta.url)),
  'batch-request-response.json',
);

let sim: Simulator;
let token: string;

interface BatchAnswer {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

beforeAll(async () => {
  sim = await startSimulator({ tenants: [{ users: 300, groups: 6 }] });
  token = await sim.issueAccessToken();
});

afterAll(async () => {
  await sim.close();
});

async function batch(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.graphBaseUrl}/v1.0/$batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    dispatcher: sim.dispatcher,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function answers(body: Record<string, unknown>): Map<string, BatchAnswer> {
  const list = body.responses as BatchAnswer[];
  return new Map(list.map((answer) => [answer.id, answer]));
}

describe('$batch', () => {
  it('answers each request with its own status, headers and body, matched by id', async () => {
    sim.requests.reset();
    const [groupId] = sim.tenant().liveGroupIds();
    const { status, body } = await batch({
      requests: [
        { id: '1', method: 'GET', url: `/groups/${groupId ?? ''}/members?$select=id&$top=2` },
        { id: '2', method: 'GET', url: 'users?$select=id,displayName&$top=3' },
        { id: '3', method: 'GET', url: '/groups/00000000-0000-0000-0000-000000000000' },
        { id: '4', method: 'DELETE', url: `/groups/${groupId ?? ''}` },
        {
          id: '5',
          method: 'GET',
          url: '/users/$count',
          headers: { ConsistencyLevel: 'eventual' },
        },
      ],
    });
    expect(status).toBe(200);
    const byId = answers(body);
    expect(byId.size).toBe(5);
    const members = byId.get('1');
    expect(members?.status).toBe(200);
    expect(members?.headers['content-type']).toMatch(/^application\/json/);
    const page = members?.body as { value: unknown[]; '@odata.nextLink': string };
    expect(page.value).toHaveLength(2);
    // nextLinks inside a batch are absolute, like any other.
    expect(page['@odata.nextLink']).toMatch(new RegExp(`^${sim.graphBaseUrl}/v1.0/groups/`));
    expect((byId.get('2')?.body as { value: unknown[] }).value).toHaveLength(3);
    expect(byId.get('3')).toMatchObject({
      status: 404,
      body: { error: { code: 'Request_ResourceNotFound' } },
    });
    expect(byId.get('4')?.status).toBe(405);
    // A text/plain body travels as a JSON string.
    expect(byId.get('5')).toMatchObject({ status: 200, body: '300' });
    // One HTTP request; the individual requests are counted apart.
    expect(sim.requests.snapshot()).toMatchObject({
      total: 1,
      byEndpoint: { 'POST /v1.0/$batch': 1 },
      batched: { total: 5 },
    });
    expect(sim.requests.countBatched('GET /v1.0/groups/{id}/members')).toBe(1);
  });

  it('answers in another order than asked while the shuffle quirk is on', async () => {
    const requests = ['a', 'b', 'c'].map((id) => ({ id, method: 'GET', url: '/users?$top=1' }));
    const { body } = await batch({ requests });
    expect((body.responses as BatchAnswer[]).map((answer) => answer.id)).toEqual(['c', 'b', 'a']);
  });

  it('throttles individual requests inside a 200 batch, with their own Retry-After', async () => {
    sim.faults.clear();
    sim.faults.add({ status: 429, count: 1, path: '/v1.0/groups/*/members', retryAfter: 2.128 });
    const [first, second] = sim.tenant().liveGroupIds();
    const { status, body } = await batch({
      requests: [
        { id: '1', method: 'GET', url: `/groups/${first ?? ''}/members` },
        { id: '2', method: 'GET', url: `/groups/${second ?? ''}/members` },
      ],
    });
    expect(status).toBe(200);
    const byId = answers(body);
    expect(byId.get('1')).toMatchObject({
      status: 429,
      headers: { 'retry-after': '2.128' },
      body: { error: { code: 'TooManyRequests' } },
    });
    expect(byId.get('2')?.status).toBe(200);
    sim.faults.clear();
  });

  it('a request whose dependency failed fails with 424', async () => {
    const { body } = await batch({
      requests: [
        { id: '1', method: 'GET', url: '/groups/00000000-0000-0000-0000-000000000000' },
        { id: '2', method: 'GET', url: '/users?$top=1', dependsOn: ['1'] },
        { id: '3', method: 'GET', url: '/users?$top=1', dependsOn: ['1'] },
      ],
    });
    const byId = answers(body);
    expect(byId.get('2')).toMatchObject({ status: 424, body: { error: { code: 'FailedDependency' } } });
    expect(byId.get('3')?.status).toBe(424);
  });

  it('refuses a malformed batch whole: more than 20, duplicate ids, not JSON, a later dependency', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' }));
    for (const body of [
      { requests: many },
      { requests: [many[0], { ...many[1], id: '0' }] },
      'not json',
      { requests: [{ id: '1', method: 'GET', url: '/users', dependsOn: ['2'] }, many[2]] },
    ]) {
      const answer = await batch(body);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'BadRequest' } });
    }
  });

  // The documented example, from the graph-examples folder beside the repository, when it is there.
  it.runIf(existsSync(EXAMPLE))('takes the example request of json-batching.md', async () => {
    const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { request: { body: unknown } };
    const { status, body } = await batch(example.request.body);
    expect(status).toBe(200);
    const byId = answers(body);
    expect([...byId.keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
    // /me needs a signed-in user: an app-only token gets an error answer per request, never a failed batch.
    for (const answer of byId.values()) expect(typeof answer.status).toBe('number');
    expect(byId.get('5')?.status).toBe(200);
  });
});
