import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchUrlOf, parseBatchAnswer } from '../../shared/graph/batch.js';
import {
  createGraphClient,
  createGraphCredential,
  GraphNotFoundError,
  GraphReader,
  GraphRequestError,
  ThrottledError,
  type GraphClient,
  type GraphReaderOptions,
  type GroupMembersPage,
} from '../../shared/graph/index.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { expectInstance } from './helpers/expect.js';

/**
 * Members of many groups through JSON batching, with the real credential and SDK client against the
 * simulated tenant: every member once, 20 requests a batch, nextLinks batched too, throttling inside a
 * batch waited out, other failures typed.
 */

let sim: Simulator;
const clients: GraphClient[] = [];

beforeAll(async () => {
  // Shuffled answers: the reader must match responses to requests by id.
  sim = await startSimulator({
    tenants: [{ users: 3000, groups: 45, maxGroupSize: 1200 }],
    quirks: { shuffle: true, unevenPages: true, replays: false },
  });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await sim.close();
});

/** Groups that fit in one page of members. */
function smallGroups(count: number): string[] {
  return sim
    .tenant()
    .liveGroupIds()
    .filter((id) => sim.tenant().membersOf(id).length < 900)
    .slice(0, count);
}

function connect(options: GraphReaderOptions = {}): GraphReader {
  const app = sim.app();
  const credential = createGraphCredential(
    sim.tenant().tenantId,
    app.clientId,
    { clientSecret: app.clientSecret },
    { cloud: { authorityHost: sim.authorityHost, graphBaseUrl: sim.graphBaseUrl }, ca: sim.ca },
  );
  const client = createGraphClient(credential, { ca: sim.ca });
  clients.push(client);
  return new GraphReader(client, options);
}

async function membersByGroup(pages: AsyncIterable<GroupMembersPage>): Promise<Map<string, string[]>> {
  const byGroup = new Map<string, string[]>();
  for await (const page of pages) {
    const list = byGroup.get(page.groupId) ?? [];
    list.push(...page.items.map((member) => member.id));
    byGroup.set(page.groupId, list);
  }
  return byGroup;
}

describe('membersOfGroups', () => {
  it('reads every member of every group once, 20 requests to a batch, following nextLinks in batches', async () => {
    const groups = sim.tenant().liveGroupIds();
    const reader = connect({ pageSize: 100 });
    sim.requests.reset();
    const byGroup = await membersByGroup(reader.membersOfGroups(groups, { select: ['id'] }));
    for (const groupId of groups) {
      expect(new Set(byGroup.get(groupId) ?? []), groupId).toEqual(new Set(sim.tenant().membersOf(groupId)));
      expect(byGroup.get(groupId)?.length ?? 0).toBe(sim.tenant().membersOf(groupId).length);
    }
    const memberRequests = sim.requests.countBatched('GET /v1.0/groups/{id}/members');
    expect(memberRequests).toBeGreaterThan(groups.length);
    // Honest counts on both sides: HTTP requests, and the individual requests they carried.
    expect(reader.requests.batched).toEqual({
      total: memberRequests,
      byKind: { 'GET /groups/{id}/members': memberRequests },
    });
    expect(reader.requests.byKind).toEqual({ 'POST /$batch': sim.requests.count('POST /v1.0/$batch') });
    // Full batches, except where a group's long member list makes a chain of pages read one by one.
    expect(reader.requests.total).toBeLessThan(memberRequests / 4);
  });

  it('waits out a 429 inside a batch (its own Retry-After) and reads the group in a later batch', async () => {
    const groups = smallGroups(5);
    const reader = connect();
    sim.faults.add({ status: 429, count: 2, path: '/v1.0/groups/*/members', retryAfter: 0.05 });
    const started = Date.now();
    const byGroup = await membersByGroup(reader.membersOfGroups(groups, { select: ['id'] }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    for (const groupId of groups) {
      expect(new Set(byGroup.get(groupId) ?? [])).toEqual(new Set(sim.tenant().membersOf(groupId)));
    }
    expect(reader.requests).toMatchObject({ retries: 2, throttledResponses: 2, waitedMs: 100 });
    expect(reader.requests.batched.total).toBe(groups.length + 2);
  });

  it('stops with ThrottledError when the budget cannot cover a Retry-After inside a batch', async () => {
    const reader = connect({ retry: { maxTotalWaitMs: 1000 } });
    sim.faults.add({ status: 429, count: 1, path: '/v1.0/groups/*/members', retryAfter: 2.128 });
    const error = await membersByGroup(reader.membersOfGroups(smallGroups(3))).catch((e: unknown) => e);
    sim.faults.clear();
    expect(expectInstance(error, ThrottledError)).toMatchObject({
      retryAfterSeconds: 2.128,
      stopReason: 'budget_spent',
      status: 429,
    });
  });

  it('a group that does not exist fails the read with its typed error', async () => {
    const reader = connect();
    const missing = '00000000-0000-0000-0000-00000000beef';
    const error = await membersByGroup(
      reader.membersOfGroups([sim.tenant().liveGroupIds()[0] ?? '', missing]),
    ).catch((e: unknown) => e);
    expectInstance(error, GraphNotFoundError);
  });

  it('retries a throttled batch as a whole (the POST itself answered 429)', async () => {
    const reader = connect();
    sim.faults.add({ status: 429, count: 1, path: '/v1.0/$batch', retryAfter: 0.02 });
    const groups = smallGroups(3);
    const byGroup = await membersByGroup(reader.membersOfGroups(groups));
    expect([...byGroup.keys()].sort()).toEqual([...groups].sort());
    expect(reader.requests).toMatchObject({ retries: 1, byKind: { 'POST /$batch': 2 } });
  });
});

describe('batch helpers', () => {
  it('makes a nextLink relative to the version root, or leaves it to a plain GET', () => {
    const base = 'https://graph.microsoft.com';
    expect(batchUrlOf(`${base}/v1.0/groups/1/members?$top=999&$skiptoken=X`, base)).toBe(
      '/groups/1/members?$top=999&$skiptoken=X',
    );
    expect(batchUrlOf(`${base}/beta/groups/1/members?$skiptoken=X`, base)).toBeUndefined();
    expect(batchUrlOf('https://other.example/v1.0/groups', base)).toBeUndefined();
  });

  it('matches answers by id without case, whatever their order, and refuses a missing one', () => {
    const body = {
      responses: [
        { id: 'B', status: 404, headers: {}, body: { error: { code: 'x' } } },
        { id: 'a', status: 200, body: { value: [] } },
      ],
    };
    const answers = parseBatchAnswer(body, ['A', 'b']);
    expect(answers.get('A')?.status).toBe(200);
    expect(answers.get('b')?.status).toBe(404);
    expectInstance(
      (() => {
        try {
          return parseBatchAnswer(body, ['a', 'c']);
        } catch (error) {
          return error;
        }
      })(),
      GraphRequestError,
    );
  });
});
