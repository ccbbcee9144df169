import type { TableClient } from '@azure/data-tables';
import { isStatus } from './batch.js';

/**
 * One lease per connection, so two runs of the same connection never interleave (a timer tick and an
 * on-demand import, or two Function instances). A lease expires on its own, so a crashed run blocks
 * nobody for longer than its duration; a long run renews it.
 */
export interface LeaseEntity {
  partitionKey: string;
  rowKey: string;
  holder: string;
  expiresAt: string;
}

export type LeaseResult =
  { acquired: true; lease: Lease } | { acquired: false; holder: string; expiresAt: Date };

const PARTITION = 'lease';

function etagOf(response: { etag?: string }): string {
  // The service always answers a write with an ETag; without one we could not guard the next write.
  if (!response.etag) throw new Error('Table Storage answered a lease write without an ETag');
  return response.etag;
}

export class Lease {
  readonly #client: TableClient;
  readonly #connectionId: string;
  readonly #durationMs: number;
  #etag: string;
  readonly holder: string;

  constructor(client: TableClient, connectionId: string, holder: string, durationMs: number, etag: string) {
    this.#client = client;
    this.#connectionId = connectionId;
    this.holder = holder;
    this.#durationMs = durationMs;
    this.#etag = etag;
  }

  /** Extends the lease; throws when another holder took it over (this run must stop). */
  async renew(): Promise<void> {
    const entity: LeaseEntity = {
      partitionKey: PARTITION,
      rowKey: this.#connectionId,
      holder: this.holder,
      expiresAt: new Date(Date.now() + this.#durationMs).toISOString(),
    };
    const response = await this.#client.updateEntity(entity, 'Replace', { etag: this.#etag });
    this.#etag = etagOf(response);
  }

  async release(): Promise<void> {
    try {
      await this.#client.deleteEntity(PARTITION, this.#connectionId, { etag: this.#etag });
    } catch (error) {
      // Already expired and taken over, or gone: nothing of ours to release.
      if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
    }
  }
}

export class LeaseStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async acquire(connectionId: string, holder: string, durationMs: number): Promise<LeaseResult> {
    const entity: LeaseEntity = {
      partitionKey: PARTITION,
      rowKey: connectionId,
      holder,
      expiresAt: new Date(Date.now() + durationMs).toISOString(),
    };
    try {
      const created = await this.#client.createEntity(entity);
      return {
        acquired: true,
        lease: new Lease(this.#client, connectionId, holder, durationMs, etagOf(created)),
      };
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    const current = await this.#client.getEntity<LeaseEntity>(PARTITION, connectionId);
    const expiresAt = new Date(current.expiresAt);
    // The same holder takes its own lease again: a queue-driven job spans many executions.
    if (expiresAt.getTime() > Date.now() && current.holder !== holder) {
      return { acquired: false, holder: current.holder, expiresAt };
    }
    try {
      // Expired (or ours): take it over, but only if nobody else did since we read it.
      const replaced = await this.#client.updateEntity(entity, 'Replace', { etag: current.etag });
      return {
        acquired: true,
        lease: new Lease(this.#client, connectionId, holder, durationMs, etagOf(replaced)),
      };
    } catch (error) {
      if (!isStatus(error, 412)) throw error;
      const winner = await this.#client.getEntity<LeaseEntity>(PARTITION, connectionId);
      return { acquired: false, holder: winner.holder, expiresAt: new Date(winner.expiresAt) };
    }
  }
}
