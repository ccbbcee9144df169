import { RestError, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';

/** Azure Table Storage takes at most 100 operations in one transaction, all in one partition. */
export const MAX_TRANSACTION_SIZE = 100;

export interface BatchOptions {
  /** Transactions in flight at once. */
  concurrency?: number;
}

/** Runs `work` over `items` with at most `concurrency` in flight; the first failure rejects. */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(workers);
}

function partitionOf(action: TransactionAction): string {
  return action[1].partitionKey;
}

/** Splits actions into transactions: grouped by partition, at most 100 each, order kept within a partition. */
export function toTransactions(actions: readonly TransactionAction[]): TransactionAction[][] {
  const byPartition = new Map<string, TransactionAction[]>();
  for (const action of actions) {
    const key = partitionOf(action);
    const list = byPartition.get(key);
    if (list) list.push(action);
    else byPartition.set(key, [action]);
  }
  const transactions: TransactionAction[][] = [];
  for (const list of byPartition.values()) {
    for (let start = 0; start < list.length; start += MAX_TRANSACTION_SIZE) {
      transactions.push(list.slice(start, start + MAX_TRANSACTION_SIZE));
    }
  }
  return transactions;
}

/** Writes actions in partition transactions, several at once. Any failure rejects (the batch rolls back whole). */
export async function submitInTransactions(
  client: TableClient,
  actions: readonly TransactionAction[],
  options: BatchOptions = {},
): Promise<void> {
  await forEachBounded(toTransactions(actions), options.concurrency ?? 8, async (transaction) => {
    await client.submitTransaction(transaction);
  });
}

/** The index of the failing operation in a rejected transaction: the service's message starts "<index>:". */
function failedIndex(error: unknown): number | undefined {
  if (!(error instanceof RestError) || error.statusCode !== 409) return undefined;
  const match = /^(\d+):/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

/**
 * Inserts entities that must not exist yet, in transactions. An entity that already exists is left
 * alone and reported; the others are still inserted. Returns the row keys (with partition) that existed.
 */
export async function createAllOrReport<T extends TableEntity>(
  client: TableClient,
  entities: readonly T[],
  options: BatchOptions = {},
): Promise<T[]> {
  const existing: T[] = [];
  const actions: TransactionAction[] = entities.map((entity) => ['create', entity]);
  await forEachBounded(toTransactions(actions), options.concurrency ?? 8, async (transaction) => {
    let pending = transaction;
    while (pending.length > 0) {
      try {
        await client.submitTransaction(pending);
        return;
      } catch (error) {
        const index = failedIndex(error);
        const failed = index === undefined ? undefined : pending[index];
        if (index === undefined || !failed) throw error;
        existing.push(failed[1] as T);
        pending = pending.filter((_, position) => position !== index);
      }
    }
  });
  return existing;
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
