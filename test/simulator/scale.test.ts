import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GraphCall } from './graph-context.js';
import { handleGraph } from './graph-routes.js';
import { TokenSealer } from './opaque-tokens.js';
import { ALL_QUIRKS } from './paging.js';
import { SimulatedTenant } from './tenant-model.js';

/**
 * Scale: a million users in bounded memory, and the serving cost of 999-user pages. The figures quoted
 * in docs/dev/simulator.md come from test/simulator/measure.ts, which runs the simulator in its own
 * process; this test keeps them from regressing.
 */

const MB = 1024 * 1024;

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function call(tenant: SimulatedTenant, sealer: TokenSealer, url: string): GraphCall {
  const parsed = new URL(url, 'https://localhost:1');
  return {
    req: {
      method: 'GET',
      url: parsed,
      segments: parsed.pathname.split('/').slice(1).map(decodeURIComponent),
      headers: {},
      body: Buffer.alloc(0),
      requestId: randomUUID(),
      clientRequestId: undefined,
    },
    tenant,
    roles: ['User.Read.All', 'GroupMember.Read.All'],
    settings: {
      baseUrl: 'https://localhost:1',
      quirks: { ...ALL_QUIRKS },
      sealer,
      deltaPageSize: 200,
      memberBudget: 500,
    },
    path: parsed.pathname.split('/').slice(2),
  };
}

describe('a 1,000,000-user tenant', () => {
  it('builds fast, in bounded memory, and reads users at the far end by id and user principal name', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const tenant = new SimulatedTenant({ users: 1_000_000, groups: 200, seed: 5 });
    const buildMs = performance.now() - started;
    tenant.applyRandomChanges(2000, 3);
    const last = tenant.userAt(999_999);
    const heapGrowthMB = (process.memoryUsage().heapUsed - heapBefore) / MB;
    console.info(
      `[scale] 1,000,000 users / 200 groups: built in ${Math.round(buildMs)} ms, heap +${heapGrowthMB.toFixed(1)} MB, RSS ${Math.round(process.memoryUsage().rss / MB)} MB`,
    );
    expect(buildMs).toBeLessThan(2000);
    expect(heapGrowthMB).toBeLessThan(64);
    expect(tenant.liveUserCount).toBeGreaterThan(990_000);
    expect(tenant.resolveUser(last.id)).toBe(999_999);
    expect(tenant.resolveUser(last.userPrincipalName)).toBe(999_999);
  });
});

describe('serving cost', () => {
  it('serialises /users pages at well over 100,000 users per CPU second', () => {
    const tenant = new SimulatedTenant({ users: 100_000, groups: 10, seed: 9 });
    const sealer = new TokenSealer();
    const select =
      'id,displayName,givenName,surname,mail,userPrincipalName,accountEnabled,department,jobTitle,employeeId,userType';
    let url: string | undefined = `/v1.0/users?$top=999&$select=${select}`;
    let users = 0;
    let spent = 0;
    while (url !== undefined) {
      const before = cpuMs();
      const response = handleGraph(call(tenant, sealer, url));
      spent += cpuMs() - before;
      const body = JSON.parse(response.body ?? '{}') as { value: unknown[]; '@odata.nextLink'?: string };
      users += body.value.length;
      url = body['@odata.nextLink'];
    }
    const rate = Math.round((users / spent) * 1000);
    console.info(
      `[scale] /users: ${users} users serialised in ${Math.round(spent)} CPU ms: ${rate} users per CPU second`,
    );
    expect(users).toBe(tenant.liveUserCount);
    expect(rate).toBeGreaterThan(100_000);
  });
});
