import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { SuspensionReason } from '../engine/types.js';
import { forEachBounded, isStatus, submitInTransactions } from '../storage/batch.js';
import { packChunks, unpackChunk } from '../storage/chunks.js';
import type { EmailClaimStore } from '../storage/email-claims.js';
import type { LicenseStore } from '../storage/licenses.js';
import { nativePartition, toEntity, type StoredUser, type UserStore } from '../storage/users.js';

/**
 * Suspensions, deletions and unlinks wait until the run has seen everything: only then can it tell
 * whether together they pass the connection's deletion threshold. Under it they are applied; over it
 * they are stored as held and the run ends `deletions_held` until an administrator approves.
 * Every write is conditional on the entity being what the decision saw (its ETag), so approving an old
 * hold never undoes what a later run did.
 */
export type RemovalAction = 'SUSPEND' | 'DELETE' | 'UNLINK';

export interface QueuedRemoval {
  user: StoredUser;
  action: RemovalAction;
  situation: string;
  reason: string;
  suspensionReason: SuspensionReason | null;
  /** The user with its Entra snapshot refreshed, when it is still in Entra (out of scope). */
  source: StoredUser | undefined;
}

export class RemovalQueue {
  readonly #items = new Map<string, QueuedRemoval>();

  add(removal: QueuedRemoval): void {
    this.#items.set(`${removal.user.partitionKey}/${removal.user.rowKey}`, removal);
  }

  /** The user's latest decision is not a removal (it is back, or in scope again): forget any queued one. */
  drop(partitionKey: string, rowKey: string): void {
    this.#items.delete(`${partitionKey}/${rowKey}`);
  }

  get items(): QueuedRemoval[] {
    return [...this.#items.values()];
  }

  /** What counts against the threshold: deletions, and suspensions of users not suspended yet. */
  pending(): { deletions: number; suspensions: number } {
    let deletions = 0;
    let suspensions = 0;
    for (const item of this.#items.values()) {
      if (item.action === 'DELETE') deletions += 1;
      else if (item.action === 'SUSPEND' && item.user.status !== 'suspended') suspensions += 1;
    }
    return { deletions, suspensions };
  }
}

export interface RemovalStores {
  users: UserStore;
  usersTable: TableClient;
  claims: EmailClaimStore;
  licenses: LicenseStore;
}

export interface RemovalOutcome {
  applied: number;
  /** Of those, the deletions and unlinks: users no longer linked to the connection. */
  unlinked: number;
  /** Users that changed since the decision (another run got there first): left as they are. */
  skipped: number;
}

/** Applies removals, each only if its user is still the version the decision saw. */
export async function applyRemovals(
  stores: RemovalStores,
  removals: readonly QueuedRemoval[],
  runId: string,
): Promise<RemovalOutcome> {
  let applied = 0;
  let skipped = 0;
  let unlinked = 0;
  const now = new Date().toISOString();
  // Freed seats are given back once per pool, not once per user: sixteen writers on one pool entity
  // would spend their ETag retries on each other. Given back however the loop ends, so that a failure
  // half-way does not keep the seats of the users already deleted.
  const freed = new Map<string, { division: string; license: string; count: number }>();
  const freeSeat = (division: string, license: string): void => {
    const key = `${division}\u0000${license}`;
    const entry = freed.get(key) ?? { division, license, count: 0 };
    entry.count += 1;
    freed.set(key, entry);
  };
  try {
    await forEachBounded(removals, 16, async (removal) => {
      const done = await applyOne(stores, removal, runId, now, freeSeat);
      if (!done) {
        skipped += 1;
        return;
      }
      applied += 1;
      if (removal.action !== 'SUSPEND') unlinked += 1;
    });
  } finally {
    for (const { division, license, count } of freed.values())
      await stores.licenses.giveBack(division, license, count);
  }
  return { applied, skipped, unlinked };
}

async function replaceIfUnchanged(
  table: TableClient,
  user: StoredUser,
  etag: string | undefined,
): Promise<boolean> {
  try {
    await table.updateEntity(toEntity(user), 'Replace', { etag: etag ?? '*' });
    return true;
  } catch (error) {
    if (isStatus(error, 412) || isStatus(error, 404)) return false;
    throw error;
  }
}

async function applyOne(
  stores: RemovalStores,
  removal: QueuedRemoval,
  runId: string,
  now: string,
  freeSeat: (division: string, license: string) => void,
): Promise<boolean> {
  const base = removal.source ?? removal.user;
  const etag = removal.user.etag;
  switch (removal.action) {
    case 'SUSPEND': {
      if (
        removal.user.status === 'suspended' &&
        removal.user.suspendedBy === (removal.suspensionReason ?? '')
      ) {
        return true;
      }
      const suspended: StoredUser = {
        ...base,
        status: 'suspended',
        suspendedBy: removal.suspensionReason ?? 'manual',
        updatedAt: now,
        lastRunId: runId,
      };
      return await replaceIfUnchanged(stores.usersTable, suspended, etag);
    }
    case 'DELETE': {
      // The tombstone keeps the attributes so readers can tell who went; the seat and the address are freed.
      const deleted: StoredUser = {
        ...base,
        status: 'deleted',
        suspendedBy: '',
        license: '',
        appGroups: [],
        roles: [],
        mailKey: '',
        deletedAt: now,
        updatedAt: now,
        lastRunId: runId,
      };
      if (!(await replaceIfUnchanged(stores.usersTable, deleted, etag))) return false;
      if (removal.user.license !== '') freeSeat(removal.user.division, removal.user.license);
      if (removal.user.mailKey !== '') {
        await stores.claims.release(removal.user.mailKey, {
          connectionId: removal.user.connectionId,
          sourceId: removal.user.sourceId,
        });
      }
      return true;
    }
    case 'UNLINK': {
      // The app user stays, as a native user of the division; only its link to Entra goes.
      const native: StoredUser = {
        ...base,
        partitionKey: nativePartition(base.division),
        rowKey: base.appUserId,
        connectionId: '',
        sourceId: '',
        source: {},
        entraGroups: [],
        sourceHash: '',
        updatedAt: now,
        lastRunId: runId,
      };
      await stores.users.putMany([native]);
      if (removal.user.mailKey !== '') {
        const claim = await stores.claims.get(removal.user.mailKey);
        if (claim && claim.sourceId === removal.user.sourceId) {
          await stores.claims.transfer(claim, {
            appUserId: native.appUserId,
            connectionId: '',
            sourceId: '',
            division: native.division,
            userPartitionKey: native.partitionKey,
            userRowKey: native.rowKey,
            claimedAt: now,
          });
        }
      }
      try {
        await stores.usersTable.deleteEntity(removal.user.partitionKey, removal.user.rowKey, {
          etag: etag ?? '*',
        });
      } catch (error) {
        if (!isStatus(error, 404) && !isStatus(error, 412)) throw error;
      }
      return true;
    }
  }
}

/** Held removals of a run, stored in chunks until approved. */
interface HeldRemoval {
  partitionKey: string;
  rowKey: string;
  etag: string | null;
  action: RemovalAction;
  situation: string;
  reason: string;
  suspensionReason: SuspensionReason | null;
}

export class HeldRemovalStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async hold(runId: string, removals: readonly QueuedRemoval[]): Promise<void> {
    const held: HeldRemoval[] = removals.map((removal) => ({
      partitionKey: removal.user.partitionKey,
      rowKey: removal.user.rowKey,
      etag: removal.user.etag ?? null,
      action: removal.action,
      situation: removal.situation,
      reason: removal.reason,
      suspensionReason: removal.suspensionReason,
    }));
    const chunks = packChunks(held, runId, (index) => String(index).padStart(6, '0'));
    await submitInTransactions(
      this.#client,
      chunks.map((chunk): TransactionAction => ['upsert', chunk, 'Replace']),
    );
  }

  async read(runId: string): Promise<HeldRemoval[]> {
    const held: HeldRemoval[] = [];
    for await (const entity of this.#client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${runId}` },
    })) {
      held.push(...unpackChunk<HeldRemoval>(entity));
    }
    return held;
  }

  async clear(runId: string): Promise<void> {
    const actions: TransactionAction[] = [];
    const pages = this.#client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${runId}`, select: ['RowKey'] },
    });
    for await (const entity of pages)
      actions.push(['delete', { partitionKey: runId, rowKey: entity.rowKey ?? '' }]);
    await submitInTransactions(this.#client, actions);
  }

  /**
   * Turns held entries back into removals: each user is read again, and one that changed since the
   * hold is left out (what the hold was about no longer holds).
   */
  async toRemovals(runId: string, users: UserStore): Promise<QueuedRemoval[]> {
    const removals: QueuedRemoval[] = [];
    for (const held of await this.read(runId)) {
      const user = await users.getByKey(held.partitionKey, held.rowKey);
      if (!user || (held.etag !== null && user.etag !== held.etag)) continue;
      removals.push({
        user: { ...user, ...(held.etag === null ? {} : { etag: held.etag }) },
        action: held.action,
        situation: held.situation,
        reason: held.reason,
        suspensionReason: held.suspensionReason,
        source: undefined,
      });
    }
    return removals;
  }
}
