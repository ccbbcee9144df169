import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsentMissingError,
  createGraphClient,
  createGraphCredential,
  CredentialsInvalidError,
  DeltaStateLostError,
  GraphNotFoundError,
  GraphReader,
  ThrottledError,
  type DeltaPage,
  type GraphClient,
  type GraphReaderOptions,
  type GroupDeltaItem,
  type UserDeltaItem,
} from '../../shared/graph/index.js';
import {
  createClientCertificate,
  DEFAULT_APP_ROLES,
  startSimulator,
  type Simulator,
} from '../simulator/index.js';
import { expectInstance } from './helpers/expect.js';

/**
 * The reader, with the REAL @azure/identity credential and Graph SDK client, against the simulated
 * tenant (test/simulator) over HTTPS.
 */

const USERS = 1500;
const SELECT = [
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
  'jobTitle',
  'accountEnabled',
];

let sim: Simulator;
const clients: GraphClient[] = [];

beforeAll(async () => {
  // Quirks (replays, shuffled order, uneven pages) off by default so that counts are exact; the replay
  // test turns replays on.
  sim = await startSimulator({
    tenants: [{ users: USERS, groups: 6, maxGroupSize: 300 }],
    deltaPageSize: 200,
    memberBudget: 250,
    quirks: { replays: false, shuffle: true, unevenPages: true },
  });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await sim.close();
});

function tenant() {
  return sim.tenant();
}

function someUser(): string {
  const [id] = tenant().liveUserIds(100, 1);
  if (id === undefined) throw new Error('no live user');
  return id;
}

function connect(
  options: { secret?: string; clientId?: string; certificatePem?: string } = {},
  readerOptions: GraphReaderOptions = {},
): GraphReader {
  const app = sim.app(options.clientId);
  const credential = createGraphCredential(
    tenant().tenantId,
    app.clientId,
    options.certificatePem
      ? { certificatePem: options.certificatePem }
      : { clientSecret: options.secret ?? app.clientSecret },
    {
      cloud: { authorityHost: sim.authorityHost, graphBaseUrl: sim.graphBaseUrl },
      ca: sim.ca,
      credentialReference: 'kv:simulated-graph-credential',
    },
  );
  const client = createGraphClient(credential, { ca: sim.ca });
  clients.push(client);
  return new GraphReader(client, readerOptions);
}

interface Round<T> {
  items: T[];
  pages: DeltaPage<T>[];
  deltaLink: string;
}

async function round<T>(iterator: AsyncIterable<DeltaPage<T>>): Promise<Round<T>> {
  const pages: DeltaPage<T>[] = [];
  for await (const page of iterator) pages.push(page);
  const last = pages.at(-1);
  // The deltaLink is on the last page only.
  expect(pages.slice(0, -1).every((p) => p.deltaLink === undefined)).toBe(true);
  if (last?.deltaLink === undefined) throw new Error('The round ended without a deltaLink');
  for (const page of pages) expect(page.rejected).toEqual([]);
  return { items: pages.flatMap((p) => p.items), pages, deltaLink: last.deltaLink };
}

function upserts(items: UserDeltaItem[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const item of items) if (item.kind === 'upsert') out.set(item.id, item.user);
  return out;
}

function removals(items: UserDeltaItem[]): Map<string, string> {
  return new Map(items.flatMap((i) => (i.kind === 'removed' ? [[i.id, i.reason] as const] : [])));
}

describe('paging', () => {
  it('lists every user exactly once, $top=999, and counts the requests as the simulator saw them', async () => {
    const reader = connect();
    const before = sim.requests.count('GET /v1.0/users');
    const ids: string[] = [];
    let pages = 0;
    for await (const page of reader.listUsers({ select: SELECT })) {
      pages += 1;
      expect(page.rejected).toEqual([]);
      ids.push(...page.items.map((u) => u.id));
    }
    expect(ids).toHaveLength(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(tenant().liveUserIds()));
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(reader.requests.byKind).toEqual({ 'GET /users': pages });
    expect(sim.requests.count('GET /v1.0/users') - before).toBe(pages);
  });

  it('reads a user by id and by userPrincipalName, a group, the organization; 404 is typed', async () => {
    const reader = connect();
    const [id] = tenant().liveUserIds(0, 1);
    if (id === undefined) throw new Error('no user');
    const expected = tenant().getUser(id);
    expect(await reader.getUser(id, { select: ['displayName'] })).toEqual({
      id,
      displayName: expected?.displayName,
    });
    expect((await reader.getUser(expected?.userPrincipalName ?? '')).id).toBe(id);
    const [groupId] = tenant().liveGroupIds();
    expect((await reader.getGroup(groupId ?? '')).id).toBe(groupId);
    const missing = await reader.getUser('00000000-0000-4000-8000-00000000dead').catch((e: unknown) => e);
    expectInstance(missing, GraphNotFoundError);
  });

  it('reads the organization with Organization.Read.All, and names that permission when it is missing', async () => {
    const denied = await connect()
      .getOrganization()
      .catch((e: unknown) => e);
    expect(expectInstance(denied, ConsentMissingError).nextStep).toContain('Organization.Read.All');
    const app = sim.addApp({ roles: [...DEFAULT_APP_ROLES, 'Organization.Read.All'] });
    const organization = await connect({ clientId: app.clientId }).getOrganization();
    expect(organization).toMatchObject({ id: tenant().tenantId, displayName: tenant().displayName });
  });

  it('lists direct and transitive members', async () => {
    const reader = connect();
    const groupId = tenant().liveGroupIds()[0] ?? '';
    const direct: string[] = [];
    for await (const page of reader.listGroupMembers(groupId, { select: ['id'] }))
      direct.push(...page.items.map((m) => m.id));
    expect(new Set(direct)).toEqual(new Set(tenant().membersOf(groupId)));
    const transitive: string[] = [];
    for await (const page of reader.listGroupMembers(groupId, { transitive: true })) {
      transitive.push(...page.items.map((m) => m.id));
    }
    expect(new Set(transitive)).toEqual(new Set(tenant().transitiveMembersOf(groupId)));
  });
});

describe('users delta', () => {
  let deltaLink = '';

  it('initial round: every live user once, the deltaLink on the last page', async () => {
    const result = await round(connect().usersDelta({ select: SELECT }));
    const users = upserts(result.items);
    expect(result.pages.length).toBeGreaterThan(USERS / 200);
    expect(users.size).toBe(result.items.filter((i) => i.kind === 'upsert').length);
    expect(new Set(users.keys())).toEqual(new Set(tenant().liveUserIds()));
    deltaLink = result.deltaLink;
  });

  it('no change: an empty round and a new deltaLink', async () => {
    const result = await round(connect().usersDelta({ deltaLink }));
    expect(result.items).toEqual([]);
    deltaLink = result.deltaLink;
  });

  it('changes: update, create, soft delete, hard delete', async () => {
    const [a, b, c] = tenant().liveUserIds(10, 3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('no users');
    tenant().updateUser(a, { jobTitle: 'Chief Tester' });
    const created = tenant().createUser({ displayName: 'New Starter' });
    tenant().softDeleteUser(b);
    tenant().hardDeleteUser(c);
    const result = await round(connect().usersDelta({ deltaLink }));
    const users = upserts(result.items);
    expect(users.get(a)).toMatchObject({ id: a, jobTitle: 'Chief Tester' });
    expect(users.get(created.id)).toMatchObject({ id: created.id, displayName: 'New Starter' });
    expect(removals(result.items)).toEqual(
      new Map([
        [b, 'changed'],
        [c, 'deleted'],
      ]),
    );
    deltaLink = result.deltaLink;
  });

  it('restore: a soft-deleted user comes back as an upsert', async () => {
    const [soft] = tenant().softDeletedUserIds();
    if (soft === undefined) throw new Error('no soft-deleted user');
    tenant().restoreUser(soft);
    const result = await round(connect().usersDelta({ deltaLink }));
    expect([...upserts(result.items).keys()]).toEqual([soft]);
    deltaLink = result.deltaLink;
  });

  it('Prefer: return=minimal: only the changed properties, null meaning cleared', async () => {
    const [a, b] = tenant().liveUserIds(20, 2);
    if (a === undefined || b === undefined) throw new Error('no users');
    tenant().updateUser(a, { jobTitle: null });
    tenant().updateUser(b, { displayName: 'Renamed Person', jobTitle: 'Analyst' });
    const result = await round(connect().usersDelta({ deltaLink, preferMinimal: true }));
    const users = upserts(result.items);
    expect(users.get(a)).toEqual({ id: a, jobTitle: null });
    expect(users.get(b)).toEqual({ id: b, displayName: 'Renamed Person', jobTitle: 'Analyst' });
    deltaLink = result.deltaLink;
  });

  it('replays: the same user may come twice in a round; the set is still every live user', async () => {
    sim.quirks.replays = true;
    try {
      const result = await round(connect().usersDelta({ select: ['displayName'] }));
      const ids = result.items.filter((i) => i.kind === 'upsert').map((i) => i.id);
      expect(new Set(ids)).toEqual(new Set(tenant().liveUserIds()));
      expect(ids.length).toBeGreaterThan(new Set(ids).size);
    } finally {
      sim.quirks.replays = false;
    }
  });

  it('$deltatoken=latest: no objects, then only what changed after it', async () => {
    const reader = connect();
    const latest = await reader.latestDeltaLink('users', { select: SELECT });
    const [a] = tenant().liveUserIds(30, 1);
    tenant().updateUser(a ?? '', { jobTitle: 'After Latest' });
    const result = await round(reader.usersDelta({ deltaLink: latest }));
    expect([...upserts(result.items).keys()]).toEqual([a]);
  });

  it('expired delta state -> DeltaStateLostError (expired)', async () => {
    const { deltaLink: link } = await round(connect().usersDelta({ select: ['displayName'] }));
    tenant().expireDeltaTokens();
    const error = await round(connect().usersDelta({ deltaLink: link })).catch((e: unknown) => e);
    expect(expectInstance(error, DeltaStateLostError)).toMatchObject({
      kind: 'expired',
      graphCode: 'syncStateNotFound',
    });
  });

  it('reset -> DeltaStateLostError (reset) with the Location, from which a full round works', async () => {
    const { deltaLink: link } = await round(connect().usersDelta({ select: ['displayName'] }));
    tenant().resetDeltaState();
    const error = await round(connect().usersDelta({ deltaLink: link })).catch((e: unknown) => e);
    const lost = expectInstance(error, DeltaStateLostError);
    expect(lost).toMatchObject({ kind: 'reset', status: 410 });
    expect(lost.location).toBe(`${sim.graphBaseUrl}/v1.0/users/delta?$deltatoken=`);
    const again = await round(connect().usersDelta({ deltaLink: lost.location }));
    expect(new Set(upserts(again.items).keys())).toEqual(new Set(tenant().liveUserIds()));
  });
});

describe('groups delta', () => {
  let deltaLink = '';
  let bigGroup = '';

  function memberSlices(items: GroupDeltaItem[], groupId: string): GroupDeltaItem[] {
    return items.filter((i) => i.id === groupId);
  }

  it('initial round: every group with all its members; a large group over several pages', async () => {
    const members = tenant().liveUserIds(0, 700);
    bigGroup = tenant().createGroup({ displayName: 'Big Group', members }).id;
    const result = await round(connect().groupsDelta({ select: ['displayName', 'mailNickname'] }));
    const groups = new Set(result.items.map((i) => i.id));
    expect(groups).toEqual(new Set(tenant().liveGroupIds()));
    for (const groupId of groups) {
      const added = memberSlices(result.items, groupId).flatMap((i) =>
        i.kind === 'upsert' ? (i.members ?? []).filter((m) => m.change === 'added').map((m) => m.id) : [],
      );
      expect(new Set(added)).toEqual(new Set(tenant().membersOf(groupId)));
    }
    // The big group's members came as slices on several pages, under the same id.
    const pagesWithBig = result.pages.filter((p) => p.items.some((i) => i.id === bigGroup));
    expect(pagesWithBig.length).toBeGreaterThanOrEqual(3);
    deltaLink = result.deltaLink;
  });

  it('member add and remove', async () => {
    const groupId =
      tenant()
        .liveGroupIds()
        .find((g) => g !== bigGroup) ?? '';
    const current = new Set(tenant().membersOf(groupId));
    const outsider = tenant()
      .liveUserIds(0, 200)
      .find((u) => !current.has(u));
    const leaver = [...current][0];
    if (outsider === undefined || leaver === undefined) throw new Error('test data');
    tenant().addMember(groupId, outsider);
    tenant().removeMember(groupId, leaver);
    const result = await round(connect().groupsDelta({ deltaLink }));
    const changes = memberSlices(result.items, groupId).flatMap((i) =>
      i.kind === 'upsert' ? (i.members ?? []) : [],
    );
    expect(changes.map((m) => [m.id, m.type, m.change]).sort()).toEqual(
      [
        [outsider, 'user', 'added'],
        [leaver, 'user', 'removed'],
      ].sort(),
    );
    deltaLink = result.deltaLink;
  });

  it('a deleted group comes as a removal', async () => {
    const doomed = tenant().createGroup({
      displayName: 'Short-lived',
      members: tenant().liveUserIds(0, 3),
    }).id;
    const created = await round(connect().groupsDelta({ deltaLink }));
    expect(created.items.some((i) => i.id === doomed && i.kind === 'upsert')).toBe(true);
    tenant().deleteGroup(doomed);
    const result = await round(connect().groupsDelta({ deltaLink: created.deltaLink }));
    expect(result.items.filter((i) => i.id === doomed)).toEqual([
      { kind: 'removed', id: doomed, reason: 'deleted' },
    ]);
    deltaLink = result.deltaLink;
  });
});

describe('throttling', () => {
  it('honours Retry-After (fractional) on 429 and 503 within the budget', async () => {
    const reader = connect();
    sim.faults.add({ status: 429, count: 1, retryAfter: 0.05, path: '/v1.0/users/*' });
    sim.faults.add({ status: 503, count: 1, retryAfter: 0.025, path: '/v1.0/users/*' });
    const started = Date.now();
    expect((await reader.getUser(someUser())).id).toBe(someUser());
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(reader.requests).toMatchObject({ total: 3, retries: 2, throttledResponses: 2, waitedMs: 75 });
  });

  it('past the budget: ThrottledError with when to retry', async () => {
    const reader = connect({}, { retry: { maxTotalWaitMs: 1000 } });
    sim.faults.add({ status: 429, count: 1, retryAfter: 2.128, path: '/v1.0/users/*' });
    const error = await reader.getUser(someUser()).catch((e: unknown) => e);
    const throttled = expectInstance(error, ThrottledError);
    expect(throttled).toMatchObject({ retryAfterSeconds: 2.128, stopReason: 'budget_spent', status: 429 });
    expect(reader.requests.total).toBe(1);
  });

  it('past the retries of one request: ThrottledError (504 without Retry-After)', async () => {
    const reader = connect({}, { retry: { maxRetriesPerRequest: 1, initialBackoffMs: 5 } });
    sim.faults.add({ status: 504, count: 2, retryAfter: null, path: '/v1.0/users/*' });
    const error = await reader.getUser(someUser()).catch((e: unknown) => e);
    expect(expectInstance(error, ThrottledError)).toMatchObject({
      status: 504,
      stopReason: 'max_retries',
      retryAfterFromServer: false,
    });
    expect(reader.requests).toMatchObject({ total: 2, retries: 1 });
  });
});

describe('credentials and consent', () => {
  it('a wrong secret -> CredentialsInvalidError naming the reference', async () => {
    const error = await connect({ secret: 'not-the-secret' })
      .getUser(someUser())
      .catch((e: unknown) => e);
    const invalid = expectInstance(error, CredentialsInvalidError);
    expect(invalid).toMatchObject({ problem: 'secret_invalid', aadsts: 7000215 });
    expect(invalid.nextStep).toContain('kv:simulated-graph-credential');
    expect(JSON.stringify([invalid.message, invalid.nextStep])).not.toContain('not-the-secret');
  });

  it('missing consent -> ConsentMissingError', async () => {
    const app = sim.addApp({ consentedIn: 'none', displayName: 'Not consented' });
    const error = await connect({ clientId: app.clientId })
      .getUser(someUser())
      .catch((e: unknown) => e);
    const consent = expectInstance(error, ConsentMissingError);
    expect(consent.nextStep).toContain('admin consent');
    expect(consent.nextStep).toContain(app.clientId);
  });

  it('signs in with a certificate', async () => {
    const certificate = await createClientCertificate();
    const app = sim.addApp({ certificates: [certificate.certificate] });
    const reader = connect({ clientId: app.clientId, certificatePem: certificate.pem });
    expect((await reader.getUser(someUser())).id).toBe(someUser());
  });
});
