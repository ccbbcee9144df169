import { readFile } from 'node:fs/promises';
import { validateConnectionConfig } from '../../shared/config/connection.js';
import { createGraphClient, createGraphCredential, GraphReader } from '../../shared/graph/index.js';
import { GroupDirectory } from '../../shared/sync/group-directory.js';
import { userSelect } from '../../shared/sync/graph-source.js';
import type { BenchEnvironment } from '../support/environment.js';
import { benchConnection } from '../support/service.js';
import type { Measured } from './measured.js';

/**
 * Scenario 1, Graph read only: everything a full import of every group would need, and no storage.
 * Delta baselines first ($deltatoken=latest: no delta paging), then every group, then every user with
 * the import's own tight $select and $top=999 (each next page asked for as soon as a page arrives),
 * while the member lists of all groups go out 20 to a JSON batch. Memberships are kept as the engine keeps them (GroupDirectory); users are counted.
 */
export async function readScenario(env: BenchEnvironment, groupIds: readonly string[]): Promise<Measured> {
  const ca = await readFile(env.caPath, 'utf8');
  const validation = validateConnectionConfig(benchConnection(env, groupIds, 1));
  if (!validation.ok) throw new Error('The benchmark connection is not valid');
  const select = userSelect(validation.config);
  const credential = createGraphCredential(
    env.tenantId,
    env.clientId,
    { clientSecret: env.clientSecret },
    { cloud: { authorityHost: env.authorityHost, graphBaseUrl: env.graphBaseUrl }, ca },
  );
  const client = createGraphClient(credential, { ca });
  try {
    // The token first, as a run's first request would get it: what is timed is reading.
    await credential.getToken(client.cloud.scope);
    const reader = new GraphReader(client);
    const started = performance.now();

    await Promise.all([
      reader.latestDeltaLink('users', { select }),
      reader.latestDeltaLink('groups', { select: ['displayName'], includeMembers: true }),
    ]);
    const directory = new GroupDirectory();
    for await (const page of reader.listGroups({ select: ['displayName'] })) {
      for (const group of page.items) directory.upsertGroup(group.id.toLowerCase(), group.displayName);
    }

    let users = 0;
    let memberships = 0;
    const readUsers = async (): Promise<void> => {
      for await (const page of reader.listUsers({ select, readAhead: true })) users += page.items.length;
    };
    const readMembers = async (): Promise<void> => {
      for await (const page of reader.membersOfGroups([...directory.groups.keys()], { select: ['id'] })) {
        for (const member of page.items) {
          if (member.type !== 'user' && member.type !== 'group') continue;
          directory.addMember(page.groupId, member.id.toLowerCase(), member.type);
          memberships += 1;
        }
      }
    };
    await Promise.all([readUsers(), readMembers()]);
    const seconds = (performance.now() - started) / 1000;

    return {
      seconds,
      usersProcessed: users,
      storageTransactions: null,
      details: {
        groups: directory.groups.size,
        memberships,
        readerRequests: reader.requests,
      },
    };
  } finally {
    await client.close();
  }
}
