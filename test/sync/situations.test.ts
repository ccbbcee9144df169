import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPartition } from '../../shared/storage/email-claims.js';
import { nativePartition, type StoredUser } from '../../shared/storage/users.js';
import type { SyncService } from '../../shared/sync/service.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

/**
 * The reconciliation situations that need app users the sync did not create: native users of the
 * application (FOUND, CONFLICT, AMBIGUOUS), and policy overrides. Native users are written the way
 * docs/data-model.md tells an application to: a Users entity in `~native|<division>` and its claim.
 */
let fixture: SyncFixture;
let service: SyncService;

async function addNativeUser(division: string, appUserId: string, mail: string): Promise<void> {
  const user: StoredUser = {
    partitionKey: nativePartition(division),
    rowKey: appUserId,
    appUserId,
    connectionId: '',
    sourceId: '',
    status: 'active',
    suspendedBy: '',
    division,
    license: '',
    appGroups: ['Legacy'],
    roles: [],
    attributes: { userName: mail, mail, givenName: 'Native', sn: 'User' },
    mailKey: mail,
    source: {},
    entraGroups: [],
    sourceHash: '',
    mappedHash: '',
    createdAt: '2020-01-01T00:00:00.000Z',
    updatedAt: '2020-01-01T00:00:00.000Z',
    deletedAt: '',
    lastRunId: '',
  };
  await service.stores.users.putMany([user]);
  const taken = await service.stores.claims.claimMany([
    {
      mailKey: mail,
      appUserId,
      connectionId: '',
      sourceId: '',
      division,
      userPartitionKey: user.partitionKey,
      userRowKey: user.rowKey,
      claimedAt: user.createdAt,
    },
  ]);
  expect(taken.size).toBe(0);
  expect(claimPartition(mail)).toMatch(/^c\d\d$/);
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 60, groups: 4, seed: 5 });
  service = fixture.service;
  await service.applyConnection(fixture.connection());
  await service.import('contoso');
});

afterAll(async () => {
  await fixture.close();
});

function newEntraUser(local: string): { id: string; mail: string; upn: string } {
  const mail = `${local}@example.org`;
  const upn = `${local}.entra@${fixture.tenant.domain}`;
  const created = fixture.tenant.createUser({
    mail,
    userPrincipalName: upn,
    givenName: local,
    surname: 'Case',
    accountEnabled: true,
    userType: 'Member',
  });
  return { id: created.id.toLowerCase(), mail, upn };
}

describe('situations that involve app users the sync did not create', () => {
  it('FOUND: links to the one native app user of this division with that e-mail, keeping its id', async () => {
    const { id, mail } = newEntraUser('found');
    await addNativeUser('north', 'app-1001', mail);
    const report = await service.sync('contoso');
    expect(report.situations.FOUND).toBe(1);
    expect(report.actions.LINK).toBe(1);
    const linked = await service.stores.users.get('contoso', id);
    expect(linked).toMatchObject({
      appUserId: 'app-1001',
      status: 'active',
      mailKey: mail,
      connectionId: 'contoso',
    });
    expect(await service.stores.users.getByKey(nativePartition('north'), 'app-1001')).toBeUndefined();
    expect((await service.stores.claims.get(mail))?.sourceId).toBe(id);
  });

  it('CONFLICT: an e-mail taken in another division is an exception, and nothing is written', async () => {
    const { id, mail } = newEntraUser('taken');
    await addNativeUser('south', 'app-2002', mail);
    const report = await service.sync('contoso');
    expect(report.situations.CONFLICT).toBe(1);
    expect(report.actions.EXCEPTION).toBe(1);
    expect(report.exceptions[0]?.reason).toMatch(/division "south"/);
    expect(await service.stores.users.get('contoso', id)).toBeUndefined();
    expect((await service.stores.claims.get(mail))?.appUserId).toBe('app-2002');
  });

  it('AMBIGUOUS: e-mail and userName point at two different app users', async () => {
    const { id, mail, upn } = newEntraUser('twice');
    await addNativeUser('north', 'app-3003', mail);
    await addNativeUser('north', 'app-3004', upn.toLowerCase());
    const report = await service.sync('contoso');
    expect(report.situations.AMBIGUOUS).toBe(1);
    expect(report.actions.EXCEPTION).toBe(1);
    expect(await service.stores.users.get('contoso', id)).toBeUndefined();
  });

  it('a policy override applies: ABSENT set to EXCEPTION imports nobody new and says why', async () => {
    await service.applyConnection(fixture.connection({ policy: { actions: { ABSENT: 'EXCEPTION' } } }));
    const { id } = newEntraUser('held');
    const report = await service.sync('contoso');
    expect(report.situations.ABSENT).toBe(1);
    expect(report.actions.EXCEPTION).toBe(1);
    expect(await service.stores.users.get('contoso', id)).toBeUndefined();
    await service.applyConnection(fixture.connection());
  });

  it('UNLINK on a permanent delete keeps the app user as a native user of the division', async () => {
    await service.applyConnection(fixture.connection({ policy: { actions: { SOURCE_DELETED: 'UNLINK' } } }));
    const { id, mail } = newEntraUser('leaver');
    await service.sync('contoso');
    const before = await service.stores.users.get('contoso', id);
    expect(before?.status).toBe('active');
    fixture.tenant.hardDeleteUser(id);
    const report = await service.sync('contoso');
    expect(report.actions.UNLINK).toBe(1);
    expect(await service.stores.users.get('contoso', id)).toBeUndefined();
    const native = await service.stores.users.getByKey(nativePartition('north'), before?.appUserId ?? '');
    expect(native).toMatchObject({ connectionId: '', sourceId: '', status: 'active', mailKey: mail });
    expect((await service.stores.claims.get(mail))?.userPartitionKey).toBe(nativePartition('north'));
  });
});
