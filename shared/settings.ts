import { z } from 'zod';
import { SettingsError } from './errors.js';

/**
 * Every setting the app reads, under the names the Function app uses (app settings in Azure,
 * local.settings.json locally, the environment for the CLI). Parsed once at start-up: a missing or
 * bad setting stops the process with its name, instead of a warning and a half-working app.
 */

const queueName = z
  .string()
  .regex(
    /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/,
    'must be 3-63 lowercase letters, digits and single hyphens',
  );

/** Six-field NCRONTAB, as the Functions timer trigger expects ({second} {minute} {hour} {day} {month} {day-of-week}). */
const ncrontab = z
  .string()
  .trim()
  .refine(
    (value) => value.split(/\s+/).length === 6,
    'must be a six-field NCRONTAB expression, e.g. "0 */15 * * * *"',
  );

const storageIdentity = z
  .object({
    accountName: z.string().min(3).optional(),
    blobServiceUri: z.url().optional(),
    queueServiceUri: z.url().optional(),
    tableServiceUri: z.url().optional(),
    credential: z.literal('managedidentity').optional(),
    clientId: z.string().min(1).optional(),
  })
  .refine((value) => value.accountName !== undefined || (value.queueServiceUri && value.tableServiceUri), {
    message: 'set AzureWebJobsStorage__accountName, or both __queueServiceUri and __tableServiceUri',
  });

export const settingsSchema = z.object({
  /** Storage for the Functions host, the import queue and the tables: a connection string (local). */
  AzureWebJobsStorage: z.string().min(1).optional(),
  /** The Key Vault that holds client secrets and the consent-state signing key. Unset: secrets come from the environment (development only). */
  KEY_VAULT_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** When the timer sync runs. */
  SYNC_SCHEDULE: ncrontab.default('0 */15 * * * *'),
  /** The storage queue that carries import work items. */
  IMPORT_QUEUE_NAME: queueName.default('entrasync-import'),
  /** Prefix of every table this app owns, so several installations can share an account. */
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,29}$/, 'must start with a letter and hold at most 30 letters and digits')
    .default('EntraSync'),
  /** The longest a run waits in total on Graph throttling (Retry-After) before it stops and says when to retry. */
  GRAPH_RETRY_BUDGET_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /** The Entra tenant whose administrators use the admin API and console (tokens are checked against it). */
  ADMIN_TENANT_ID: z.guid('must be the tenant id (a GUID)').optional(),
  /** The audience of admin tokens: the Application ID URI or client id of the EntraSync app registration. */
  ADMIN_API_AUDIENCE: z.string().min(1).optional(),
  /** Where admin tokens are issued; the global cloud unless the admins live in a national cloud. */
  ADMIN_AUTHORITY_HOST: z.url({ protocol: /^https$/ }).default('https://login.microsoftonline.com'),
  /** The admin consent callback as registered on the app; defaults to https://<WEBSITE_HOSTNAME>/api/consent/callback. */
  CONSENT_REDIRECT_URI: z.url({ protocol: /^https?$/ }).optional(),
  /** The Key Vault secret holding the key that signs consent state. */
  CONSENT_STATE_SECRET_NAME: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault secret name: letters, digits and dashes')
    .default('consent-state-key'),
  /** The Function app's host name, set by Azure; used for the default consent callback. */
  WEBSITE_HOSTNAME: z.string().min(1).optional(),
  /** The client id of the app's user-assigned managed identity, which DefaultAzureCredential uses. */
  AZURE_CLIENT_ID: z.string().min(1).optional(),
});

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | ({ kind: 'identity' } & z.infer<typeof storageIdentity>);

export type Settings = Omit<z.infer<typeof settingsSchema>, 'AzureWebJobsStorage'> & {
  storage: StorageSettings;
};

/** Azurite's default endpoints: what the CLI and `npm start` use when nothing is configured. */
export const LOCAL_STORAGE = 'UseDevelopmentStorage=true';

function describe(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const name = prefix + (issue.path.length > 0 ? issue.path.join('.') : '');
    return `${name || 'settings'}: ${issue.message}`;
  });
}

function readStorage(env: Readonly<Record<string, string | undefined>>): StorageSettings {
  const connectionString = env.AzureWebJobsStorage?.trim();
  if (connectionString) return { kind: 'connectionString', connectionString };
  const prefix = 'AzureWebJobsStorage__';
  const identityEntries = Object.entries(env).filter(([key]) => key.startsWith(prefix));
  if (identityEntries.length === 0) {
    throw new SettingsError('Setting AzureWebJobsStorage is missing.', {
      nextStep:
        'Set AzureWebJobsStorage to a storage connection string (locally "UseDevelopmentStorage=true" for Azurite), ' +
        'or use identity-based settings such as AzureWebJobsStorage__accountName.',
    });
  }
  const parsed = storageIdentity.safeParse(
    Object.fromEntries(identityEntries.map(([key, value]) => [key.slice(prefix.length), value])),
  );
  if (!parsed.success) {
    throw new SettingsError(`Invalid storage settings: ${describe(parsed.error.issues, prefix).join('; ')}`, {
      nextStep: 'Fix the AzureWebJobsStorage__* settings named above.',
    });
  }
  return { kind: 'identity', ...parsed.data };
}

/** Parses the settings once; throws a SettingsError naming every missing or bad setting. */
export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): Settings {
  const known = Object.fromEntries(
    Object.keys(settingsSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = settingsSchema.safeParse(known);
  if (!parsed.success) {
    throw new SettingsError(`Invalid settings: ${describe(parsed.error.issues).join('; ')}`, {
      nextStep:
        'Fix the settings named above (app settings in Azure, local.settings.json or the environment locally).',
    });
  }
  const { AzureWebJobsStorage: _connectionString, ...rest } = parsed.data;
  return { ...rest, storage: readStorage(env) };
}
