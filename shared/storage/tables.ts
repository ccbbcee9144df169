import type { TableClient } from '@azure/data-tables';
import type { StorageClients } from './clients.js';

/**
 * The tables this app owns, each named `<TABLE_PREFIX><Name>`. docs/data-model.md is the public
 * contract for their keys and properties: downstream applications read them.
 */
export const TABLE_NAMES = {
  connections: 'Connections',
  users: 'Users',
  emailClaims: 'EmailClaims',
  groups: 'Groups',
  groupMembers: 'GroupMembers',
  licenses: 'Licenses',
  cursors: 'Cursors',
  leases: 'Leases',
  runs: 'Runs',
  runLog: 'RunLog',
  heldActions: 'HeldActions',
  jobs: 'Jobs',
} as const;

export type TableKind = keyof typeof TABLE_NAMES;

/** Storage requests made through these clients, so run reports can say what a run cost. */
export class StorageMeter {
  #requests = 0;
  get requests(): number {
    return this.#requests;
  }
  count(): void {
    this.#requests += 1;
  }
}

export class Tables {
  readonly meter = new StorageMeter();
  readonly #clients = new Map<TableKind, TableClient>();
  readonly #storage: StorageClients;
  readonly #prefix: string;

  constructor(storage: StorageClients, prefix: string) {
    this.#storage = storage;
    this.#prefix = prefix;
  }

  name(kind: TableKind): string {
    return `${this.#prefix}${TABLE_NAMES[kind]}`;
  }

  client(kind: TableKind): TableClient {
    let client = this.#clients.get(kind);
    if (!client) {
      client = this.#storage.table(this.name(kind));
      const meter = this.meter;
      client.pipeline.addPolicy({
        name: 'entraSyncStorageMeter',
        async sendRequest(request, next) {
          meter.count();
          return await next(request);
        },
      });
      this.#clients.set(kind, client);
    }
    return client;
  }

  /** Creates every table that does not exist yet; safe to call on every start. */
  async ensureCreated(): Promise<void> {
    await Promise.all(
      (Object.keys(TABLE_NAMES) as TableKind[]).map(async (kind) => {
        await this.client(kind).createTable();
      }),
    );
  }
}
