import { createAdminAuthenticatorFromSettings, type AdminAuthenticator } from '../shared/auth/admin-auth.js';
import { createConsentService, type ConsentService } from '../shared/consent/consent-service.js';
import { CONSENT_NONCES_TABLE, ConsentNonceStore } from '../shared/consent/state.js';
import { createSecretStore } from '../shared/secrets/key-vault-store.js';
import type { SecretStore } from '../shared/secrets/secret-store.js';
import { loadSettings, type Settings } from '../shared/settings.js';
import { createStorageClients, type StorageClients } from '../shared/storage/clients.js';
import { StorageWorkQueue } from '../shared/storage/work-queue.js';
import type { ImportJobs } from '../shared/sync/import-jobs.js';
import { SyncService } from '../shared/sync/service.js';

/**
 * What every function of the app uses, built once per process from the settings: a missing or bad
 * setting fails the first invocation with its name, instead of half-working.
 */
export interface AppContext {
  readonly settings: Settings;
  readonly storage: StorageClients;
  readonly service: SyncService;
  readonly jobs: ImportJobs;
  readonly consent: ConsentService;
  /** The spent consent states, which the timer clears once they have expired. */
  readonly consentNonces: ConsentNonceStore;
  readonly admin: AdminAuthenticator;
}

export interface AppContextOptions {
  /** Defaults to the Key Vault store when KEY_VAULT_URL is set, else the environment. */
  readonly secrets?: SecretStore & Parameters<typeof createConsentService>[0]['secrets'];
  /** PEM of a CA for a local simulated tenant (tests and `npm run dev`); production passes none. */
  readonly trustedCa?: string;
}

export async function buildAppContext(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: AppContextOptions = {},
): Promise<AppContext> {
  const settings = loadSettings(env);
  const storage = createStorageClients(settings.storage);
  const secrets = options.secrets ?? createSecretStore(settings, env);
  const trusted = options.trustedCa === undefined ? {} : { trustedCa: options.trustedCa };
  const service = new SyncService({
    storage,
    tablePrefix: settings.TABLE_PREFIX,
    secrets,
    graph: { retryBudgetSeconds: settings.GRAPH_RETRY_BUDGET_SECONDS, ...trusted },
  });
  await service.initialize();
  const jobs = service.importJobs(new StorageWorkQueue(storage.queue(settings.IMPORT_QUEUE_NAME)));
  const consent = createConsentService({ connections: service, secrets, storage, settings, ...trusted });
  const admin = createAdminAuthenticatorFromSettings(
    settings,
    options.trustedCa === undefined ? {} : { ca: options.trustedCa },
  );
  const consentNonces = new ConsentNonceStore(
    storage.table(`${settings.TABLE_PREFIX}${CONSENT_NONCES_TABLE}`),
  );
  return { settings, storage, service, jobs, consent, consentNonces, admin };
}

let current: Promise<AppContext> | undefined;

/** The process's context, built on first use. */
export async function appContext(): Promise<AppContext> {
  current ??= buildAppContext().catch((error: unknown) => {
    current = undefined; // the next invocation tries again (a setting may have been fixed)
    throw error;
  });
  return await current;
}

/** For tests and the local dev server: use this context instead of one built from process.env. */
export function useAppContext(context: AppContext | undefined): void {
  current = context === undefined ? undefined : Promise.resolve(context);
}
