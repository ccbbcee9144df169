import type { QueueClient } from '@azure/storage-queue';

/**
 * Plays the Functions host's queue trigger against a real (Azurite) queue: several workers receive
 * messages, decode the base64 JSON, call the handler with the dequeue count, delete the message on
 * success, leave it to reappear on failure, and move it to the poison queue after maxDequeueCount
 * deliveries (host.json: extensions.queues.maxDequeueCount), as the host does.
 */
export interface QueueWorkerOptions {
  readonly workers: number;
  readonly maxDequeueCount: number;
  readonly visibilityTimeoutSeconds: number;
  /** Stops when this holds and the queue is empty. */
  readonly done: () => Promise<boolean>;
  readonly timeoutMs: number;
  /**
   * How long a worker waits after finding the queue empty: from `minMs`, doubling up to `maxMs`, back
   * to `minMs` once it finds a message (the host backs off like this, up to maxPollingInterval).
   * Default 50 ms flat.
   */
  readonly idlePoll?: { readonly minMs: number; readonly maxMs: number };
}

export async function runQueueWorkers(
  queue: QueueClient,
  poison: QueueClient,
  handler: (message: unknown, dequeueCount: number) => Promise<void>,
  onPoison: (message: unknown, dequeueCount: number) => Promise<void>,
  options: QueueWorkerOptions,
): Promise<{ handled: number; failed: number; poisoned: number; lastError?: string }> {
  const deadline = Date.now() + options.timeoutMs;
  const stats: { handled: number; failed: number; poisoned: number; lastError?: string } = {
    handled: 0,
    failed: 0,
    poisoned: 0,
  };
  await poison.createIfNotExists();
  const { minMs, maxMs } = options.idlePoll ?? { minMs: 50, maxMs: 50 };
  const worker = async (): Promise<void> => {
    let idleMs = minMs;
    while (Date.now() < deadline) {
      const { receivedMessageItems } = await queue.receiveMessages({
        numberOfMessages: 1,
        visibilityTimeout: options.visibilityTimeoutSeconds,
      });
      const [item] = receivedMessageItems;
      if (!item) {
        if (await options.done()) return;
        await new Promise((resolve) => setTimeout(resolve, idleMs));
        idleMs = Math.min(maxMs, idleMs * 2);
        continue;
      }
      idleMs = minMs;
      const message: unknown = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8'));
      if (item.dequeueCount > options.maxDequeueCount) {
        await poison.sendMessage(item.messageText);
        await queue.deleteMessage(item.messageId, item.popReceipt);
        await onPoison(message, item.dequeueCount);
        stats.poisoned += 1;
        continue;
      }
      try {
        await handler(message, item.dequeueCount);
        await queue.deleteMessage(item.messageId, item.popReceipt);
        stats.handled += 1;
      } catch (error) {
        stats.failed += 1; // left on the queue: it comes back after the visibility timeout
        stats.lastError = error instanceof Error ? error.message : String(error);
      }
    }
    throw new Error('the queue workers ran out of time');
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  return stats;
}
