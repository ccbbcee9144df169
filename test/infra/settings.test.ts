import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadSettings, settingsSchema } from '../../shared/settings.js';
import type { BicepFile, Literal, Node } from './bicep.js';
import { INFRA, bicepFiles, callArguments, callee, compact, literal, loadBicep, property } from './bicep.js';
import { appSettings } from './checks.js';

/**
 * Infra and the settings schema (shared/settings.ts) must agree: every setting the schema requires is
 * set, every setting infra sets is one the app (or the Functions host) reads, and where infra writes
 * a plain default it is the schema's default.
 */

const files: BicepFile[] = bicepFiles().map((file) => loadBicep(file));
const main = files.find((file) => file.file === 'infra/main.bicep');
const settingsModule = files.find((file) => file.file === 'infra/app/app-settings.bicep');
const parameterFile = JSON.parse(readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')) as {
  parameters: Record<string, { value: unknown }>;
};
const infraSettings = appSettings(files);

/**
 * Settings the Functions host or the platform owns: the app never reads them, so the schema does not
 * list them. FUNCTIONS_* are not even allowed on Flex Consumption (functionAppConfig.runtime replaces
 * them); they stay here so that a template for another plan would not be flagged.
 */
const HOST_OWNED = new Set([
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'WEBSITE_HOSTNAME',
]);

/**
 * AzureWebJobsStorage__<key>: the identity-based form of AzureWebJobsStorage, which the host and the
 * app (readStorage in shared/settings.ts) both read. These are the keys of that form.
 */
const STORAGE_IDENTITY_KEYS = new Set([
  'accountName',
  'blobServiceUri',
  'queueServiceUri',
  'tableServiceUri',
  'credential',
  'clientId',
]);

type Shape = Readonly<Record<string, { safeParse(value: unknown): { success: boolean } }>>;

/** What is wrong between a schema shape and the names infra sets. */
function drift(shape: Shape, infraKeys: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const identityStorage = [...infraKeys].some((key) => key.startsWith('AzureWebJobsStorage__'));
  for (const [name, schema] of Object.entries(shape)) {
    const required = !schema.safeParse(undefined).success;
    const set = infraKeys.has(name) || (name === 'AzureWebJobsStorage' && identityStorage);
    if (required && !set) problems.push(`${name}: the schema requires it and infra never sets it`);
  }
  for (const key of infraKeys) {
    if (key in shape || HOST_OWNED.has(key)) continue;
    const storageKey = /^AzureWebJobsStorage__(.+)$/.exec(key)?.[1];
    if (storageKey !== undefined && STORAGE_IDENTITY_KEYS.has(storageKey)) continue;
    problems.push(`${key}: infra sets it but the schema does not know it`);
  }
  return problems;
}

/** Follows a setting's value to a main.bicep parameter: its default, or main.parameters.json's ${VAR=default}. */
function plainDefault(value: Node): Literal | undefined {
  if (!main || !settingsModule) return undefined;
  const inner = callee(value) === 'string' ? callArguments(value)[0] : value;
  if (inner?.type !== 'identifier' || !settingsModule.params.some((param) => param.name === inner.text))
    return undefined;
  const call = main.modules.find((module) => module.path === 'app/app-settings.bicep');
  const passed = property(call?.body, `params.${inner.text}`);
  if (passed?.type !== 'identifier') return undefined;
  const param = main.params.find((candidate) => candidate.name === passed.text);
  if (!param) return undefined;
  const fromFile = parameterFile.parameters[param.name]?.value;
  const fileDefault = typeof fromFile === 'string' ? /^\$\{\w+=([^}]*)\}$/.exec(fromFile)?.[1] : undefined;
  return fileDefault ?? literal(param.defaultValue);
}

/** The schema's default for a setting: what it parses `undefined` to, when that is a plain value. */
function schemaDefault(name: string): Literal | undefined {
  const schema = (settingsSchema.shape as Readonly<Record<string, z.ZodType | undefined>>)[name];
  const parsed = schema?.safeParse(undefined);
  const value: unknown = parsed?.success ? parsed.data : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : undefined;
}

describe('app settings against the settings schema', () => {
  const keys = new Set(infraSettings.map((setting) => setting.key));

  it('finds the app settings', () => {
    expect(keys.size).toBeGreaterThan(10);
    expect(infraSettings.every((setting) => setting.file === settingsModule)).toBe(true);
  });

  it('sets every setting the schema requires and no setting the schema does not know', () => {
    expect(drift(settingsSchema.shape, keys)).toEqual([]);
  });

  it('catches a new required setting and an unknown one', () => {
    const grown = { ...settingsSchema.shape, SYNC_REGION: z.string() };
    expect(drift(grown, keys)).toEqual(['SYNC_REGION: the schema requires it and infra never sets it']);
    expect(
      drift(settingsSchema.shape, new Set([...keys, 'SYNC_SHEDULE', 'AzureWebJobsStorage__accountKey'])),
    ).toEqual([
      'SYNC_SHEDULE: infra sets it but the schema does not know it',
      'AzureWebJobsStorage__accountKey: infra sets it but the schema does not know it',
    ]);
  });

  it('writes the schema defaults where it writes a plain default', () => {
    const compared: string[] = [];
    for (const setting of infraSettings) {
      const expected = schemaDefault(setting.key);
      const actual = plainDefault(setting.value);
      if (expected === undefined || actual === undefined) continue;
      compared.push(setting.key);
      expect(String(actual), setting.key).toBe(String(expected));
    }
    // SYNC_SCHEDULE, IMPORT_QUEUE_NAME, TABLE_PREFIX, GRAPH_RETRY_BUDGET_SECONDS, CONSENT_STATE_SECRET_NAME
    expect(compared.length).toBeGreaterThanOrEqual(5);
  });

  it('produces settings that loadSettings accepts, with identity-based storage', () => {
    const placeholder = (key: string): string =>
      /(Uri|_URI|_URL|_HOST)$/.test(key)
        ? 'https://placeholder.example/'
        : /TENANT_ID$/.test(key)
          ? '00000000-0000-4000-8000-000000000000'
          : 'placeholder';
    const env = Object.fromEntries(
      infraSettings.map(({ key, value }) => {
        const known = literal(value) ?? plainDefault(value);
        return [key, known === undefined || known === null ? placeholder(key) : String(known)];
      }),
    );
    const settings = loadSettings(env);
    expect(settings.storage.kind).toBe('identity');
    expect(settings.storage).toMatchObject({ credential: 'managedidentity', clientId: 'placeholder' });
    expect(settings.IMPORT_QUEUE_NAME).toBe('entrasync-import');
    expect(settings.SYNC_SCHEDULE).toBe('0 */15 * * * *');
  });
});

describe('app settings', () => {
  const byKey = new Map(infraSettings.map((setting) => [setting.key, compact(setting.value)]));

  it('reach storage with the identity, never a connection string', () => {
    expect(byKey.has('AzureWebJobsStorage')).toBe(false);
    expect(byKey.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(byKey.get('AzureWebJobsStorage__clientId')).toBe('identityClientId');
    for (const service of ['blob', 'queue', 'table']) {
      expect(byKey.get(`AzureWebJobsStorage__${service}ServiceUri`)).toBe(
        `storage.properties.primaryEndpoints.${service}`,
      );
    }
  });

  it('send telemetry with the identity', () => {
    expect(byKey.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
    expect(byKey.get('AZURE_CLIENT_ID')).toBe('identityClientId');
    expect(byKey.get('KEY_VAULT_URL')).toBe('vault.properties.vaultUri');
  });

  it('hold no secret: the settings module takes no @secure() parameter, and references are Key Vault references', () => {
    expect(settingsModule?.params.filter((param) => param.secure)).toEqual([]);
    expect(compact(settingsModule?.variables.get('secretReferences'))).toContain(
      "'@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${setting.secretName}/)'",
    );
  });
});
