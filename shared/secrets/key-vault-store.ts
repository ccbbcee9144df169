import { setTimeout as delay } from 'node:timers/promises';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions, type SecretProperties } from '@azure/keyvault-secrets';
import type { SecretReference } from '../config/connection.js';
import { SettingsError, type EntraSyncErrorOptions } from '../errors.js';
import type { Settings } from '../settings.js';
import { EnvironmentSecretStore, type AppSecretStore } from './secret-store.js';

/**
 * Secrets from Azure Key Vault, read with the app's managed identity. Connections refer to secrets by
 * name; values are fetched when needed and never logged, cached in settings or put in an error. Every
 * failure names the secret and the vault, and says what to do.
 */

export type KeyVaultProblem =
  | 'secret_not_found'
  | 'secret_disabled'
  | 'secret_deleted'
  | 'secret_empty'
  | 'forbidden'
  | 'unauthorized'
  | 'identity_unavailable'
  | 'unreachable';

export class KeyVaultError extends SettingsError {
  readonly problem: KeyVaultProblem;
  readonly secretName: string;
  /** The vault's URL. */
  readonly vault: string;

  constructor(
    message: string,
    options: EntraSyncErrorOptions & { problem: KeyVaultProblem; secretName: string; vault: string },
  ) {
    super(message, options);
    this.problem = options.problem;
    this.secretName = options.secretName;
    this.vault = options.vault;
  }
}

export interface KeyVaultSecretStoreOptions extends SecretClientOptions {
  /** Where `{ "env": NAME }` references are read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * How long getOrCreate waits after creating a key before it reads which version won, so that
   * another instance racing it has written its version too. Default 2000 ms.
   */
  readonly createSettleMs?: number;
}

type Action = 'read' | 'list' | 'create';

const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const IDENTITY_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);
const NETWORK_CODES = new Set([
  'REQUEST_SEND_ERROR',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface RestFailure {
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  readonly innerCode: string | undefined;
}

/** The status and codes of a RestError, read by shape: the SDKs may each bundle their own RestError class. */
function restFailure(error: unknown): RestFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const candidate = error as Error & { statusCode?: unknown; code?: unknown; details?: unknown };
  const isRest = error.name === 'RestError' || typeof candidate.statusCode === 'number';
  if (!isRest && typeof candidate.code !== 'string') return undefined;
  const details = candidate.details as
    { error?: { code?: unknown; innerError?: { code?: unknown } | null } | null } | undefined;
  const inner = details?.error?.innerError?.code;
  const outer = details?.error?.code;
  return {
    statusCode: typeof candidate.statusCode === 'number' ? candidate.statusCode : undefined,
    code: typeof outer === 'string' ? outer : typeof candidate.code === 'string' ? candidate.code : undefined,
    innerCode: typeof inner === 'string' ? inner : undefined,
  };
}

function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

function compareAge(a: SecretProperties, b: SecretProperties): number {
  const created = (a.createdOn?.getTime() ?? 0) - (b.createdOn?.getTime() ?? 0);
  if (created !== 0) return created;
  const left = a.version ?? '';
  const right = b.version ?? '';
  return left < right ? -1 : left > right ? 1 : 0;
}

export class KeyVaultSecretStore implements AppSecretStore {
  readonly vaultUrl: string;
  readonly #client: SecretClient;
  readonly #environment: EnvironmentSecretStore;
  readonly #settleMs: number;

  constructor(vaultUrl: string, credential: TokenCredential, options: KeyVaultSecretStoreOptions = {}) {
    const { env, createSettleMs, ...clientOptions } = options;
    let url: URL;
    try {
      url = new URL(vaultUrl);
    } catch {
      throw new SettingsError(`KEY_VAULT_URL "${vaultUrl}" is not a URL.`, {
        nextStep: 'Set KEY_VAULT_URL to the vault URI, for example https://kv-entrasync.vault.azure.net.',
      });
    }
    this.vaultUrl = url.origin;
    this.#client = new SecretClient(this.vaultUrl, credential, clientOptions);
    this.#environment = new EnvironmentSecretStore(env);
    this.#settleMs = createSettleMs ?? 2000;
  }

  async resolve(reference: SecretReference): Promise<string> {
    // An app setting may itself be a Key Vault reference, which the platform resolves.
    if ('env' in reference) return await this.#environment.resolve(reference);
    const name = this.#checkName(reference.keyVault);
    const secret = await this.#call(name, 'read', async () => await this.#client.getSecret(name));
    return this.#valueOf(name, secret.value);
  }

  /**
   * The app's own key `name`, created (with `generate`) when the vault has none. Key Vault has no
   * create-if-absent, so two instances starting together may both create a version; every instance
   * then takes the OLDEST enabled version (by creation time, then version id), which all of them agree
   * on once both writes are visible (hence the short settle wait after creating). To rotate the key,
   * disable its version: the next call creates a new one.
   */
  async getOrCreate(name: string, generate: () => string): Promise<string> {
    this.#checkName(name);
    let chosen = await this.#oldestEnabledVersion(name);
    if (chosen === undefined) {
      await this.#call(
        name,
        'create',
        async () =>
          await this.#client.setSecret(name, generate(), {
            contentType: 'application/octet-stream; encoding=base64url',
            tags: { 'created-by': 'EntraSync' },
          }),
      );
      if (this.#settleMs > 0) await delay(this.#settleMs);
      chosen = await this.#oldestEnabledVersion(name);
      if (chosen === undefined) {
        throw this.#error(name, 'secret_disabled', `was created but has no enabled version`, 'read');
      }
    }
    const version = chosen.version;
    const secret = await this.#call(
      name,
      'read',
      async () => await this.#client.getSecret(name, version === undefined ? {} : { version }),
    );
    return this.#valueOf(name, secret.value);
  }

  async #oldestEnabledVersion(name: string): Promise<SecretProperties | undefined> {
    const versions: SecretProperties[] = [];
    try {
      for await (const properties of this.#client.listPropertiesOfSecretVersions(name)) {
        versions.push(properties);
      }
    } catch (error) {
      if (restFailure(error)?.statusCode === 404) return undefined;
      throw this.#map(error, name, 'list');
    }
    const now = Date.now();
    return versions
      .filter(
        (v) =>
          v.enabled !== false &&
          (v.notBefore === undefined || v.notBefore.getTime() <= now) &&
          (v.expiresOn === undefined || v.expiresOn.getTime() > now),
      )
      .sort(compareAge)[0];
  }

  #checkName(name: string): string {
    if (!SECRET_NAME.test(name)) {
      throw new SettingsError(`"${name}" is not a Key Vault secret name.`, {
        nextStep: 'Use 1-127 letters, digits and dashes.',
      });
    }
    return name;
  }

  #valueOf(name: string, value: string | undefined): string {
    if (value === undefined || value === '') {
      throw this.#error(name, 'secret_empty', 'is empty', 'read');
    }
    return value;
  }

  async #call<T>(name: string, action: Action, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#map(error, name, action);
    }
  }

  #error(
    name: string,
    problem: KeyVaultProblem,
    what: string,
    action: Action,
    extra: { cause?: unknown; details?: unknown } = {},
  ): KeyVaultError {
    const subject = `Key Vault secret "${name}" in vault ${this.vaultUrl}`;
    const role = action === 'create' ? 'Key Vault Secrets Officer' : 'Key Vault Secrets User';
    const nextSteps: Record<KeyVaultProblem, string> = {
      secret_not_found: `Create the secret "${name}" in ${this.vaultUrl} (or fix the reference in the connection).`,
      secret_disabled: `Enable the secret "${name}" (or a version of it) in ${this.vaultUrl}.`,
      secret_deleted: `Recover the deleted secret "${name}" in ${this.vaultUrl}, or purge it so that it can be created again.`,
      secret_empty: `Store the value in the secret "${name}" in ${this.vaultUrl}.`,
      forbidden:
        `Grant the app's managed identity (AZURE_CLIENT_ID) the ${role} role on the vault ${this.vaultUrl}` +
        (action === 'create' ? '' : ` or on the secret "${name}"`) +
        ' (the vault must use Azure RBAC); if the vault has a firewall, let the Function app through.',
      unauthorized: `Check that the vault ${this.vaultUrl} is in the tenant of the app's managed identity.`,
      identity_unavailable:
        "In Azure, give the Function app its user-assigned identity and set AZURE_CLIENT_ID to that identity's " +
        'client id; locally, sign in with `az login` or leave KEY_VAULT_URL unset.',
      unreachable: `Check KEY_VAULT_URL (${this.vaultUrl}) and that the app can reach the vault (DNS, firewall, private endpoint).`,
    };
    return new KeyVaultError(`${subject} ${what}.`, {
      problem,
      secretName: name,
      vault: this.vaultUrl,
      nextStep: nextSteps[problem],
      ...extra,
    });
  }

  /**
   * Maps an SDK failure. The RestError itself is never kept as the cause: on a create its request
   * holds the new value.
   */
  #map(error: unknown, name: string, action: Action): Error {
    const verb = action === 'create' ? 'create' : action === 'list' ? 'list the versions of' : 'read';
    if (error instanceof Error && IDENTITY_ERRORS.has(error.name)) {
      return this.#error(
        name,
        'identity_unavailable',
        `could not be read: the app's identity could not get a token for Key Vault (${error.name})`,
        action,
        { cause: error },
      );
    }
    const rest = restFailure(error);
    const details = rest
      ? { status: rest.statusCode, code: rest.code, innerCode: rest.innerCode }
      : undefined;
    const status = rest?.statusCode;
    if (status === 404) return this.#error(name, 'secret_not_found', 'was not found', action, { details });
    if (status === 403) {
      if (rest?.innerCode === 'SecretDisabled') {
        return this.#error(name, 'secret_disabled', 'is disabled', action, { details });
      }
      const firewall = rest?.innerCode === 'ForbiddenByFirewall' || rest?.code === 'ForbiddenByFirewall';
      return this.#error(
        name,
        'forbidden',
        firewall
          ? `could not be read: the vault's firewall refused the app (403)`
          : `may not be ${action === 'create' ? 'created' : 'read'} by the app's identity (403 Forbidden)`,
        action,
        { details },
      );
    }
    if (status === 401) {
      return this.#error(
        name,
        'unauthorized',
        "could not be read: the vault rejected the app's token (401)",
        action,
        {
          details,
        },
      );
    }
    if (status === 409 && action === 'create') {
      return this.#error(
        name,
        'secret_deleted',
        'is deleted but kept for recovery, so it cannot be created',
        action,
        {
          details,
        },
      );
    }
    const network =
      networkCode(error) ??
      (rest?.statusCode === undefined && rest?.code !== undefined && NETWORK_CODES.has(rest.code)
        ? rest.code
        : undefined);
    if (network !== undefined) {
      return this.#error(name, 'unreachable', `could not be reached to ${verb} it (${network})`, action, {
        details,
      });
    }
    // Throttling and server errors the SDK already retried, and bugs: unexpected, so rethrown as they are.
    return error instanceof Error ? error : new Error(`Key Vault call failed: ${String(error)}`);
  }
}

export interface CreateSecretStoreOptions {
  /** Default: DefaultAzureCredential (the managed identity in Azure, the developer's sign-in locally). */
  readonly credential?: TokenCredential;
  readonly clientOptions?: Omit<KeyVaultSecretStoreOptions, 'env'>;
}

/** The Key Vault store when KEY_VAULT_URL is set, else the environment (development only). */
export function createSecretStore(
  settings: Pick<Settings, 'KEY_VAULT_URL' | 'AZURE_CLIENT_ID'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: CreateSecretStoreOptions = {},
): AppSecretStore {
  if (settings.KEY_VAULT_URL === undefined) return new EnvironmentSecretStore(env);
  const credential =
    options.credential ??
    new DefaultAzureCredential(
      settings.AZURE_CLIENT_ID === undefined ? {} : { managedIdentityClientId: settings.AZURE_CLIENT_ID },
    );
  return new KeyVaultSecretStore(settings.KEY_VAULT_URL, credential, { ...options.clientOptions, env });
}
