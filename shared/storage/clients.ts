import { TableClient, TableServiceClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { QueueClient } from '@azure/storage-queue';
import type { StorageSettings } from '../settings.js';

/**
 * Builds table and queue clients from the storage settings, once per process. A connection string is
 * for local work (Azurite); in Azure the app uses its managed identity and the service URIs, never keys.
 */
export interface StorageClients {
  table(name: string): TableClient;
  tableService(): TableServiceClient;
  queue(name: string): QueueClient;
}

/** Azurite's well-known development connection, which "UseDevelopmentStorage=true" stands for. */
const DEVELOPMENT_STORAGE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;' +
  'TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

function expand(connectionString: string): string {
  return connectionString.trim().replace(/;$/, '') === 'UseDevelopmentStorage=true'
    ? DEVELOPMENT_STORAGE
    : connectionString;
}

function isHttp(connectionString: string): boolean {
  return /(?:^|;)\s*(?:DefaultEndpointsProtocol=http|\w+Endpoint=http:)/i.test(connectionString);
}

export function createStorageClients(storage: StorageSettings, credential?: TokenCredential): StorageClients {
  if (storage.kind === 'connectionString') {
    const connectionString = expand(storage.connectionString);
    const allowInsecureConnection = isHttp(connectionString);
    return {
      table: (name) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection }),
      tableService: () =>
        TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection }),
      queue: (name) => new QueueClient(connectionString, name),
    };
  }
  const identity =
    credential ??
    (storage.clientId
      ? new ManagedIdentityCredential({ clientId: storage.clientId })
      : new DefaultAzureCredential());
  const tableUri = storage.tableServiceUri ?? `https://${storage.accountName ?? ''}.table.core.windows.net`;
  const queueUri = storage.queueServiceUri ?? `https://${storage.accountName ?? ''}.queue.core.windows.net`;
  return {
    table: (name) => new TableClient(tableUri, name, identity),
    tableService: () => new TableServiceClient(tableUri, identity),
    queue: (name) => new QueueClient(`${queueUri.replace(/\/$/, '')}/${name}`, identity),
  };
}
