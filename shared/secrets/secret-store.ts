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

export function describeReference(reference: SecretReference): string {
  return 'env' in reference
    ? `environment variable ${reference.env}`
    : `Key Vault secret ${reference.keyVault}`;
}

/**
 * Development secrets: `{ "env": "NAME" }` from the process environment. A Key Vault reference needs
 * KEY_VAULT_URL; without it this store says so.
 */
export class EnvironmentSecretStore implements SecretStore {
  readonly #env: Readonly<Record<string, string | undefined>>;
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
}
