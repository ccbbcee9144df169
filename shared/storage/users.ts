import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { forEachBounded, isStatus, MAX_TRANSACTION_SIZE, submitInTransactions } from './batch.js';
import { KEY_SEPARATOR, userPartition, userPartitions } from './keys.js';

/** The app user entity (docs/data-model.md, Users). Mapped attributes are extra properties. */
export type UserStatus = 'active' | 'suspended' | 'deleted';
/** Why a user is suspended (see shared/engine/types.ts SuspensionReason), or '' when it is not. */
export type SuspendedBy = '' | 'source_soft_deleted' | 'source_deleted' | 'out_of_scope' | 'manual';
const SUSPENDED_BY: readonly string[] = ['source_soft_deleted', 'source_deleted', 'out_of_scope', 'manual'];
/** Table properties hold no lists: a list-valued attribute is stored as a JSON array string. */
export type AttributeValue = string | number | boolean | null;

export interface StoredUser {
  partitionKey: string;
  rowKey: string;
  appUserId: string;
  connectionId: string;
  sourceId: string;
  status: UserStatus;
  suspendedBy: SuspendedBy;
  division: string;
  license: string;
  appGroups: string[];
  roles: string[];
  attributes: Record<string, AttributeValue>;
  mailKey: string;
  source: Record<string, unknown>;
  entraGroups: string[];
  sourceHash: string;
  /** Hash of the mapped record (attributes, app groups, roles, licence) last written. */
  mappedHash: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string;
  lastRunId: string;
  etag?: string;
}

/** What an import needs to know of every linked user without reading whole entities. */
export interface UserIndexEntry {
  sourceHash: string;
  mappedHash: string;
  status: UserStatus;
  suspendedBy: SuspendedBy;
  mailKey: string;
}

const FIXED_PROPERTIES = new Set([
  'partitionKey',
  'rowKey',
  'timestamp',
  'etag',
  'odata.etag',
  'appUserId',
  'connectionId',
  'sourceId',
  'status',
  'suspendedBy',
  'division',
  'license',
  'appGroups',
  'roles',
  'attributeNames',
  'mailKey',
  'source',
  'entraGroups',
  'sourceHash',
  'mappedHash',
  'createdAt',
  'updatedAt',
  'deletedAt',
  'lastRunId',
]);

/** Property names an attribute mapping may not target, because the entity already uses them. */
export const RESERVED_USER_PROPERTIES: ReadonlySet<string> = FIXED_PROPERTIES;

type UserEntity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function parseList(value: unknown): string[] {
  if (typeof value !== 'string' || value === '') return [];
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function toEntity(user: StoredUser): UserEntity {
  const entity: UserEntity = {
    partitionKey: user.partitionKey,
    rowKey: user.rowKey,
    appUserId: user.appUserId,
    connectionId: user.connectionId,
    sourceId: user.sourceId,
    status: user.status,
    suspendedBy: user.suspendedBy,
    division: user.division,
    license: user.license,
    appGroups: JSON.stringify(user.appGroups),
    roles: JSON.stringify(user.roles),
    attributeNames: JSON.stringify(Object.keys(user.attributes)),
    mailKey: user.mailKey,
    source: JSON.stringify(user.source),
    entraGroups: JSON.stringify(user.entraGroups),
    sourceHash: user.sourceHash,
    mappedHash: user.mappedHash,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    deletedAt: user.deletedAt,
    lastRunId: user.lastRunId,
  };
  for (const [name, value] of Object.entries(user.attributes)) {
    // Table Storage has no null: an absent property reads back as null.
    if (value !== null) entity[name] = value;
  }
  return entity;
}

export function fromEntity(entity: Readonly<Record<string, unknown>>): StoredUser {
  const attributes: Record<string, AttributeValue> = {};
  for (const name of parseList(entity.attributeNames)) {
    const value = entity[name];
    attributes[name] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  }
  const status = text(entity.status);
  const suspendedBy = text(entity.suspendedBy);
  const source: unknown =
    typeof entity.source === 'string' && entity.source !== '' ? JSON.parse(entity.source) : {};
  return {
    partitionKey: text(entity.partitionKey),
    rowKey: text(entity.rowKey),
    appUserId: text(entity.appUserId),
    connectionId: text(entity.connectionId),
    sourceId: text(entity.sourceId),
    status: status === 'suspended' || status === 'deleted' ? status : 'active',
    suspendedBy: SUSPENDED_BY.includes(suspendedBy) ? (suspendedBy as SuspendedBy) : '',
    division: text(entity.division),
    license: text(entity.license),
    appGroups: parseList(entity.appGroups),
    roles: parseList(entity.roles),
    attributes,
    mailKey: text(entity.mailKey),
    source: typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : {},
    entraGroups: parseList(entity.entraGroups),
    sourceHash: text(entity.sourceHash),
    mappedHash: text(entity.mappedHash),
    createdAt: text(entity.createdAt),
    updatedAt: text(entity.updatedAt),
    deletedAt: text(entity.deletedAt),
    lastRunId: text(entity.lastRunId),
    ...(typeof entity.etag === 'string' ? { etag: entity.etag } : {}),
  };
}

export const NATIVE_PARTITION_PREFIX = `~native${KEY_SEPARATOR}`;

export function nativePartition(division: string): string {
  return `${NATIVE_PARTITION_PREFIX}${division}`;
}

export class UserStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  /** Reads the small index of every linked user of a connection, one query per partition. */
  async loadIndex(connectionId: string): Promise<Map<string, UserIndexEntry>> {
    const index = new Map<string, UserIndexEntry>();
    await forEachBounded(userPartitions(connectionId), 8, async (partition) => {
      const pages = this.#client.listEntities({
        queryOptions: {
          filter: odata`PartitionKey eq ${partition}`,
          select: ['RowKey', 'sourceHash', 'mappedHash', 'status', 'suspendedBy', 'mailKey'],
        },
      });
      for await (const entity of pages) {
        const user = fromEntity(entity);
        index.set(user.rowKey, {
          sourceHash: user.sourceHash,
          mappedHash: user.mappedHash,
          status: user.status,
          suspendedBy: user.suspendedBy,
          mailKey: user.mailKey,
        });
      }
    });
    return index;
  }

  async get(connectionId: string, objectId: string): Promise<StoredUser | undefined> {
    return await this.getByKey(userPartition(connectionId, objectId), objectId.toLowerCase());
  }

  async getByKey(partitionKey: string, rowKey: string): Promise<StoredUser | undefined> {
    try {
      return fromEntity(await this.#client.getEntity(partitionKey, rowKey));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Point reads, several at once; ids that have no entity are absent from the result. */
  async getMany(
    connectionId: string,
    objectIds: readonly string[],
    concurrency = 16,
  ): Promise<Map<string, StoredUser>> {
    const found = new Map<string, StoredUser>();
    await forEachBounded(objectIds, concurrency, async (objectId) => {
      const user = await this.get(connectionId, objectId);
      if (user) found.set(objectId.toLowerCase(), user);
    });
    return found;
  }

  /** Writes whole entities (Replace: the entity is ours, a removed attribute must disappear). */
  async putMany(users: readonly StoredUser[]): Promise<void> {
    const actions: TransactionAction[] = users.map((user) => ['upsert', toEntity(user), 'Replace']);
    await submitInTransactions(this.#client, actions);
  }

  /** Updates only what was read from Entra (source, groups, hash): nothing the application sees. */
  async mergeMany(users: readonly StoredUser[]): Promise<void> {
    const actions: TransactionAction[] = users.map((user) => [
      'upsert',
      {
        partitionKey: user.partitionKey,
        rowKey: user.rowKey,
        source: JSON.stringify(user.source),
        entraGroups: JSON.stringify(user.entraGroups),
        sourceHash: user.sourceHash,
      },
      'Merge',
    ]);
    await submitInTransactions(this.#client, actions);
  }

  async delete(partitionKey: string, rowKey: string): Promise<void> {
    try {
      await this.#client.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /** Every linked user of a connection, partition by partition. */
  async *listLinked(connectionId: string): AsyncGenerator<StoredUser> {
    for (const partition of userPartitions(connectionId)) {
      const pages = this.#client.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${partition}` },
      });
      for await (const entity of pages) yield fromEntity(entity);
    }
  }

  async *listNative(division: string): AsyncGenerator<StoredUser> {
    const pages = this.#client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${nativePartition(division)}` },
    });
    for await (const entity of pages) yield fromEntity(entity);
  }
}

/**
 * Holds user writes until a partition has a full transaction's worth (100), so that 256 small
 * partitions still cost 100-entity transactions. A later write of the same user replaces the pending
 * one. Whatever is pending is written by `flush`, which a run calls before anything that reads users
 * back and before it moves a cursor.
 */
export class UserWriteBuffer {
  readonly #store: UserStore;
  readonly #pending = new Map<string, Map<string, StoredUser>>();
  readonly #maxPending: number;
  #size = 0;

  /**
   * `maxPending` bounds the memory held: past it, the fullest partitions are written early (smaller
   * transactions, a steady footprint however large the tenant).
   */
  constructor(store: UserStore, maxPending = 6_000) {
    this.#store = store;
    this.#maxPending = maxPending;
  }

  get size(): number {
    return this.#size;
  }

  async add(users: readonly StoredUser[]): Promise<void> {
    const ready: StoredUser[] = [];
    for (const user of users) {
      let partition = this.#pending.get(user.partitionKey);
      if (!partition) {
        partition = new Map();
        this.#pending.set(user.partitionKey, partition);
      }
      if (!partition.has(user.rowKey)) this.#size += 1;
      partition.set(user.rowKey, user);
      if (partition.size >= MAX_TRANSACTION_SIZE) ready.push(...this.#take(user.partitionKey));
    }
    if (this.#size > this.#maxPending) {
      const fullest = [...this.#pending].sort(([, a], [, b]) => b.size - a.size);
      for (const [key] of fullest) {
        if (this.#size <= this.#maxPending / 2) break;
        ready.push(...this.#take(key));
      }
    }
    await this.#store.putMany(ready);
  }

  async flush(): Promise<void> {
    const all = [...this.#pending.keys()].flatMap((key) => this.#take(key));
    await this.#store.putMany(all);
  }

  #take(partitionKey: string): StoredUser[] {
    const partition = this.#pending.get(partitionKey);
    if (!partition) return [];
    this.#pending.delete(partitionKey);
    this.#size -= partition.size;
    return [...partition.values()];
  }
}
