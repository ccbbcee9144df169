import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { isStatus, submitInTransactions } from './batch.js';
import { packChunks, unpackChunk } from './chunks.js';
import { KEY_SEPARATOR } from './keys.js';

/**
 * Entra groups of a connection (Groups) and their memberships (GroupMembers, in chunks). Every group's
 * name and its group members (nesting) are kept; user members only for the groups the connection's
 * scope and mappings use, since only those decide anything.
 */
export interface StoredGroup {
  id: string;
  displayName: string | null;
  /** Whether the user members of this group are stored (it matters to the connection). */
  usersStored: boolean;
  userMemberCount: number;
  childGroups: string[];
  users: string[] | undefined;
}

type GroupEntity = {
  partitionKey: string;
  rowKey: string;
  displayName: string;
  usersStored: boolean;
  userMemberCount: number;
  childGroupCount: number;
  updatedAt: string;
};

function membersPartition(connectionId: string, groupId: string): string {
  return `${connectionId}${KEY_SEPARATOR}${groupId}`;
}

export class GroupStore {
  readonly #groups: TableClient;
  readonly #members: TableClient;

  constructor(groups: TableClient, members: TableClient) {
    this.#groups = groups;
    this.#members = members;
  }

  async list(connectionId: string): Promise<Omit<StoredGroup, 'childGroups' | 'users'>[]> {
    return (await this.#list(connectionId)).map(({ childGroupCount: _count, ...group }) => group);
  }

  async #list(
    connectionId: string,
  ): Promise<(Omit<StoredGroup, 'childGroups' | 'users'> & { childGroupCount: number | undefined })[]> {
    const groups: (Omit<StoredGroup, 'childGroups' | 'users'> & { childGroupCount: number | undefined })[] =
      [];
    const pages = this.#groups.listEntities<GroupEntity>({
      queryOptions: { filter: odata`PartitionKey eq ${connectionId}` },
    });
    for await (const entity of pages) {
      groups.push({
        id: entity.rowKey,
        displayName: entity.displayName === '' ? null : entity.displayName,
        usersStored: entity.usersStored,
        userMemberCount: entity.userMemberCount,
        childGroupCount: typeof entity.childGroupCount === 'number' ? entity.childGroupCount : undefined,
      });
    }
    return groups;
  }

  /** Reads every group with its nesting, and the user members of the groups that have them stored. */
  async load(connectionId: string): Promise<StoredGroup[]> {
    const groups = await this.#list(connectionId);
    return await Promise.all(
      groups.map(async ({ childGroupCount, ...group }) => {
        // Most groups nest none and keep no users: their member chunks are not worth a query each,
        // which every sync and every page of a queue import would otherwise pay.
        const members =
          group.usersStored || childGroupCount !== 0
            ? await this.#readMembers(connectionId, group.id)
            : { users: [], groups: [] };
        return {
          ...group,
          childGroups: members.groups,
          users: group.usersStored ? members.users : undefined,
        };
      }),
    );
  }

  /** Replaces the stored groups of a connection with these (a full read). Groups not listed are removed. */
  async replaceAll(connectionId: string, groups: readonly StoredGroup[]): Promise<void> {
    const previous = new Set((await this.list(connectionId)).map((group) => group.id));
    const now = new Date().toISOString();
    const actions: TransactionAction[] = groups.map((group) => [
      'upsert',
      this.#entity(connectionId, group, now),
      'Replace',
    ]);
    for (const id of previous) {
      if (!groups.some((group) => group.id === id))
        actions.push(['delete', { partitionKey: connectionId, rowKey: id }]);
    }
    await submitInTransactions(this.#groups, actions);
    for (const group of groups) await this.#writeMembers(connectionId, group);
    for (const id of previous) {
      if (!groups.some((group) => group.id === id))
        await this.#writeMembers(connectionId, { id, childGroups: [], users: [] });
    }
  }

  /** Stores the groups a sync changed. */
  async putMany(connectionId: string, groups: readonly StoredGroup[]): Promise<void> {
    const now = new Date().toISOString();
    await submitInTransactions(
      this.#groups,
      groups.map((group): TransactionAction => ['upsert', this.#entity(connectionId, group, now), 'Replace']),
    );
    for (const group of groups) await this.#writeMembers(connectionId, group);
  }

  /** Removes groups deleted in Entra; one never stored (created and deleted between two runs) is fine. */
  async deleteMany(connectionId: string, groupIds: readonly string[]): Promise<void> {
    for (const id of groupIds) {
      try {
        await this.#groups.deleteEntity(connectionId, id);
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      await this.#writeMembers(connectionId, { id, childGroups: [], users: [] });
    }
  }

  #entity(connectionId: string, group: StoredGroup, now: string): GroupEntity {
    return {
      partitionKey: connectionId,
      rowKey: group.id,
      displayName: group.displayName ?? '',
      usersStored: group.users !== undefined,
      userMemberCount: group.users?.length ?? group.userMemberCount,
      childGroupCount: group.childGroups.length,
      updatedAt: now,
    };
  }

  async #readMembers(connectionId: string, groupId: string): Promise<{ users: string[]; groups: string[] }> {
    const users: string[] = [];
    const groups: string[] = [];
    const pages = this.#members.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${membersPartition(connectionId, groupId)}` },
    });
    for await (const entity of pages) {
      (entity.rowKey?.startsWith('g') ? groups : users).push(...unpackChunk<string>(entity));
    }
    return { users, groups };
  }

  /** Rewrites a group's member chunks and removes chunks left over from a longer list. */
  async #writeMembers(
    connectionId: string,
    group: Pick<StoredGroup, 'id' | 'childGroups' | 'users'>,
  ): Promise<void> {
    const partitionKey = membersPartition(connectionId, group.id);
    const chunks = [
      ...packChunks(group.childGroups, partitionKey, (index) => `g${String(index).padStart(6, '0')}`),
      ...packChunks(group.users ?? [], partitionKey, (index) => `u${String(index).padStart(6, '0')}`),
    ];
    const keep = new Set(chunks.map((chunk) => chunk.rowKey));
    const actions: TransactionAction[] = chunks.map((chunk) => ['upsert', chunk, 'Replace']);
    const existing = this.#members.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] },
    });
    for await (const entity of existing) {
      if (entity.rowKey && !keep.has(entity.rowKey))
        actions.push(['delete', { partitionKey, rowKey: entity.rowKey }]);
    }
    await submitInTransactions(this.#members, actions);
  }
}
