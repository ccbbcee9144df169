import { PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './index.js';
import { deltaRound, get, getPage, graphClient, jsonOf } from './test-clients.js';

/** users/delta: rounds, changes, removals, minimal responses, tokens and query restrictions. */

let sim: Simulator;
let token: string;

beforeAll(async () => {
  // Quirks off: these tests assert exact rounds; the replay test switches them on.
  sim = await startSimulator({ tenants: [{ users: 1200, groups: 5 }], quirks: false });
  token = await sim.issueAccessToken();
});

afterAll(async () => {
  await sim.close();
});

const SELECT = '$select=displayName,jobTitle,mobilePhone,accountEnabled';

function byId(items: Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  return new Map(items.map((item) => [String(item.id), item]));
}

describe('users/delta rounds', () => {
  it('returns every live user in the initial round, paged at the delta page size, with the selected properties', async () => {
    const tenant = sim.tenant();
    const round = await deltaRound(sim, `/v1.0/users/delta?${SELECT}&$top=999`, token);
    // $top is ignored on delta: Graph picks its own page size (the simulator's default is 200).
    expect(round.pages.map((p) => p.value.length)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(round.items).toHaveLength(tenant.liveUserCount);
    expect(new Set(round.items.map((u) => u.id))).toEqual(new Set(tenant.liveUserIds()));
    expect(round.pages[0]?.['@odata.context']).toBe(
      `${sim.graphBaseUrl}/v1.0/$metadata#users(displayName,jobTitle,mobilePhone,accountEnabled)`,
    );
    expect(round.pages[1]?.['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users`);
    for (const user of round.items) {
      for (const key of Object.keys(user))
        expect(['id', 'displayName', 'jobTitle', 'mobilePhone', 'accountEnabled']).toContain(key);
    }
    // Never-set properties are left out in delta, not sent as null.
    expect(round.items.some((u) => !('mobilePhone' in u))).toBe(true);
    expect(round.items.every((u) => u.mobilePhone !== null)).toBe(true);
    const nextLink = new URL(round.pages[0]?.['@odata.nextLink'] ?? '');
    expect(`${nextLink.origin}${nextLink.pathname}`).toBe(`${sim.graphBaseUrl}/v1.0/users/delta`);
    expect([...nextLink.searchParams.keys()]).toEqual(['$skiptoken']);
    const deltaLink = new URL(round.deltaLink);
    expect([...deltaLink.searchParams.keys()]).toEqual(['$deltatoken']);
  });

  it('answers an empty value and a new deltaLink when nothing changed', async () => {
    const initial = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    const next = await deltaRound(sim, initial.deltaLink, token);
    expect(next.pages).toHaveLength(1);
    expect(next.items).toEqual([]);
    expect(next.deltaLink).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);
  });

  it('reports updates, creation, soft delete, restore and hard delete with the current state', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    const [updated, softDeleted, restored, hardDeleted, untracked] = tenant.liveUserIds(10, 5);
    if (!untracked || !updated || !softDeleted || !restored || !hardDeleted) throw new Error('fixture');
    tenant.updateUser(updated, { jobTitle: 'Chief Delta Officer' });
    tenant.updateUser(updated, { mobilePhone: null });
    tenant.softDeleteUser(softDeleted);
    tenant.softDeleteUser(restored);
    tenant.restoreUser(restored);
    tenant.hardDeleteUser(hardDeleted);
    tenant.updateUser(untracked, { department: 'Not selected, so not tracked' });
    const created = tenant.createUser({ displayName: 'New Starter', jobTitle: 'Apprentice' });

    const round = await deltaRound(sim, initial.deltaLink, token);
    const items = byId(round.items);
    expect([...items.keys()].sort()).toEqual(
      [updated, softDeleted, restored, hardDeleted, created.id].sort(),
    );
    // Default mode: all selected properties, the changed one to null included.
    expect(items.get(updated)).toEqual({
      id: updated,
      displayName: tenant.getUser(updated)?.displayName,
      jobTitle: 'Chief Delta Officer',
      mobilePhone: null,
      accountEnabled: tenant.getUser(updated)?.accountEnabled,
    });
    expect(items.get(softDeleted)).toEqual({ id: softDeleted, '@removed': { reason: 'changed' } });
    expect(items.get(hardDeleted)).toEqual({ id: hardDeleted, '@removed': { reason: 'deleted' } });
    expect(items.get(restored)).toMatchObject({
      id: restored,
      displayName: tenant.getUser(restored)?.displayName,
    });
    expect(items.get(created.id)).toMatchObject({ displayName: 'New Starter', jobTitle: 'Apprentice' });

    const quiet = await deltaRound(sim, round.deltaLink, token);
    expect(quiet.items).toEqual([]);
  });

  it('returns only the changed properties and the id with Prefer: return=minimal', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    const [a, b] = tenant.liveUserIds(40, 40).filter((id) => tenant.getUser(id)?.mobilePhone);
    if (!a || !b) throw new Error('fixture');
    tenant.updateUser(a, { jobTitle: 'Renamed Role', accountEnabled: false });
    tenant.updateUser(b, { mobilePhone: null });
    const response = await get(sim, initial.deltaLink, { token, headers: { Prefer: 'return=minimal' } });
    expect(response.headers.get('preference-applied')).toBe('return=minimal');
    const items = byId(((await jsonOf(response)).value ?? []) as Record<string, unknown>[]);
    expect(items.get(a)).toEqual({ id: a, jobTitle: 'Renamed Role', accountEnabled: false });
    expect(items.get(b)).toEqual({ id: b, mobilePhone: null });
  });

  it('scopes a round to ids with $filter=id eq ... or id eq ...', async () => {
    const tenant = sim.tenant();
    const [a, b, c] = tenant.liveUserIds(100, 3);
    if (!a || !b || !c) throw new Error('fixture');
    const filter = encodeURIComponent(`id eq '${a}' or id eq '${b}'`);
    const initial = await deltaRound(sim, `/v1.0/users/delta?$select=displayName&$filter=${filter}`, token);
    expect(initial.items.map((u) => u.id).sort()).toEqual([a, b].sort());
    tenant.updateUser(b, { displayName: 'Filtered Change' });
    tenant.updateUser(c, { displayName: 'Outside The Filter' });
    const next = await deltaRound(sim, initial.deltaLink, token);
    expect(next.items).toEqual([{ displayName: 'Filtered Change', id: b }]);
  });

  it('answers $deltatoken=latest with no objects and a deltaLink at the current state', async () => {
    const tenant = sim.tenant();
    const before = tenant.liveUserIds(200, 1)[0] ?? '';
    tenant.updateUser(before, { jobTitle: 'Before latest' });
    const latest = await getPage(sim, `/v1.0/users/delta?$deltatoken=latest&${SELECT}`, token);
    expect(latest.value).toEqual([]);
    expect(latest['@odata.nextLink']).toBeUndefined();
    const after = tenant.liveUserIds(201, 1)[0] ?? '';
    tenant.updateUser(after, { jobTitle: 'After latest' });
    const round = await deltaRound(sim, latest['@odata.deltaLink'] ?? '', token);
    expect(round.items.map((u) => u.id)).toEqual([after]);
  });

  it('pages a round with the Graph client PageIterator to its deltaLink', async () => {
    const client = graphClient(sim);
    const first = (await client.api('/users/delta').select(['displayName']).get()) as PageCollection;
    let count = 0;
    const iterator = new PageIterator(client, first, () => {
      count++;
      return true;
    });
    await iterator.iterate();
    expect(count).toBe(sim.tenant().liveUserCount);
    expect(iterator.getDeltaLink()).toMatch(/\$deltatoken=/);
  });
});

describe('users/delta tokens', () => {
  it('answers 400 syncStateNotFound for every token issued before the tokens were expired', async () => {
    const tenant = sim.tenant();
    const firstPage = await getPage(sim, `/v1.0/users/delta?${SELECT}`, token);
    const initial = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    tenant.expireDeltaTokens();
    for (const url of [initial.deltaLink, firstPage['@odata.nextLink'] ?? '']) {
      const response = await get(sim, url, { token });
      expect(response.status).toBe(400);
      expect(await jsonOf(response)).toMatchObject({ error: { code: 'syncStateNotFound' } });
    }
    // A fresh round works again.
    const fresh = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    expect(fresh.items).toHaveLength(tenant.liveUserCount);
  });

  it('answers 410 Gone with a Location holding an empty $deltatoken after a reset', async () => {
    const tenant = sim.tenant();
    const initial = await deltaRound(sim, `/v1.0/users/delta?${SELECT}`, token);
    tenant.resetDeltaState();
    const response = await get(sim, initial.deltaLink, { token });
    expect(response.status).toBe(410);
    const location = response.headers.get('location') ?? '';
    expect(location).toBe(`${sim.graphBaseUrl}/v1.0/users/delta?$deltatoken=`);
    const restart = await deltaRound(sim, location, token);
    expect(restart.items).toHaveLength(tenant.liveUserCount);
  });

  it('refuses a token it did not issue', async () => {
    const response = await get(sim, '/v1.0/users/delta?$deltatoken=bm90LWEtdG9rZW4', { token });
    expect(response.status).toBe(400);
  });
});

describe('users/delta query restrictions (delta-query-overview.md)', () => {
  it.each([
    ['$orderby=displayName', 400],
    ['$search="displayName:a"', 400],
    ["$filter=startswith(displayName,'a')", 400],
    ["$filter=displayName eq 'x'", 400],
    ['$expand=memberOf', 400],
    ['$count=true', 400],
    ['$expand=manager', 200],
    ['$top=5', 200],
  ])('%s answers %i', async (query, status) => {
    const response = await get(sim, `/v1.0/users/delta?${query}`, { token });
    expect(response.status).toBe(status);
    if (status === 400)
      expect(await jsonOf(response)).toMatchObject({ error: { code: 'Request_UnsupportedQuery' } });
  });
});

describe('users/delta quirks', () => {
  it('shuffles, shortens pages and replays objects within a round, yet covers every user', async () => {
    Object.assign(sim.quirks, { replays: true, shuffle: true, unevenPages: true });
    try {
      const tenant = sim.tenant();
      const round = await deltaRound(sim, '/v1.0/users/delta?$select=displayName', token);
      const ids = round.items.map((u) => String(u.id));
      expect(new Set(ids)).toEqual(new Set(tenant.liveUserIds()));
      expect(ids.length).toBeGreaterThan(new Set(ids).size); // replays
      expect(ids.slice(0, 50)).not.toEqual(tenant.liveUserIds(0, 50)); // not in id order
      expect(round.pages.slice(0, -1).some((p) => p.value.length < 200)).toBe(true); // uneven
    } finally {
      Object.assign(sim.quirks, { replays: false, shuffle: false, unevenPages: false });
    }
  });
});
