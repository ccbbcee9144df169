import { inject, describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/settings.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { uniqueName } from '../harness/names.js';

describe('storage clients against Azurite', () => {
  const settings = loadSettings({ AzureWebJobsStorage: inject('azuriteConnectionString') });
  const clients = createStorageClients(settings.storage);

  it('round-trips an entity through a real TableClient', async () => {
    const table = clients.table(uniqueName('t'));
    await table.createTable();
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 42 }, 'Replace');
    const entity = await table.getEntity<{ value: number }>('p', 'r');
    expect(entity.value).toBe(42);
    await table.deleteTable();
  });

  it('round-trips a message through a real QueueClient', async () => {
    const queue = clients.queue(uniqueName('q'));
    await queue.create();
    await queue.sendMessage('hello');
    const received = await queue.receiveMessages({ numberOfMessages: 1 });
    expect(received.receivedMessageItems[0]?.messageText).toBe('hello');
    await queue.delete();
  });
});
