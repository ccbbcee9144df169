/**
 * Measures the Graph reader against the simulated tenant running in ANOTHER process, so that only the
 * reader's memory counts here.
 *
 *   npx tsx bench/read-delta.ts --users 100000                    # users through delta (initial round)
 *   npx tsx bench/read-delta.ts --users 100000 --strategy full    # $deltatoken=latest, /users, groups delta
 *
 * Prints one JSON line with users, seconds, Graph requests and this process's peak RSS.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { createGraphClient, createGraphCredential, GraphReader } from '../shared/graph/index.js';
import { startSimulatorProcess } from './support/processes.js';

const USER_SELECT = [
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
  'accountEnabled',
  'userType',
  'department',
  'jobTitle',
  'employeeId',
];

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    groups: { type: 'string', default: '200' },
    strategy: { type: 'string', default: 'delta' },
    'max-rss-mb': { type: 'string', default: '200' },
    // Prints heap spaces to stderr every 50 pages, to see where memory goes.
    'trace-memory': { type: 'boolean', default: false },
  },
});

const users = Number(values.users);
const groups = Number(values.groups);
const strategy = values.strategy;
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(groups) || groups < 0) {
  throw new Error('--users must be a positive integer and --groups a non-negative one');
}
if (strategy !== 'delta' && strategy !== 'full') throw new Error('--strategy is delta or full');

function traceMemory(pages: number): void {
  if (!values['trace-memory'] || pages % 50 !== 0) return;
  const mb = (n: number) => Math.round(n / 2 ** 20);
  const spaces = getHeapSpaceStatistics()
    .filter((space) => space.space_size > 2 ** 20)
    .map((space) => `${space.space_name}=${mb(space.space_used_size)}/${mb(space.space_size)}`);
  const { rss, external } = process.memoryUsage();
  console.error(
    `page ${pages}: rss=${mb(rss)} peak=${Math.round(process.resourceUsage().maxRSS / 1024)} external=${mb(external)} ${spaces.join(' ')}`,
  );
}

const simulator = await startSimulatorProcess(['--users', String(users), '--groups', String(groups)]);
const { start } = simulator;
try {
  const tenant = start.tenants[0];
  const app = start.apps[0];
  if (!tenant || !app) throw new Error('The simulator reported no tenant or app');
  const ca = await readFile(start.caPath, 'utf8');
  const cloud = { authorityHost: start.authorityHost, graphBaseUrl: start.graphBaseUrl };
  const credential = createGraphCredential(
    tenant.tenantId,
    app.clientId,
    { clientSecret: app.clientSecret },
    { cloud, ca },
  );
  const client = createGraphClient(credential, { ca });
  const reader = new GraphReader(client);

  const rssBefore = process.resourceUsage().maxRSS;
  const started = performance.now();
  let usersRead = 0;
  let removed = 0;
  let rejected = 0;
  let pages = 0;
  let groupsRead = 0;
  let memberChanges = 0;
  let deltaLinks = 0;

  if (strategy === 'delta') {
    for await (const page of reader.usersDelta({ select: USER_SELECT })) {
      pages += 1;
      traceMemory(pages);
      for (const item of page.items) {
        if (item.kind === 'upsert') usersRead += 1;
        else removed += 1;
      }
      rejected += page.rejected.length;
      if (page.deltaLink !== undefined) deltaLinks += 1;
    }
  } else {
    // Full-read strategy: take the deltaLink first, then read the list; changes made during the read
    // are replayed by the next delta round.
    await reader.latestDeltaLink('users', { select: USER_SELECT });
    deltaLinks += 1;
    for await (const page of reader.listUsers({ select: USER_SELECT })) {
      pages += 1;
      traceMemory(pages);
      usersRead += page.items.length;
      rejected += page.rejected.length;
    }
    for await (const page of reader.groupsDelta({
      select: ['displayName', 'mailNickname'],
      includeMembers: true,
    })) {
      pages += 1;
      for (const item of page.items) {
        if (item.kind !== 'upsert') continue;
        groupsRead += 1;
        memberChanges += item.members?.length ?? 0;
      }
      rejected += page.rejected.length;
      if (page.deltaLink !== undefined) deltaLinks += 1;
    }
  }

  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await client.close();
  const result = {
    strategy,
    tenantUsers: users,
    users: usersRead,
    removed,
    rejected,
    groupItems: groupsRead,
    memberChanges,
    pages,
    deltaLinks,
    seconds: Math.round(seconds * 100) / 100,
    usersPerSecond: Math.round(usersRead / seconds),
    graphRequests: reader.requests,
    peakRssMb: Math.round(peakRssMb),
    rssBeforeReadMb: Math.round(rssBefore / 1024),
    targetRssMb: Number(values['max-rss-mb']),
    node: process.version,
  };
  console.log(JSON.stringify(result));
  if (peakRssMb > result.targetRssMb) process.exitCode = 1;
} finally {
  await simulator.stop();
}
