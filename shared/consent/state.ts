import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { SettingsError } from '../errors.js';
import { generateSigningKey, type KeyStore } from '../secrets/secret-store.js';
import { isStatus } from '../storage/batch.js';
import { ConsentStateError } from './errors.js';

/**
 * The `state` of an admin-consent request: which connection the consent is for, signed so that the
 * callback can trust it, short-lived, and spent on first use.
 *
 * Encoding: base64url(JSON payload) "." base64url(HMAC-SHA256(key, context || payload part)). The key
 * is 32 random bytes kept in Key Vault (created on first use). The payload binds the connection id,
 * a random nonce and the expiry; the nonce is recorded in a table when the callback spends the state,
 * and an insert that finds it already there is a replay.
 */

export const CONSENT_STATE_LIFETIME_MS = 10 * 60_000;
/** The table of spent nonces, after TABLE_PREFIX. */
export const CONSENT_NONCES_TABLE = 'ConsentNonces';

/** Separates this MAC from any other use of the key. */
const MAC_CONTEXT = 'entrasync/consent-state/v1.';
const MIN_KEY_BYTES = 32;
const MAX_STATE_LENGTH = 1024;
const STATE_FORMAT = /^([A-Za-z0-9_-]{1,900})\.([A-Za-z0-9_-]{43})$/;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  c: z.string().min(1).max(64),
  n: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  iat: z.int().nonnegative(),
  exp: z.int().positive(),
});

export interface ConsentStateClaims {
  readonly connectionId: string;
  readonly nonce: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

type NonceEntity = {
  partitionKey: string;
  rowKey: string;
  expiresAt: Date;
  spentAt: Date;
};

/** Spent consent-state nonces: `<TABLE_PREFIX>ConsentNonces`, PartitionKey connection id, RowKey nonce. */
export class ConsentNonceStore {
  readonly #client: TableClient;
  #ready: Promise<void> | undefined;

  constructor(client: TableClient) {
    this.#client = client;
  }

  /** Records the nonce; false when it was recorded before (a replay). */
  async spend(claims: ConsentStateClaims, now: Date = new Date()): Promise<boolean> {
    await this.#ensureTable();
    const entity: NonceEntity = {
      partitionKey: claims.connectionId,
      rowKey: claims.nonce,
      expiresAt: claims.expiresAt,
      spentAt: now,
    };
    try {
      await this.#client.createEntity(entity);
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  /**
   * Deletes nonces whose state has expired (an expired state is refused before its nonce is looked
   * at, so they are no longer needed). For a timer; returns how many went.
   */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    await this.#ensureTable();
    let deleted = 0;
    const expired = this.#client.listEntities<NonceEntity>({
      queryOptions: { filter: odata`expiresAt lt ${now}`, select: ['PartitionKey', 'RowKey'] },
    });
    for await (const entity of expired) {
      try {
        await this.#client.deleteEntity(entity.partitionKey, entity.rowKey);
        deleted += 1;
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    }
    return deleted;
  }

  async #ensureTable(): Promise<void> {
    const current = (this.#ready ??= this.#client.createTable());
    try {
      await current;
    } catch (error) {
      if (this.#ready === current) this.#ready = undefined;
      throw error;
    }
  }
}

export interface ConsentStateOptions {
  /** Where the signing key lives (Key Vault in Azure). */
  readonly keys: KeyStore;
  /** The key's secret name: the CONSENT_STATE_SECRET_NAME setting. */
  readonly keyName: string;
  readonly nonces: ConsentNonceStore;
  readonly lifetimeMs?: number;
  /** How long the key is kept in memory before it is read again. Default 10 minutes. */
  readonly keyCacheMs?: number;
  /** Test hook: the clock. */
  readonly now?: () => Date;
}

interface CachedKey {
  readonly key: Promise<Buffer>;
  readonly loadedAt: number;
}

function mac(key: Buffer, payloadPart: string): Buffer {
  return createHmac('sha256', key).update(MAC_CONTEXT).update(payloadPart).digest();
}

function invalid(problem: 'missing' | 'malformed' | 'signature', message: string): ConsentStateError {
  return new ConsentStateError(message, {
    problem,
    nextStep: 'Start the consent again from the EntraSync admin console, and use the new link once.',
  });
}

export class ConsentStateCodec {
  readonly #keys: KeyStore;
  readonly #keyName: string;
  readonly #nonces: ConsentNonceStore;
  readonly #lifetimeMs: number;
  readonly #keyCacheMs: number;
  readonly #now: () => Date;
  #cached: CachedKey | undefined;

  constructor(options: ConsentStateOptions) {
    this.#keys = options.keys;
    this.#keyName = options.keyName;
    this.#nonces = options.nonces;
    this.#lifetimeMs = options.lifetimeMs ?? CONSENT_STATE_LIFETIME_MS;
    this.#keyCacheMs = options.keyCacheMs ?? 10 * 60_000;
    this.#now = options.now ?? (() => new Date());
  }

  /** A fresh state for a consent request about `connectionId`. */
  async issue(connectionId: string): Promise<string> {
    const iat = Math.floor(this.#now().getTime() / 1000);
    const payload = {
      v: 1,
      c: connectionId,
      n: randomBytes(16).toString('base64url'),
      iat,
      exp: iat + Math.floor(this.#lifetimeMs / 1000),
    };
    const payloadPart = Buffer.from(JSON.stringify(payloadSchema.parse(payload))).toString('base64url');
    const key = await this.#key(false);
    return `${payloadPart}.${mac(key, payloadPart).toString('base64url')}`;
  }

  /**
   * Checks a state's form, signature and expiry, with no side effects; throws ConsentStateError.
   * The signature is checked before anything in the payload is believed.
   */
  async verify(state: string | null | undefined): Promise<ConsentStateClaims> {
    if (state === null || state === undefined || state === '') {
      throw invalid(
        'missing',
        'The consent callback carries no state, so it cannot be tied to a connection.',
      );
    }
    const match = state.length <= MAX_STATE_LENGTH ? STATE_FORMAT.exec(state) : null;
    const payloadPart = match?.[1];
    const signaturePart = match?.[2];
    if (payloadPart === undefined || signaturePart === undefined) {
      throw invalid('malformed', 'The consent callback state is not one EntraSync issued.');
    }
    const signature = Buffer.from(signaturePart, 'base64url');
    if (!(await this.#signatureMatches(payloadPart, signature))) {
      throw invalid(
        'signature',
        'The consent callback state is not signed by EntraSync (it was altered or forged).',
      );
    }

    let payload: z.infer<typeof payloadSchema>;
    try {
      payload = payloadSchema.parse(JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')));
    } catch {
      throw invalid('malformed', 'The consent callback state is not one EntraSync issued.');
    }
    const nowSeconds = this.#now().getTime() / 1000;
    if (nowSeconds >= payload.exp || payload.exp - payload.iat > Math.ceil(this.#lifetimeMs / 1000)) {
      throw new ConsentStateError(
        `The consent link has expired: it was valid for ${Math.round(this.#lifetimeMs / 60_000)} minutes.`,
        { problem: 'expired', nextStep: 'Start the consent again from the EntraSync admin console.' },
      );
    }
    return {
      connectionId: payload.c,
      nonce: payload.n,
      issuedAt: new Date(payload.iat * 1000),
      expiresAt: new Date(payload.exp * 1000),
    };
  }

  /** Marks a verified state as used; throws ConsentStateError (replayed) if it was used before. */
  async spend(claims: ConsentStateClaims): Promise<void> {
    if (!(await this.#nonces.spend(claims, this.#now()))) {
      throw new ConsentStateError('This consent link was used already; each link works once.', {
        problem: 'replayed',
        nextStep: 'Start the consent again from the EntraSync admin console if consent is still needed.',
      });
    }
  }

  async #signatureMatches(payloadPart: string, signature: Buffer): Promise<boolean> {
    const matches = (key: Buffer): boolean => {
      const expected = mac(key, payloadPart);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    };
    if (matches(await this.#key(false))) return true;
    // The key may have been rotated since it was cached: read it again, at most once a minute.
    const cached = this.#cached;
    if (cached && Date.now() - cached.loadedAt > 60_000) return matches(await this.#key(true));
    return false;
  }

  async #key(refresh: boolean): Promise<Buffer> {
    const cached = this.#cached;
    if (!refresh && cached && Date.now() - cached.loadedAt < this.#keyCacheMs) return await cached.key;
    const entry: CachedKey = { key: this.#loadKey(), loadedAt: Date.now() };
    this.#cached = entry;
    try {
      return await entry.key;
    } catch (error) {
      if (this.#cached === entry) this.#cached = undefined;
      throw error;
    }
  }

  async #loadKey(): Promise<Buffer> {
    const encoded = await this.#keys.getOrCreate(this.#keyName, generateSigningKey);
    const key = Buffer.from(encoded.trim(), 'base64url');
    if (key.length < MIN_KEY_BYTES) {
      throw new SettingsError(
        `The consent-state key in secret "${this.#keyName}" is shorter than ${MIN_KEY_BYTES} bytes.`,
        {
          nextStep: `Disable that secret version so that EntraSync creates a new key, or store ${MIN_KEY_BYTES} random bytes as base64url.`,
        },
      );
    }
    return key;
  }
}
