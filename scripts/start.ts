/**
 * `npm start`: the whole story on embedded defaults. Azurite and a simulated Entra tenant start on
 * loopback; a connection with group mappings, licences and a division is applied; preview and import;
 * the tenant changes (attribute updates, a soft delete and a restore, a hard delete, membership changes,
 * a new user whose e-mail another division already uses); sync; then more deletions than the threshold
 * allows, which the next sync holds until they are approved. Every step is a real `entra-sync` command.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../cli/entra-sync.js';
import { createStorageClients } from '../shared/storage/clients.js';
import { nativePartition } from '../shared/storage/users.js';
import { SyncService } from '../shared/sync/service.js';
import { EnvironmentSecretStore } from '../shared/secrets/secret-store.js';
import { startAzurite } from '../test/harness/azurite.js';
import { startSimulator } from '../test/simulator/index.js';

const USERS = Number(process.env.START_USERS ?? 5_000);
const GROUPS = Number(process.env.START_GROUPS ?? 50);

function heading(text: string): void {
  process.stdout.write(`\n\u001b[1m== ${text}\u001b[0m\n`);
}

async function main(): Promise<void> {
  heading(`Starting Azurite and a simulated Entra tenant (${USERS} users, ${GROUPS} groups)`);
  const azurite = await startAzurite();
  const sim = await startSimulator({
    tenants: [{ users: USERS, groups: GROUPS, seed: 2026, domain: 'contoso.example' }],
  });
  const workdir = await mkdtemp(join(tmpdir(), 'entra-sync-start-'));
  try {
    const tenant = sim.tenants[0];
    const app = sim.apps[0];
    if (!tenant || !app) throw new Error('the simulator started without a tenant or an app');
    process.stdout.write(
      `Azurite: ${azurite.tableEndpoint}\nEntra (simulated): ${sim.authorityHost}, tenant ${tenant.tenantId}\n`,
    );

    const env = { AzureWebJobsStorage: azurite.connectionString, CONTOSO_CLIENT_SECRET: app.clientSecret };
    const io: CliIo = {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      interactive: process.stderr.isTTY,
      env,
      cwd: workdir,
      trustedCa: sim.ca,
    };
    const cli = async (args: string[], expected: readonly number[] = [0]): Promise<void> => {
      process.stdout.write(`\n$ entra-sync ${args.join(' ')}\n`);
      const code = await runCli(args, io);
      if (!expected.includes(code)) throw new Error(`entra-sync ${args.join(' ')} exited with ${code}`);
    };

    // Three mid-sized groups become app groups; Sales members get the scarce "pro" licence.
    const [sales, engineering, support] = tenant
      .liveGroupIds()
      .filter((id) => {
        const size = tenant.membersOf(id).length;
        return size >= USERS * 0.03 && size <= USERS * 0.15;
      })
      .sort((a, b) => tenant.membersOf(b).length - tenant.membersOf(a).length);
    if (!sales || !engineering || !support) throw new Error('the tenant has too few groups');
    const connection = {
      id: 'contoso',
      displayName: 'Contoso (simulated)',
      tenantId: tenant.tenantId,
      clientId: app.clientId,
      clientSecret: { env: 'CONTOSO_CLIENT_SECRET' },
      cloud: { authorityHost: sim.authorityHost, graphBaseUrl: sim.graphBaseUrl },
      division: 'North',
      groupMappings: [
        { group: { id: sales }, appGroup: 'Sales', license: 'pro', roles: ['seller'] },
        { group: { id: engineering }, appGroup: 'Engineering', roles: ['developer'] },
        { group: { id: support }, appGroup: 'Support', roles: ['agent'] },
      ],
      licenses: { seats: { pro: 250, standard: 10_000 }, default: 'standard' },
    };
    const connectionFile = join(workdir, 'contoso.json');
    await writeFile(connectionFile, JSON.stringify(connection, null, 2));

    heading('Apply the connection, preview, import');
    await cli(['connections', 'apply', '--file', connectionFile]);
    await cli(['preview', '--connection', 'contoso']);
    await cli(['import', '--connection', 'contoso']);

    heading('The tenant changes');
    const service = new SyncService({
      storage: createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString }),
      tablePrefix: 'EntraSync',
      secrets: new EnvironmentSecretStore(env),
      graph: { retryBudgetSeconds: 60, trustedCa: sim.ca },
    });
    const members = tenant.liveUserIds().filter((id) => tenant.getUser(id)?.userType === 'Member');
    const [renamed, softDeleted, hardDeleted, joiner, leaver] = members;
    if (!renamed || !softDeleted || !hardDeleted || !joiner || !leaver) throw new Error('too few members');
    tenant.updateUser(renamed, { surname: 'Renamed', accountEnabled: true });
    tenant.softDeleteUser(softDeleted);
    tenant.softDeleteUser(members[5] ?? softDeleted);
    tenant.restoreUser(members[5] ?? softDeleted);
    tenant.hardDeleteUser(hardDeleted);
    if (!tenant.membersOf(sales).includes(joiner)) tenant.addMember(sales, joiner);
    if (tenant.membersOf(engineering).includes(leaver)) tenant.removeMember(engineering, leaver);
    // Division South already has an app user with this address: the new Entra user is a conflict.
    const takenAddress = 'dana.taken@fabrikam.example';
    await service.stores.users.putMany([
      {
        partitionKey: nativePartition('South'),
        rowKey: 'south-0001',
        appUserId: 'south-0001',
        connectionId: '',
        sourceId: '',
        status: 'active',
        suspendedBy: '',
        division: 'South',
        license: '',
        appGroups: [],
        roles: [],
        attributes: { userName: takenAddress, mail: takenAddress },
        mailKey: takenAddress,
        source: {},
        entraGroups: [],
        sourceHash: '',
        mappedHash: '',
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        deletedAt: '',
        lastRunId: '',
      },
    ]);
    await service.stores.claims.claimMany([
      {
        mailKey: takenAddress,
        appUserId: 'south-0001',
        connectionId: '',
        sourceId: '',
        division: 'South',
        userPartitionKey: nativePartition('South'),
        userRowKey: 'south-0001',
        claimedAt: new Date().toISOString(),
      },
    ]);
    tenant.createUser({
      givenName: 'Dana',
      surname: 'Taken',
      mail: takenAddress,
      accountEnabled: true,
      userType: 'Member',
    });
    tenant.createUser({ givenName: 'Nico', surname: 'Newhire', accountEnabled: true, userType: 'Member' });
    process.stdout.write(
      'renamed 1, soft-deleted 1, soft-deleted and restored 1, hard-deleted 1, joined Sales 1, left Engineering 1,\n' +
        `created 2 (one with ${takenAddress}, which division South already uses)\n`,
    );

    heading('Sync: only what changed');
    await cli(['sync', '--connection', 'contoso']);

    heading('A mass deletion: more than the threshold allows');
    const massDeleted = members.slice(10, 10 + Math.ceil(members.length * 0.25));
    for (const id of massDeleted) tenant.softDeleteUser(id);
    process.stdout.write(`soft-deleted ${massDeleted.length} users in Entra\n`);
    await cli(['sync', '--connection', 'contoso'], [3]);
    const [held] = await service.runs('contoso', 1);
    if (held?.status !== 'deletions_held') throw new Error('the mass deletion was not held');
    await cli(['approve', '--run', held.runId]);

    heading('Done');
    let active = 0;
    let suspended = 0;
    let deleted = 0;
    for await (const user of service.users('contoso')) {
      if (user.status === 'active') active += 1;
      else if (user.status === 'suspended') suspended += 1;
      else deleted += 1;
    }
    process.stdout.write(
      `App users of contoso: ${active} active, ${suspended} suspended, ${deleted} deleted.\n`,
    );
    process.stdout.write(
      'Everything ran against Azurite and a simulated tenant; with real tenant settings the same commands run against Microsoft Entra ID.\n',
    );
  } finally {
    await sim.close();
    await azurite.stop();
    await rm(workdir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
