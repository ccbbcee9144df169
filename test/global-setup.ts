import type { TestProject } from 'vitest/node';
import { startAzurite } from './harness/azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/** One Azurite for the whole run; tests isolate themselves with unique table and queue names. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite();
  project.provide('azuriteConnectionString', azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}
