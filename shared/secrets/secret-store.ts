import { randomBytes } from 'node:crypto';
import type { SecretReference } from '../config/connection.js';
import { SettingsError } from '../errors.js';

/**
 * Where client secrets and certificates come from. Connections hold references only; the value is
 * fetched when a run needs it and never logged, stored or put in an error message.
 */
export interface SecretStore {
  /** Resolves a reference to the secret's value; throws a SettingsError naming the reference (not the value). */
  resolve(reference: SecretReference): Promise<string>;
}

/**
 * A secret store that can also keep keys the app makes for itself (the consent-state signing key):
 * `getOrCreate` returns the stored value, creating it with `generate` when there is none. Two
 * instances racing to create it end with the same value.
 */
export interface KeyStore {
  getOrCreate(name: string, generate: () => string): Promise<string>;
}

export type AppSecretStore = SecretStore & KeyStore;

/** 32 random bytes, base64url: a fresh HMAC-SHA256 key. */
export function generateSigningKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The environment variable that stands for a key name without Key Vault: consent-state-key -> CONSENT_STATE_KEY. */
export function environmentNameOf(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function describeReference(reference: SecretReference): string {
  return 'env' in reference
    ? `environment variable ${reference.env}`
    : `Key Vault secret ${reference.keyVault}`;
}

/**
 * Development secrets: `{ "env": "NAME" }` from the process environment. A Key Vault reference needs
 * KEY_VAULT_URL; without it this store says so.
 */
export class EnvironmentSecretStore implements AppSecretStore {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #generated = new Map<string, string>();
  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#env = env;
  }

  resolve(reference: SecretReference): Promise<string> {
    if ('keyVault' in reference) {
      return Promise.reject(
        new SettingsError(
          `The connection refers to ${describeReference(reference)}, but KEY_VAULT_URL is not set.`,
          {
            nextStep:
              'Set KEY_VAULT_URL to the vault that holds the secret, or refer to an environment variable instead.',
          },
        ),
      );
    }
    const value = this.#env[reference.env];
    if (value === undefined || value === '') {
      return Promise.reject(
        new SettingsError(`${describeReference(reference)} is not set.`, {
          nextStep: `Set ${reference.env} to the app registration's client secret (or fix the reference in the connection).`,
        }),
      );
    }
    return Promise.resolve(value);
  }

  /**
   * Development only: the key from the environment variable named after it (consent-state-key ->
   * CONSENT_STATE_KEY), else one made for this process, which dies with it (consent links then work
   * only within one process). Production sets KEY_VAULT_URL and gets the Key Vault store.
   */
  getOrCreate(name: string, generate: () => string): Promise<string> {
    const fromEnvironment = this.#env[environmentNameOf(name)];
    if (fromEnvironment !== undefined && fromEnvironment !== '') return Promise.resolve(fromEnvironment);
    let value = this.#generated.get(name);
    if (value === undefined) {
      value = generate();
      this.#generated.set(name, value);
    }
    return Promise.resolve(value);
  }
}
