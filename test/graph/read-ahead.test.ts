import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGraphClient,
  createGraphCredential,
  GraphReader,
  ThrottledError,
  type GraphClient,
} from '../../shared/graph/index.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { expectInstance } from './helpers/expect.js';

/** Lists with readAhead: the same pages as without, the next one asked for while a page is in use. */

let sim: Simulator;
const clients: GraphClient[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tenants: [{ users: 2500, groups: 3 }], latencyMs: 30 });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await sim.close();
});

function connect(maxTotalWaitMs = 120_000): GraphReader {
  const app = sim.app();
  const credential = createGraphCredential(
    sim.tenant().tenantId,
    app.clientId,
    { clientSecret: app.clientSecret },
    { cloud: { authorityHost: sim.authorityHost, graphBaseUrl: sim.graphBaseUrl }, ca: sim.ca },
  );
  const client = createGraphClient(credential, { ca: sim.ca });
  clients.push(client);
  return new GraphReader(client, { pageSize: 200, retry: { maxTotalWaitMs } });
}

/** The pages' user ids, and for each page how many list requests had reached the tenant while it was in use. */
async function pagesOf(
  reader: GraphReader,
  readAhead: boolean,
): Promise<{ pages: string[][]; seen: number[] }> {
  const pages: string[][] = [];
  const seen: number[] = [];
  const before = sim.requests.count('GET /v1.0/users');
  for await (const page of reader.listUsers({ select: ['displayName'], readAhead })) {
    pages.push(page.items.map((user) => user.id));
    // The caller's own work on the page.
    await new Promise((resolve) => setTimeout(resolve, 40));
    seen.push(sim.requests.count('GET /v1.0/users') - before);
  }
  return { pages, seen };
}

describe('listUsers({ readAhead })', () => {
  it('yields the same pages with the same requests, asking for the next while a page is in use', async () => {
    const plain = await pagesOf(connect(), false);
    const ahead = await pagesOf(connect(), true);
    expect(ahead.pages).toEqual(plain.pages);
    expect(ahead.pages.flat()).toHaveLength(2500);
    const count = plain.pages.length;
    // Without read-ahead the request for page k+1 goes out after page k is done with.
    expect(plain.seen).toEqual(Array.from({ length: count }, (_, k) => k + 1));
    // With it, it is out while page k is in use (none after the last).
    expect(ahead.seen).toEqual(Array.from({ length: count }, (_, k) => Math.min(k + 2, count)));
  });

  it('a caller that stops early leaves no failure behind; a failing read-ahead fails the next page', async () => {
    const reader = connect();
    for await (const page of reader.listUsers({ readAhead: true })) {
      expect(page.items.length).toBeGreaterThan(0);
      break;
    }
    // The fault goes in while the first page is in use: the request for the second is already out,
    // and the simulator looks at faults only after its 30 ms of latency.
    const error = await (async () => {
      try {
        for await (const page of connect(1000).listUsers({ readAhead: true })) {
          expect(page.items).not.toHaveLength(0);
          sim.faults.add({ status: 503, count: 1, path: '/v1.0/users', retryAfter: 5 });
        }
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    sim.faults.clear();
    expectInstance(error, ThrottledError);
  });
});
