/** What a scenario process measures of its own work; the orchestrator adds Graph counts and memory. */
export interface Measured {
  /** Wall time of the work, without process start-up. */
  readonly seconds: number;
  /** Users read, imported, or synced (changed users a sync handled). */
  readonly usersProcessed: number;
  /** Table Storage requests the engine made (a 100-entity transaction is one); null where none. */
  readonly storageTransactions: number | null;
  /** CPU time of the measured work, when the process did more (a warm-up); else the whole process's. */
  readonly cpuSeconds?: number;
  readonly details: Readonly<Record<string, unknown>>;
}
