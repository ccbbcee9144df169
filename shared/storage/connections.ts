import type { TableClient } from '@azure/data-tables';
import { isStatus } from './batch.js';

/**
 * Connections as administrators applied them: the JSON document (validated by the connection schema
 * before it gets here; it holds secret references, never secret values) and what the app learned about
 * the connection since (consent, last run).
 */
export interface ConsentRecord {
  grantedAt: string;
  /** The tenant id Graph's /organization answered with, which may differ from a domain in the config. */
  tenantId: string;
  organizationName: string | null;
}

export interface StoredConnection {
  id: string;
  document: Record<string, unknown>;
  enabled: boolean;
  consent: ConsentRecord | null;
  lastRunId: string | null;
  lastRunAt: string | null;
  lastRunStatus: string | null;
  createdAt: string;
  updatedAt: string;
  etag?: string;
}

const PARTITION = 'connection';

type ConnectionEntity = {
  partitionKey: string;
  rowKey: string;
  document: string;
  enabled: boolean;
  consent: string;
  lastRunId: string;
  lastRunAt: string;
  lastRunStatus: string;
  createdAt: string;
  updatedAt: string;
};

function fromEntity(entity: ConnectionEntity & { etag?: string }): StoredConnection {
  return {
    id: entity.rowKey,
    document: JSON.parse(entity.document) as Record<string, unknown>,
    enabled: entity.enabled,
    consent: entity.consent ? (JSON.parse(entity.consent) as ConsentRecord) : null,
    lastRunId: entity.lastRunId || null,
    lastRunAt: entity.lastRunAt || null,
    lastRunStatus: entity.lastRunStatus || null,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

function toEntity(connection: StoredConnection): ConnectionEntity {
  return {
    partitionKey: PARTITION,
    rowKey: connection.id,
    document: JSON.stringify(connection.document),
    enabled: connection.enabled,
    consent: connection.consent ? JSON.stringify(connection.consent) : '',
    lastRunId: connection.lastRunId ?? '',
    lastRunAt: connection.lastRunAt ?? '',
    lastRunStatus: connection.lastRunStatus ?? '',
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
  };
}

export class ConnectionStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(id: string): Promise<StoredConnection | undefined> {
    try {
      return fromEntity(await this.#client.getEntity<ConnectionEntity>(PARTITION, id));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list(): Promise<StoredConnection[]> {
    const connections: StoredConnection[] = [];
    for await (const entity of this.#client.listEntities<ConnectionEntity>())
      connections.push(fromEntity(entity));
    return connections;
  }

  /** Creates or replaces the document; keeps what the app learned (consent, last run). */
  async apply(id: string, document: Record<string, unknown>, enabled: boolean): Promise<StoredConnection> {
    const now = new Date().toISOString();
    const current = await this.get(id);
    const next: StoredConnection = current
      ? { ...current, document, enabled, updatedAt: now }
      : {
          id,
          document,
          enabled,
          consent: null,
          lastRunId: null,
          lastRunAt: null,
          lastRunStatus: null,
          createdAt: now,
          updatedAt: now,
        };
    await this.#client.upsertEntity(toEntity(next), 'Replace');
    return next;
  }

  /** Changes a connection with `change`, retrying when another writer got there first. */
  async update(
    id: string,
    change: (current: StoredConnection) => StoredConnection,
  ): Promise<StoredConnection> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const current = await this.get(id);
      if (!current) throw new Error(`Connection ${id} does not exist`);
      const next = { ...change(current), updatedAt: new Date().toISOString() };
      try {
        await this.#client.updateEntity(toEntity(next), 'Replace', { etag: current.etag ?? '*' });
        return next;
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw new Error(`Connection ${id} is changing too often to update; try again`);
  }
}
