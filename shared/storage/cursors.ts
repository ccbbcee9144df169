import type { TableClient } from '@azure/data-tables';
import { isStatus } from './batch.js';

/**
 * Delta cursors: the last @odata.deltaLink per connection and resource. A cursor is written only after
 * every change before it is stored, and only over the version that was read (ETag), so a run that lost
 * its lease cannot move it backwards.
 */
export type CursorKind = 'users' | 'groups';

export interface Cursor {
  deltaLink: string;
  runId: string;
  /** The connection's mapping version the cursor was taken under: another version needs a full import. */
  configVersion: string;
  /** Users cursor only: app users linked to the connection after the run, for the deletion threshold. */
  linkedUsers: number | undefined;
  updatedAt: string;
  etag: string;
}

/** What a run writes into a cursor. */
export type CursorState = Pick<Cursor, 'deltaLink' | 'runId' | 'configVersion'> & { linkedUsers?: number };

interface CursorEntity {
  partitionKey: string;
  rowKey: CursorKind;
  deltaLink: string;
  runId: string;
  configVersion: string;
  linkedUsers?: number;
  updatedAt: string;
}

export class CursorStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(connectionId: string, kind: CursorKind): Promise<Cursor | undefined> {
    try {
      const entity = await this.#client.getEntity<CursorEntity>(connectionId, kind);
      return {
        deltaLink: entity.deltaLink,
        runId: entity.runId,
        configVersion: entity.configVersion,
        linkedUsers:
          typeof entity.linkedUsers === 'number' && entity.linkedUsers >= 0 ? entity.linkedUsers : undefined,
        updatedAt: entity.updatedAt,
        etag: entity.etag,
      };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Stores a cursor; `expectedEtag` undefined means "there was none". Throws 412/409 on a lost race. */
  async put(
    connectionId: string,
    kind: CursorKind,
    state: CursorState,
    expectedEtag: string | undefined,
  ): Promise<void> {
    const entity: CursorEntity = {
      partitionKey: connectionId,
      rowKey: kind,
      ...state,
      updatedAt: new Date().toISOString(),
    };
    if (expectedEtag === undefined) await this.#client.createEntity(entity);
    else await this.#client.updateEntity(entity, 'Replace', { etag: expectedEtag });
  }

  /** Forgets the linked-user count (a run changed it without moving the cursor): the next sync counts. */
  async forgetLinkedUsers(connectionId: string): Promise<void> {
    try {
      await this.#client.updateEntity(
        { partitionKey: connectionId, rowKey: 'users', linkedUsers: -1 },
        'Merge',
      );
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async delete(connectionId: string, kind: CursorKind): Promise<void> {
    try {
      await this.#client.deleteEntity(connectionId, kind);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }
}
