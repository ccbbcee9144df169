import type { QueueClient } from '@azure/storage-queue';
import type { ImportJobMessage, WorkQueue } from '../sync/import-jobs.js';

/**
 * The import queue on Azure Storage. Messages are JSON in base64, which is what the Functions queue
 * trigger decodes by default (it then hands the handler the parsed object).
 */
export class StorageWorkQueue implements WorkQueue {
  readonly #client: QueueClient;
  #created = false;

  constructor(client: QueueClient) {
    this.#client = client;
  }

  async send(message: ImportJobMessage): Promise<void> {
    if (!this.#created) {
      await this.#client.createIfNotExists();
      this.#created = true;
    }
    await this.#client.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
  }
}
