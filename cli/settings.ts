import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCAL_STORAGE, loadSettings, type Settings } from '../shared/settings.js';

/**
 * The CLI reads the same settings as the Function app: the environment first, then the Values of a
 * local.settings.json in the working directory, then local Azurite for storage.
 */
export function loadCliSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): { settings: Settings; env: Record<string, string | undefined> } {
  const merged: Record<string, string | undefined> = {};
  const file = resolve(cwd, 'local.settings.json');
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
    Object.assign(merged, parsed.Values ?? {});
  }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  const hasStorage = Object.keys(merged).some(
    (key) => key === 'AzureWebJobsStorage' || key.startsWith('AzureWebJobsStorage__'),
  );
  if (!hasStorage || merged.AzureWebJobsStorage === '') merged.AzureWebJobsStorage = LOCAL_STORAGE;
  return { settings: loadSettings(merged), env: merged };
}
