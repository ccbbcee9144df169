import { TableClient } from '@azure/data-tables';
import { afterAll, inject } from 'vitest';
import { uniqueName } from './names.js';

/**
 * Throwaway tables in Azurite for one test file: each call makes a table no other test uses, and all
 * of them are deleted after the file's tests.
 */
export function useFreshTables(): () => Promise<TableClient> {
  const connectionString = inject('azuriteConnectionString');
  const tables: TableClient[] = [];
  afterAll(async () => {
    await Promise.all(
      tables.map(async (table) => {
        await table.deleteTable();
      }),
    );
  });
  return async () => {
    const table = TableClient.fromConnectionString(connectionString, uniqueName('t'), {
      allowInsecureConnection: true,
    });
    await table.createTable();
    tables.push(table);
    return table;
  };
}
