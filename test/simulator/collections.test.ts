import { PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './index.js';
import { get, getPage, graphClient, jsonOf } from './test-clients.js';

/** /users, /groups, single objects and members, read with the real Graph client and raw requests. */

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({ tenants: [{ users: 2500, groups: 40, maxGroupSize: 700 }] });
  token = await sim.issueAccessToken();
});

afterAll(async () => {
  await sim.close();
});

describe('/users paging', () => {
  it('returns every live user exactly once through the Graph client PageIterator', async () => {
    const tenant = sim.tenant();
    const client = graphClient(sim);
    const seen: string[] = [];
    const first = (await client
      .api('/users')
      .top(300)
      .select(['id', 'displayName', 'userPrincipalName'])
      .get()) as PageCollection;
    expect(first.value.length).toBeLessThanOrEqual(300);
    const iterator = new PageIterator(client, first, (user: { id: string }) => {
      expect(Object.keys(user).sort()).toEqual(['displayName', 'id', 'userPrincipalName']);
      seen.push(user.id);
      return true;
    });
    await iterator.iterate();
    expect(seen).toHaveLength(tenant.liveUserCount);
    expect(new Set(seen)).toEqual(new Set(tenant.liveUserIds()));
  });

  it('pages by following absolute nextLinks on the simulator, shorter than $top but never empty', async () => {
    const seen = new Set<string>();
    const sizes: number[] = [];
    let url: string | undefined = '/v1.0/users?$select=id,mail&$top=250';
    while (url !== undefined) {
      const page = await getPage(sim, url, token);
      sizes.push(page.value.length);
      for (const user of page.value) seen.add(String(user.id));
      url = page['@odata.nextLink'];
      if (url !== undefined) {
        expect(url.startsWith(`${sim.graphBaseUrl}/v1.0/users?`)).toBe(true);
        expect(new URL(url).searchParams.get('$skiptoken')).toBeTruthy();
      }
    }
    expect(seen.size).toBe(sim.tenant().liveUserCount);
    expect(sizes.slice(0, -1).some((n) => n < 250)).toBe(true);
    expect(sizes.every((n) => n > 0 && n <= 250)).toBe(true);
  });

  it('serves full pages in id-generation order with the quirks off', async () => {
    sim.quirks.shuffle = false;
    sim.quirks.unevenPages = false;
    try {
      const page = await getPage(sim, '/v1.0/users?$select=id&$top=100', token);
      expect(page.value).toHaveLength(100);
      expect(page.value.map((u) => u.id)).toEqual(sim.tenant().liveUserIds(0, 100));
    } finally {
      sim.quirks.shuffle = true;
      sim.quirks.unevenPages = true;
    }
  });

  it('defaults to 100 users and the default property set, with explicit nulls', async () => {
    sim.quirks.unevenPages = false;
    try {
      const page = await getPage(sim, '/v1.0/users', token);
      expect(page['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users`);
      expect(page.value).toHaveLength(100);
      for (const user of page.value) {
        expect(Object.keys(user).sort()).toEqual(
          [
            'businessPhones',
            'displayName',
            'givenName',
            'id',
            'jobTitle',
            'mail',
            'mobilePhone',
            'officeLocation',
            'preferredLanguage',
            'surname',
            'userPrincipalName',
          ].sort(),
        );
      }
      expect(page.value.some((u) => u.mail === null)).toBe(true);
    } finally {
      sim.quirks.unevenPages = true;
    }
  });

  it('refuses $top above 999 and unknown $select properties with 400', async () => {
    const tooBig = await get(sim, '/v1.0/users?$top=1000', { token });
    expect(tooBig.status).toBe(400);
    expect(await jsonOf(tooBig)).toMatchObject({
      error: { message: expect.stringContaining('between 1 and 999') as unknown },
    });
    const unknown = await get(sim, '/v1.0/users?$select=id,favouriteColour', { token });
    expect(unknown.status).toBe(400);
    expect((await get(sim, '/v1.0/users?$select=skills', { token })).status).toBe(501);
  });

  it('puts the selected properties in @odata.context', async () => {
    const page = await getPage(sim, '/v1.0/users?$select=displayName,id&$top=5', token);
    expect(page['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users(displayName,id)`);
  });
});

describe('single objects', () => {
  it('reads a user by id and by user principal name, and 404s a deleted or unknown one', async () => {
    const tenant = sim.tenant();
    const user = tenant.createUser({ displayName: 'Zoë O’Brien-Nakamura', jobTitle: 'Tester' });
    const byId = await jsonOf(await get(sim, `/v1.0/users/${user.id}`, { token }));
    expect(byId).toMatchObject({ id: user.id, displayName: 'Zoë O’Brien-Nakamura', jobTitle: 'Tester' });
    expect(byId['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users/$entity`);
    const byUpn = await jsonOf(
      await get(sim, `/v1.0/users/${encodeURIComponent(user.userPrincipalName)}?$select=id,userType`, {
        token,
      }),
    );
    expect(byUpn).toMatchObject({ id: user.id, userType: 'Member' });

    tenant.softDeleteUser(user.id);
    const gone = await get(sim, `/v1.0/users/${user.id}`, { token });
    expect(gone.status).toBe(404);
    expect(await jsonOf(gone)).toMatchObject({ error: { code: 'Request_ResourceNotFound' } });
    expect((await get(sim, '/v1.0/users/00000000-0000-4000-8000-000000000000', { token })).status).toBe(404);
  });

  it('reads a group by id', async () => {
    const group = sim.tenant().getGroup(sim.tenant().liveGroupIds()[3] ?? '');
    const body = await jsonOf(
      await get(sim, `/v1.0/groups/${group?.id ?? ''}?$select=displayName`, { token }),
    );
    expect(body).toMatchObject({ id: group?.id, displayName: group?.displayName });
  });
});

describe('/groups', () => {
  it('lists every group with the full default property set', async () => {
    const page = await getPage(sim, '/v1.0/groups?$top=999', token);
    expect(page.value).toHaveLength(sim.tenant().liveGroupCount);
    for (const key of [
      'id',
      'displayName',
      'groupTypes',
      'mailEnabled',
      'securityEnabled',
      'proxyAddresses',
      'visibility',
    ]) {
      expect(page.value[0]).toHaveProperty(key);
    }
  });

  it('filters with displayName eq, returning both groups that share a name', async () => {
    const tenant = sim.tenant();
    const names = tenant.liveGroupIds().map((id) => tenant.getGroup(id)?.displayName ?? '');
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    expect(duplicate).toBeDefined();
    const page = await getPage(
      sim,
      `/v1.0/groups?$filter=${encodeURIComponent(`displayName eq '${duplicate ?? ''}'`)}`,
      token,
    );
    expect(page.value).toHaveLength(2);
    expect(new Set(page.value.map((g) => g.id)).size).toBe(2);
  });

  it('filters with startswith(displayName, ...) and id in (...)', async () => {
    const tenant = sim.tenant();
    const ids = tenant.liveGroupIds();
    const prefix = (tenant.getGroup(ids[0] ?? '')?.displayName ?? '').slice(0, 3);
    const expected = ids.filter((id) =>
      tenant.getGroup(id)?.displayName.toLowerCase().startsWith(prefix.toLowerCase()),
    );
    const starts = await getPage(
      sim,
      `/v1.0/groups?$select=id&$filter=${encodeURIComponent(`startswith(displayName,'${prefix}')`)}`,
      token,
    );
    expect(new Set(starts.value.map((g) => g.id))).toEqual(new Set(expected));

    const wanted = [ids[1], ids[5], ids[7]];
    const byId = await getPage(
      sim,
      `/v1.0/groups?$filter=${encodeURIComponent(`id in ('${wanted.join("','")}')`)}`,
      token,
    );
    expect(new Set(byId.value.map((g) => g.id))).toEqual(new Set(wanted));
  });

  it('requires ConsistencyLevel and $count for endsWith, then counts', async () => {
    const plain = await get(
      sim,
      `/v1.0/groups?$filter=${encodeURIComponent("endswith(displayName,'Team')")}`,
      { token },
    );
    expect(plain.status).toBe(400);
    const advanced = await getPage(
      sim,
      `/v1.0/groups?$count=true&$filter=${encodeURIComponent("endswith(displayName,'Team')")}`,
      token,
      {
        ConsistencyLevel: 'eventual',
      },
    );
    expect(advanced['@odata.count']).toBe(advanced.value.length);
    const count = await get(sim, '/v1.0/groups/$count', { token, headers: { ConsistencyLevel: 'eventual' } });
    expect(await count.text()).toBe(String(sim.tenant().liveGroupCount));
  });
});

describe('members and transitiveMembers', () => {
  it('lists direct members with @odata.type, across pages, matching the tenant', async () => {
    const tenant = sim.tenant();
    const groupId = tenant.liveGroupIds()[0] ?? '';
    const seen: string[] = [];
    let url: string | undefined = `/v1.0/groups/${groupId}/members?$select=id,displayName&$top=100`;
    while (url !== undefined) {
      const page = await getPage(sim, url, token);
      expect(page['@odata.context']).toBe(
        `${sim.graphBaseUrl}/v1.0/$metadata#directoryObjects(id,displayName)`,
      );
      for (const member of page.value) {
        expect(['#microsoft.graph.user', '#microsoft.graph.group']).toContain(member['@odata.type']);
        seen.push(String(member.id));
      }
      url = page['@odata.nextLink'];
    }
    expect(seen.sort()).toEqual(tenant.membersOf(groupId).sort());
    expect(seen.length).toBeGreaterThan(100);
  });

  it('expands nested groups in transitiveMembers and counts with $count', async () => {
    const tenant = sim.tenant();
    const outer = tenant.createGroup({ displayName: 'Outer' });
    const inner = tenant.createGroup({ displayName: 'Inner' });
    const [a, b, c] = tenant.liveUserIds(0, 3);
    tenant.addMember(outer.id, a ?? '');
    tenant.addMember(outer.id, inner.id);
    tenant.addMember(inner.id, b ?? '');
    tenant.addMember(inner.id, c ?? '');
    tenant.addMember(inner.id, outer.id); // a cycle: transitive reads must still end

    const direct = await getPage(sim, `/v1.0/groups/${outer.id}/members`, token);
    expect(direct.value.map((m) => m['@odata.type']).sort()).toEqual([
      '#microsoft.graph.group',
      '#microsoft.graph.user',
    ]);
    const transitive = await getPage(sim, `/v1.0/groups/${outer.id}/transitiveMembers?$select=id`, token);
    expect(new Set(transitive.value.map((m) => m.id))).toEqual(new Set([a, b, c, inner.id, outer.id]));

    const users = await getPage(
      sim,
      `/v1.0/groups/${outer.id}/transitiveMembers/microsoft.graph.user?$select=id`,
      token,
    );
    expect(users['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users(id)`);
    expect(new Set(users.value.map((m) => m.id))).toEqual(new Set([a, b, c]));
    const count = await get(sim, `/v1.0/groups/${outer.id}/transitiveMembers/microsoft.graph.user/$count`, {
      token,
      headers: { ConsistencyLevel: 'eventual' },
    });
    expect(await count.text()).toBe('3');
  });

  it('404s the members of an unknown group', async () => {
    const response = await get(sim, '/v1.0/groups/00000000-0000-4000-8000-000000000000/members', { token });
    expect(response.status).toBe(404);
  });
});

describe('request counts', () => {
  it('counts requests by endpoint with ids normalised, and resets', async () => {
    sim.requests.reset();
    const groupId = sim.tenant().liveGroupIds()[2] ?? '';
    await get(sim, `/v1.0/groups/${groupId}/members`, { token });
    await get(sim, `/v1.0/groups/${groupId}/members`, { token });
    await get(sim, '/v1.0/users?$top=1', { token });
    expect(sim.requests.snapshot()).toEqual({
      total: 3,
      byEndpoint: { 'GET /v1.0/groups/{id}/members': 2, 'GET /v1.0/users': 1 },
      batched: { total: 0, byEndpoint: {} },
    });
    expect(sim.requests.count('GET /v1.0/groups/{id}/members')).toBe(2);
    sim.requests.reset();
    expect(sim.requests.total).toBe(0);
  });
});
