import { odata, type TableClient } from '@azure/data-tables';
import { isStatus } from './batch.js';
import { escapeKey, unescapeKey } from './keys.js';

/**
 * Licence pools with limited seats, one per (division, licence). Seats are taken and given back with
 * ETag-guarded updates, so two runs (two connections of one division, or two Function instances) can
 * never sell the same seat twice. A run takes the seats of a whole page in one update.
 */
export interface LicensePool {
  division: string;
  license: string;
  seats: number;
  used: number;
}

type PoolEntity = { partitionKey: string; rowKey: string; seats: number; used: number };

const MAX_ATTEMPTS = 20;

export class LicenseStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async list(division: string): Promise<LicensePool[]> {
    const pools: LicensePool[] = [];
    const pages = this.#client.listEntities<PoolEntity>({
      queryOptions: { filter: odata`PartitionKey eq ${escapeKey(division)}` },
    });
    for await (const entity of pages) {
      pools.push({ division, license: unescapeKey(entity.rowKey), seats: entity.seats, used: entity.used });
    }
    return pools;
  }

  /** Sets the number of seats of each pool (from the connection's configuration); keeps what is used. */
  async configure(division: string, seats: Readonly<Record<string, number>>): Promise<void> {
    for (const [license, count] of Object.entries(seats)) {
      await this.#update(division, license, (pool) => ({ ...pool, seats: count }));
    }
  }

  /**
   * Takes up to `wanted` seats; returns how many it took (fewer when the pool runs out). A licence that
   * has no pool has no seats.
   */
  async take(division: string, license: string, wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    let taken = 0;
    await this.#update(
      division,
      license,
      (pool) => {
        taken = Math.max(0, Math.min(wanted, pool.seats - pool.used));
        return taken === 0 ? undefined : { ...pool, used: pool.used + taken };
      },
      false,
    );
    return taken;
  }

  async giveBack(division: string, license: string, count: number): Promise<void> {
    if (count <= 0) return;
    await this.#update(
      division,
      license,
      (pool) => ({ ...pool, used: Math.max(0, pool.used - count) }),
      false,
    );
  }

  /** Sets `used` from a count of the users holding each licence (after a run that did not finish). */
  async setUsed(division: string, used: Readonly<Record<string, number>>): Promise<void> {
    for (const pool of await this.list(division)) {
      await this.#update(division, pool.license, (current) => ({
        ...current,
        used: used[pool.license] ?? 0,
      }));
    }
  }

  async #update(
    division: string,
    license: string,
    change: (pool: LicensePool) => LicensePool | undefined,
    createIfMissing = true,
  ): Promise<void> {
    const partitionKey = escapeKey(division);
    const rowKey = escapeKey(license);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      let current: (PoolEntity & { etag: string }) | undefined;
      try {
        current = await this.#client.getEntity<PoolEntity>(partitionKey, rowKey);
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      if (!current && !createIfMissing) {
        change({ division, license, seats: 0, used: 0 });
        return;
      }
      const next = change({ division, license, seats: current?.seats ?? 0, used: current?.used ?? 0 });
      if (!next) return;
      const entity: PoolEntity = { partitionKey, rowKey, seats: next.seats, used: next.used };
      try {
        if (current) await this.#client.updateEntity(entity, 'Replace', { etag: current.etag });
        else await this.#client.createEntity(entity);
        return;
      } catch (error) {
        // Somebody else changed the pool since we read it: read again and recompute.
        if (!isStatus(error, 412) && !isStatus(error, 409)) throw error;
      }
    }
    throw new Error(`Licence pool ${license} of ${division} is too contended; try the run again`);
  }
}
