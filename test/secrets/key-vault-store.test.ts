import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';
import { CredentialUnavailableError } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../shared/errors.js';
import {
  KeyVaultError,
  KeyVaultSecretStore,
  createSecretStore,
  type KeyVaultSecretStoreOptions,
} from '../../shared/secrets/key-vault-store.js';
import { EnvironmentSecretStore, generateSigningKey } from '../../shared/secrets/secret-store.js';
import { expectNoSecretLeak, findSecretLeaks } from '../harness/secret-leak.js';
import { fixedTokenCredential, simulatorVaultCredential } from '../keyvault/credentials.js';
import { startFakeKeyVault, type FakeKeyVault } from '../keyvault/fake-key-vault.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { secretCredential } from '../simulator/test-clients.js';

/**
 * The Key Vault store with the real SecretClient and the real @azure/identity ClientSecretCredential
 * against a local Key Vault that checks the tokens' signatures with the simulated tenant's keys.
 */

let sim: Simulator;
let vault: FakeKeyVault;
let tenantId: string;
let counter = 0;

function uniqueSecretName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function clientOptions(target: FakeKeyVault = vault): KeyVaultSecretStoreOptions {
  return {
    disableChallengeResourceVerification: true,
    ...(target.ca ? { tlsOptions: { ca: target.ca } } : { allowInsecureConnection: true }),
    retryOptions: { maxRetries: 0 },
    createSettleMs: 150,
  };
}

function newStore(options: Partial<KeyVaultSecretStoreOptions> = {}): KeyVaultSecretStore {
  return new KeyVaultSecretStore(vault.url, secretCredential(sim), { ...clientOptions(), ...options });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sim = await startSimulator({ quirks: false, tenants: [{ users: 3, groups: 1 }] });
  tenantId = sim.tenant().tenantId;
  // The challenge names the simulator as the authority and its Graph URL as the resource, so that the
  // real ClientSecretCredential gets a token from the simulator's token endpoint; the vault checks it
  // against the simulator's JWKS, audience and tenant.
  vault = await startFakeKeyVault({
    tenantId,
    authorityHost: sim.authorityHost,
    resource: sim.graphBaseUrl,
    trust: { jwksUri: `${sim.authorityHost}/${tenantId}/discovery/v2.0/keys`, ca: sim.ca },
  });
});

afterAll(async () => {
  await vault.close();
  await sim.close();
});

describe('resolve', () => {
  it('reads an existing secret after the challenge, with a token the vault verified', async () => {
    const name = uniqueSecretName('client-secret');
    const value = `value-${generateSigningKey()}`;
    vault.setSecret(name, value);
    const before = vault.requests.length;

    expect(await newStore().resolve({ keyVault: name })).toBe(value);

    const requests = vault.requests.slice(before);
    expect(requests[0]).toMatchObject({ method: 'GET', authorized: false, status: 401 });
    expect(requests[1]).toMatchObject({
      method: 'GET',
      path: `/secrets/${name}/`,
      operation: 'get',
      authorized: true,
      status: 200,
    });
  });

  it('reads the newest version', async () => {
    const name = uniqueSecretName('rotated');
    vault.setSecret(name, 'first-value-123');
    vault.setSecret(name, 'second-value-456');
    expect(await newStore().resolve({ keyVault: name })).toBe('second-value-456');
  });

  it('reads { env } references from the environment', async () => {
    const store = newStore({ env: { MY_SECRET: 'from-the-environment' } });
    expect(await store.resolve({ env: 'MY_SECRET' })).toBe('from-the-environment');
    await expect(store.resolve({ env: 'NOT_SET' })).rejects.toThrow(/NOT_SET is not set/);
  });

  it('names a missing secret and the vault, and says to create it', async () => {
    const name = uniqueSecretName('missing');
    const error = await rejection(newStore().resolve({ keyVault: name }));
    expect(error).toBeInstanceOf(KeyVaultError);
    expect(error).toBeInstanceOf(SettingsError);
    const kv = error as KeyVaultError;
    expect(kv.code).toBe('settings_invalid');
    expect(kv.problem).toBe('secret_not_found');
    expect(kv.message).toContain(`"${name}"`);
    expect(kv.message).toContain(vault.url);
    expect(kv.nextStep).toMatch(/Create the secret/);
  });

  it('says a disabled secret is disabled', async () => {
    const name = uniqueSecretName('disabled');
    const version = vault.setSecret(name, 'disabled-value-123');
    vault.disableVersion(name, version);
    const error = (await rejection(newStore().resolve({ keyVault: name }))) as KeyVaultError;
    expect(error.problem).toBe('secret_disabled');
    expect(error.message).toContain(name);
  });

  it('turns 403 into a next step that grants Key Vault Secrets User, without the value', async () => {
    const name = uniqueSecretName('forbidden');
    const value = `forbidden-${generateSigningKey()}`;
    vault.setSecret(name, value);
    vault.forbid({ secret: name });
    const error = (await rejection(newStore().resolve({ keyVault: name }))) as KeyVaultError;
    expect(error).toBeInstanceOf(KeyVaultError);
    expect(error.problem).toBe('forbidden');
    expect(error.message).toContain(`"${name}"`);
    expect(error.message).toContain(vault.url);
    expect(error.message).toMatch(/403/);
    expect(error.nextStep).toMatch(/Key Vault Secrets User/);
    expect(vault.requests.at(-1)).toMatchObject({ status: 403, authorized: true });
    expectNoSecretLeak(error, value, 'error');
    expectNoSecretLeak(inspect(error, { depth: 10, showHidden: true }), value, 'inspected error');
  });

  it('says an unreachable vault cannot be reached, naming the secret and the vault', async () => {
    const closed = await startFakeKeyVault({ tenantId, authorityHost: sim.authorityHost });
    const url = closed.url;
    await closed.close();
    const store = new KeyVaultSecretStore(url, secretCredential(sim), clientOptions(closed));
    const error = (await rejection(store.resolve({ keyVault: 'client-secret' }))) as KeyVaultError;
    expect(error).toBeInstanceOf(KeyVaultError);
    expect(error.problem).toBe('unreachable');
    expect(error.message).toContain('"client-secret"');
    expect(error.message).toContain(url);
    expect(error.nextStep).toMatch(/KEY_VAULT_URL/);
  });

  it('says the vault rejected the token when it does not verify', async () => {
    const forged = await sim.issueAccessToken({ audience: sim.graphBaseUrl });
    const [header, payload] = forged.split('.');
    const tampered = `${header ?? ''}.${payload ?? ''}.${'A'.repeat(342)}`;
    const store = new KeyVaultSecretStore(vault.url, fixedTokenCredential(tampered), clientOptions());
    const name = uniqueSecretName('guarded');
    vault.setSecret(name, 'guarded-value-123');
    const error = (await rejection(store.resolve({ keyVault: name }))) as KeyVaultError;
    expect(error.problem).toBe('unauthorized');
    expect(vault.requests.at(-1)).toMatchObject({ status: 401, authorized: false });
  });

  it('refuses a token for another audience', async () => {
    const store = new KeyVaultSecretStore(
      vault.url,
      simulatorVaultCredential(sim, { audience: 'https://management.azure.com' }),
      clientOptions(),
    );
    const name = uniqueSecretName('audience');
    vault.setSecret(name, 'audience-value-123');
    const error = (await rejection(store.resolve({ keyVault: name }))) as KeyVaultError;
    expect(error.problem).toBe('unauthorized');
  });

  it('says when the app identity cannot get a token at all', async () => {
    const unavailable = {
      getToken: async () =>
        await Promise.reject(new CredentialUnavailableError('no managed identity endpoint')),
    };
    const store = new KeyVaultSecretStore(vault.url, unavailable, clientOptions());
    const error = (await rejection(store.resolve({ keyVault: 'anything-1' }))) as KeyVaultError;
    expect(error.problem).toBe('identity_unavailable');
    expect(error.nextStep).toMatch(/AZURE_CLIENT_ID/);
  });

  it('asks its credential for https://vault.azure.net/.default in the challenged tenant', async () => {
    const realistic = await startFakeKeyVault({
      tenantId,
      authorityHost: sim.authorityHost,
      trust: { jwksUri: `${sim.authorityHost}/${tenantId}/discovery/v2.0/keys`, ca: sim.ca },
    });
    try {
      realistic.setSecret('client-secret', 'realistic-value-123');
      const credential = simulatorVaultCredential(sim);
      const store = new KeyVaultSecretStore(realistic.url, credential, clientOptions(realistic));
      expect(await store.resolve({ keyVault: 'client-secret' })).toBe('realistic-value-123');
      expect(credential.calls[0]).toEqual({ scopes: ['https://vault.azure.net/.default'], tenantId });
    } finally {
      await realistic.close();
    }
  });

  it('works over http with allowInsecureConnection', async () => {
    const plain = await startFakeKeyVault({ tenantId, authorityHost: sim.authorityHost, protocol: 'http' });
    try {
      plain.setSecret('client-secret', 'plain-value-123');
      const store = new KeyVaultSecretStore(plain.url, simulatorVaultCredential(sim), clientOptions(plain));
      expect(await store.resolve({ keyVault: 'client-secret' })).toBe('plain-value-123');
    } finally {
      await plain.close();
    }
  });
});

describe('getOrCreate', () => {
  it('creates the key once, then reads it back', async () => {
    const name = uniqueSecretName('consent-state-key');
    let generated = 0;
    const generate = (): string => {
      generated += 1;
      return generateSigningKey();
    };
    const store = newStore();
    const first = await store.getOrCreate(name, generate);
    const second = await store.getOrCreate(name, generate);
    const fromAnotherInstance = await newStore().getOrCreate(name, generate);
    expect(generated).toBe(1);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first, 'base64url')).toHaveLength(32);
    expect(second).toBe(first);
    expect(fromAnotherInstance).toBe(first);
    expect(vault.versions(name)).toHaveLength(1);
  });

  it('ends a race between two instances with one key', async () => {
    const name = uniqueSecretName('raced-key');
    // Every answer waits, so both instances list the (absent) versions before either creates one.
    vault.setLatency(250);
    try {
      const setsBefore = vault.count('set');
      const [a, b] = await Promise.all([
        newStore().getOrCreate(name, generateSigningKey),
        newStore().getOrCreate(name, generateSigningKey),
      ]);
      // Both really created a version (the race happened) ...
      expect(vault.count('set') - setsBefore).toBe(2);
      expect(vault.versions(name)).toHaveLength(2);
      // ... and both came away with the same key, which every later reader gets too.
      expect(a).toBe(b);
      vault.setLatency(0);
      expect(await newStore().getOrCreate(name, generateSigningKey)).toBe(a);
      expect(vault.versions(name)).toHaveLength(2);
    } finally {
      vault.setLatency(0);
    }
  });

  it('ends a race with one key when one instance writes much later than the other', async () => {
    const name = uniqueSecretName('staggered-key');
    vault.setLatency(100);
    try {
      // The second instance's create reaches the vault 400 ms late: after the first instance has
      // created its version, but within the first instance's settle wait.
      const slowCreate: KeyVaultSecretStoreOptions = {
        additionalPolicies: [
          {
            position: 'perCall',
            policy: {
              name: 'slowCreate',
              sendRequest: async (request, next) => {
                if (request.method === 'PUT') await delay(400);
                return await next(request);
              },
            },
          },
        ],
      };
      const [a, b] = await Promise.all([
        newStore({ createSettleMs: 1000 }).getOrCreate(name, generateSigningKey),
        newStore({ createSettleMs: 1000, ...slowCreate }).getOrCreate(name, generateSigningKey),
      ]);
      expect(vault.versions(name)).toHaveLength(2);
      expect(a).toBe(b);
    } finally {
      vault.setLatency(0);
    }
  });

  it('creates a new key when the old one was disabled (rotation)', async () => {
    const name = uniqueSecretName('rotated-key');
    const store = newStore();
    const first = await store.getOrCreate(name, generateSigningKey);
    const [version] = vault.versions(name);
    vault.disableVersion(name, version?.version ?? '');
    const second = await store.getOrCreate(name, generateSigningKey);
    expect(second).not.toBe(first);
    expect(await store.getOrCreate(name, generateSigningKey)).toBe(second);
  });

  it('needs Key Vault Secrets Officer to create, and keeps the new value out of the error', async () => {
    const name = uniqueSecretName('no-create');
    vault.forbid({ secret: name, operations: ['set'] });
    const value = generateSigningKey();
    const error = (await rejection(newStore().getOrCreate(name, () => value))) as KeyVaultError;
    expect(error.problem).toBe('forbidden');
    expect(error.nextStep).toMatch(/Key Vault Secrets Officer/);
    expect(error.message).toContain(name);
    expectNoSecretLeak(error, value, 'error');
    expectNoSecretLeak(inspect(error, { depth: 10, showHidden: true }), value, 'inspected error');
  });

  it('says a deleted secret must be recovered or purged', async () => {
    const name = uniqueSecretName('deleted-key');
    vault.setSecret(name, 'old-deleted-value');
    vault.softDelete(name);
    const error = (await rejection(newStore().getOrCreate(name, generateSigningKey))) as KeyVaultError;
    expect(error.problem).toBe('secret_deleted');
    expect(error.nextStep).toMatch(/Recover|purge/);
  });
});

describe('createSecretStore', () => {
  it('uses the environment without KEY_VAULT_URL', async () => {
    const store = createSecretStore({}, { A_SECRET: 'env-value-123' });
    expect(store).toBeInstanceOf(EnvironmentSecretStore);
    expect(await store.resolve({ env: 'A_SECRET' })).toBe('env-value-123');
    await expect(store.resolve({ keyVault: 'x' })).rejects.toThrow(/KEY_VAULT_URL is not set/);
  });

  it('uses Key Vault when KEY_VAULT_URL is set', async () => {
    const name = uniqueSecretName('chosen');
    vault.setSecret(name, 'vault-value-123');
    const store = createSecretStore(
      { KEY_VAULT_URL: vault.url },
      { OTHER: 'env-value-456' },
      { credential: secretCredential(sim), clientOptions: clientOptions() },
    );
    expect(store).toBeInstanceOf(KeyVaultSecretStore);
    expect(await store.resolve({ keyVault: name })).toBe('vault-value-123');
    expect(await store.resolve({ env: 'OTHER' })).toBe('env-value-456');
  });
});

describe('EnvironmentSecretStore.getOrCreate', () => {
  it('takes the key from the environment variable named after it', async () => {
    const key = generateSigningKey();
    const store = new EnvironmentSecretStore({ CONSENT_STATE_KEY: key });
    expect(await store.getOrCreate('consent-state-key', generateSigningKey)).toBe(key);
  });

  it('makes one key per process without it', async () => {
    const store = new EnvironmentSecretStore({});
    const first = await store.getOrCreate('consent-state-key', generateSigningKey);
    expect(await store.getOrCreate('consent-state-key', generateSigningKey)).toBe(first);
  });
});

describe('secret-leak helper', () => {
  it('finds a secret in its encoded forms and says where, not what', () => {
    const secret = generateSigningKey();
    const haystack = {
      logs: [{ message: `token=${encodeURIComponent(secret)}` }],
      entity: { note: Buffer.from(secret, 'base64url').toString('hex') },
      error: new Error('failed', { cause: { body: JSON.stringify({ value: secret }) } }),
    };
    const leaks = findSecretLeaks(haystack, secret, 'run');
    expect(leaks.map((leak) => leak.path)).toEqual(
      expect.arrayContaining(['run.logs[0].message', 'run.entity.note', 'run.error.cause.body']),
    );
    expect(() => {
      expectNoSecretLeak(haystack, secret, 'run');
    }).toThrow(/A secret leaked into run/);
    try {
      expectNoSecretLeak(haystack, secret, 'run');
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
    expect(findSecretLeaks({ clean: 'nothing here' }, secret)).toEqual([]);
  });
});
