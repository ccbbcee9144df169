import type { LicenseStore } from '../storage/licenses.js';

/**
 * Licence seats for one run of a connection. Before a page is decided, the seats it could need are
 * taken from the pool in one ETag-guarded update per licence; decisions then spend them locally, and
 * what was not spent (and what users gave up) goes back after the page is written. A preview works
 * on a snapshot of the pools and writes nothing.
 */
export class SeatLedger {
  readonly #pools: LicenseStore;
  readonly #division: string;
  readonly #preview: boolean;
  readonly #free = new Map<string, number>();
  readonly #freed = new Map<string, number>();
  /** Per licence: seats in the pool, and seats asked for in this run. */
  readonly demand = new Map<string, number>();

  private constructor(pools: LicenseStore, division: string, preview: boolean) {
    this.#pools = pools;
    this.#division = division;
    this.#preview = preview;
  }

  /** `seats` are the connection's configured pool sizes, which a real run writes to the pools first. */
  static async open(
    pools: LicenseStore,
    division: string,
    seats: Readonly<Record<string, number>>,
    preview: boolean,
  ): Promise<SeatLedger> {
    const ledger = new SeatLedger(pools, division, preview);
    if (preview) {
      const stored = new Map((await pools.list(division)).map((pool) => [pool.license, pool]));
      for (const license of new Set([...Object.keys(seats), ...stored.keys()])) {
        const pool = stored.get(license);
        ledger.#free.set(license, Math.max(0, (seats[license] ?? pool?.seats ?? 0) - (pool?.used ?? 0)));
      }
    }
    return ledger;
  }

  /** Takes from the pools the seats a page may need (a real run) or nothing (a preview). */
  async reserve(wanted: ReadonlyMap<string, number>): Promise<void> {
    for (const [license, count] of wanted) {
      this.demand.set(license, (this.demand.get(license) ?? 0) + count);
      if (this.#preview) continue;
      const taken = await this.#pools.take(this.#division, license, count);
      this.#free.set(license, (this.#free.get(license) ?? 0) + taken);
    }
  }

  /** Free seats per licence right now, as decide() wants them. */
  freeSeats(): Record<string, number> {
    return Object.fromEntries(this.#free);
  }

  spend(license: string): void {
    this.#free.set(license, (this.#free.get(license) ?? 0) - 1);
  }

  /** A user gave up a seat (licence changed or user deleted). */
  release(license: string): void {
    this.#freed.set(license, (this.#freed.get(license) ?? 0) + 1);
    if (this.#preview) this.#free.set(license, (this.#free.get(license) ?? 0) + 1);
  }

  /** After a page is written: gives back reserved seats that were not spent, and freed ones. */
  async settle(): Promise<void> {
    if (this.#preview) {
      this.#freed.clear();
      return;
    }
    const giveBack = new Map(this.#freed);
    for (const [license, free] of this.#free)
      giveBack.set(license, (giveBack.get(license) ?? 0) + Math.max(0, free));
    this.#free.clear();
    this.#freed.clear();
    for (const [license, count] of giveBack) await this.#pools.giveBack(this.#division, license, count);
  }
}
