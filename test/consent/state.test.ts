import { createHmac } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { ConsentStateError } from '../../shared/consent/errors.js';
import {
  ConsentNonceStore,
  ConsentStateCodec,
  type ConsentStateOptions,
} from '../../shared/consent/state.js';
import { SettingsError } from '../../shared/errors.js';
import {
  EnvironmentSecretStore,
  generateSigningKey,
  type KeyStore,
} from '../../shared/secrets/secret-store.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { uniqueName } from '../harness/names.js';

const storage = createStorageClients({
  kind: 'connectionString',
  connectionString: inject('azuriteConnectionString'),
});

interface Clock {
  now: Date;
}

function setup(options: { key?: string; clock?: Clock; keys?: KeyStore } = {}): {
  codec: ConsentStateCodec;
  table: TableClient;
  key: string;
  options: ConsentStateOptions;
} {
  const key = options.key ?? generateSigningKey();
  const table = storage.table(uniqueName('nonces'));
  const clock = options.clock;
  const codecOptions: ConsentStateOptions = {
    keys: options.keys ?? new EnvironmentSecretStore({ CONSENT_STATE_KEY: key }),
    keyName: 'consent-state-key',
    nonces: new ConsentNonceStore(table),
    ...(clock ? { now: () => clock.now } : {}),
  };
  return { codec: new ConsentStateCodec(codecOptions), table, key, options: codecOptions };
}

async function failure(promise: Promise<unknown>): Promise<ConsentStateError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConsentStateError);
    return error as ConsentStateError;
  }
  throw new Error('expected a ConsentStateError');
}

function decodePayload(state: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(state.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function sign(key: string, payloadPart: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64url'))
    .update('entrasync/consent-state/v1.')
    .update(payloadPart)
    .digest('base64url');
}

describe('consent state', () => {
  it('round-trips: compact, bound to the connection, expiring after 10 minutes', async () => {
    const clock = { now: new Date('2026-03-01T10:00:00Z') };
    const { codec } = setup({ clock });
    const state = await codec.issue('contoso');
    expect(state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(state.length).toBeLessThan(200);
    const claims = await codec.verify(state);
    expect(claims.connectionId).toBe('contoso');
    expect(claims.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(claims.issuedAt.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(claims.expiresAt.toISOString()).toBe('2026-03-01T10:10:00.000Z');
    // Two states never share a nonce.
    expect((await codec.verify(await codec.issue('contoso'))).nonce).not.toBe(claims.nonce);
  });

  it('is valid just before and not at or after the expiry', async () => {
    const clock = { now: new Date('2026-03-01T10:00:00Z') };
    const { codec } = setup({ clock });
    const state = await codec.issue('contoso');
    clock.now = new Date('2026-03-01T10:09:59Z');
    await expect(codec.verify(state)).resolves.toMatchObject({ connectionId: 'contoso' });
    clock.now = new Date('2026-03-01T10:10:00Z');
    expect((await failure(codec.verify(state))).problem).toBe('expired');
    clock.now = new Date('2026-03-01T11:00:00Z');
    const expired = await failure(codec.verify(state));
    expect(expired.problem).toBe('expired');
    expect(expired.code).toBe('bad_request');
    expect(expired.message).toMatch(/expired/);
  });

  it('refuses a tampered signature', async () => {
    const { codec } = setup();
    const state = await codec.issue('contoso');
    const last = state.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${state.slice(0, -2)}${last}${state.slice(-1)}`;
    expect((await failure(codec.verify(tampered))).problem).toBe('signature');
  });

  it('refuses a payload changed to another connection (the signature no longer matches)', async () => {
    const { codec } = setup();
    const state = await codec.issue('contoso');
    const [, signature] = state.split('.');
    const payload = { ...decodePayload(state), c: 'fabrikam' };
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature ?? ''}`;
    expect((await failure(codec.verify(forged))).problem).toBe('signature');
  });

  it('refuses a state signed with another key, and accepts one signed with its own', async () => {
    const { codec, key } = setup();
    const payloadPart = Buffer.from(
      JSON.stringify({
        v: 1,
        c: 'contoso',
        n: 'A'.repeat(22),
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString('base64url');
    const other = generateSigningKey();
    expect((await failure(codec.verify(`${payloadPart}.${sign(other, payloadPart)}`))).problem).toBe(
      'signature',
    );
    await expect(codec.verify(`${payloadPart}.${sign(key, payloadPart)}`)).resolves.toMatchObject({
      connectionId: 'contoso',
    });
  });

  it('refuses a signed payload that lives longer than 10 minutes', async () => {
    const { codec, key } = setup();
    const now = Math.floor(Date.now() / 1000);
    const payloadPart = Buffer.from(
      JSON.stringify({ v: 1, c: 'contoso', n: 'B'.repeat(22), iat: now, exp: now + 86_400 }),
    ).toString('base64url');
    expect((await failure(codec.verify(`${payloadPart}.${sign(key, payloadPart)}`))).problem).toBe('expired');
  });

  it('refuses missing and malformed states', async () => {
    const { codec } = setup();
    expect((await failure(codec.verify(undefined))).problem).toBe('missing');
    expect((await failure(codec.verify(''))).problem).toBe('missing');
    expect((await failure(codec.verify('not-a-state'))).problem).toBe('malformed');
    expect((await failure(codec.verify(`${'a'.repeat(2000)}.${'b'.repeat(43)}`))).problem).toBe('malformed');
    expect((await failure(codec.verify('a.b.c'))).problem).toBe('malformed');
  });

  it('is single use: the second spend of a state is a replay', async () => {
    const { codec, table } = setup();
    const claims = await codec.verify(await codec.issue('contoso'));
    await codec.spend(claims);
    const replay = await failure(codec.spend(claims));
    expect(replay.problem).toBe('replayed');
    const entities = [];
    for await (const entity of table.listEntities()) entities.push(entity);
    expect(entities).toHaveLength(1);
    expect(entities[0]).toMatchObject({ partitionKey: 'contoso', rowKey: claims.nonce });
    expect((entities[0] as { expiresAt?: unknown }).expiresAt).toEqual(claims.expiresAt);
  });

  it('deletes nonces whose states have expired', async () => {
    const clock = { now: new Date('2026-03-01T10:00:00Z') };
    const { codec, options, table } = setup({ clock });
    const old = await codec.verify(await codec.issue('contoso'));
    await codec.spend(old);
    clock.now = new Date('2026-03-01T10:30:00Z');
    const fresh = await codec.verify(await codec.issue('contoso'));
    await codec.spend(fresh);
    expect(await options.nonces.deleteExpired(clock.now)).toBe(1);
    const left = [];
    for await (const entity of table.listEntities()) left.push(entity.rowKey);
    expect(left).toEqual([fresh.nonce]);
  });

  it('gets its key once from the key store, under the configured name', async () => {
    const names: string[] = [];
    const key = generateSigningKey();
    const keys: KeyStore = {
      getOrCreate: async (name) => {
        names.push(name);
        return await Promise.resolve(key);
      },
    };
    const { codec } = setup({ keys });
    await codec.verify(await codec.issue('contoso'));
    await codec.verify(await codec.issue('fabrikam'));
    expect(names).toEqual(['consent-state-key']);
  });

  it('refuses a key shorter than 32 bytes', async () => {
    const { codec } = setup({ key: Buffer.alloc(16, 7).toString('base64url') });
    await expect(codec.issue('contoso')).rejects.toBeInstanceOf(SettingsError);
  });
});
