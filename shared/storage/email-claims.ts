import type { TableClient, TransactionAction } from '@azure/data-tables';
import { createAllOrReport, forEachBounded, isStatus, submitInTransactions } from './batch.js';
import { escapeKey, fnv1a, unescapeKey } from './keys.js';

/**
 * E-mail uniqueness across the whole store. Claiming is an insert, which Table Storage makes atomic:
 * of two writers only one can create the claim, so no import can ever create two app users with the
 * same address. The claim is taken before the user entity is written and points at it.
 */
export interface EmailClaim {
  mailKey: string;
  /** The owning app user's stable id (see Users.appUserId). */
  appUserId: string;
  connectionId: string;
  sourceId: string;
  division: string;
  userPartitionKey: string;
  userRowKey: string;
  claimedAt: string;
  etag?: string;
}

// A type alias, not an interface, so it fits the SDK's Record-shaped TableEntity.
type ClaimEntity = {
  partitionKey: string;
  rowKey: string;
  appUserId: string;
  connectionId: string;
  sourceId: string;
  division: string;
  userPartitionKey: string;
  userRowKey: string;
  claimedAt: string;
};

const BUCKETS = 64;

export function claimPartition(mailKey: string): string {
  return `c${String(fnv1a(mailKey) % BUCKETS).padStart(2, '0')}`;
}

function toEntity(claim: EmailClaim): ClaimEntity {
  return {
    partitionKey: claimPartition(claim.mailKey),
    rowKey: escapeKey(claim.mailKey),
    appUserId: claim.appUserId,
    connectionId: claim.connectionId,
    sourceId: claim.sourceId,
    division: claim.division,
    userPartitionKey: claim.userPartitionKey,
    userRowKey: claim.userRowKey,
    claimedAt: claim.claimedAt,
  };
}

function fromEntity(entity: ClaimEntity & { etag?: string }): EmailClaim {
  return {
    mailKey: unescapeKey(entity.rowKey),
    appUserId: entity.appUserId,
    connectionId: entity.connectionId,
    sourceId: entity.sourceId,
    division: entity.division,
    userPartitionKey: entity.userPartitionKey,
    userRowKey: entity.userRowKey,
    claimedAt: entity.claimedAt,
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

export class EmailClaimStore {
  readonly #client: TableClient;
  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(mailKey: string): Promise<EmailClaim | undefined> {
    try {
      return fromEntity(
        await this.#client.getEntity<ClaimEntity>(claimPartition(mailKey), escapeKey(mailKey)),
      );
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async getMany(mailKeys: readonly string[], concurrency = 16): Promise<Map<string, EmailClaim>> {
    const claims = new Map<string, EmailClaim>();
    await forEachBounded([...new Set(mailKeys)], concurrency, async (mailKey) => {
      const claim = await this.get(mailKey);
      if (claim) claims.set(mailKey, claim);
    });
    return claims;
  }

  /**
   * Tries to claim every address for its owner. Returns, for the addresses somebody already held, the
   * current claim (which may be this very owner's, left by a run that crashed before its user write).
   */
  async claimMany(claims: readonly EmailClaim[]): Promise<Map<string, EmailClaim>> {
    const taken = await createAllOrReport(this.#client, claims.map(toEntity));
    const holders = await this.getMany(taken.map((entity) => unescapeKey(entity.rowKey)));
    return holders;
  }

  /** Hands a claim to a new owner, only if it is still the version that was read. */
  async transfer(current: EmailClaim, owner: Omit<EmailClaim, 'mailKey' | 'etag'>): Promise<boolean> {
    try {
      await this.#client.updateEntity(toEntity({ ...owner, mailKey: current.mailKey }), 'Replace', {
        etag: current.etag ?? '*',
      });
      return true;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return false;
      throw error;
    }
  }

  /**
   * Gives back addresses claimed moments ago by this run for users it then did not write (an exception,
   * no seat). Nobody else can hold them yet, so they go in partition transactions without a read.
   */
  async releaseFresh(mailKeys: readonly string[]): Promise<void> {
    await submitInTransactions(
      this.#client,
      [...new Set(mailKeys)].map((mailKey): TransactionAction => [
        'delete',
        { partitionKey: claimPartition(mailKey), rowKey: escapeKey(mailKey) },
      ]),
    );
  }

  /** Releases an address, but only while it still belongs to this owner. */
  async release(mailKey: string, owner: { connectionId: string; sourceId: string }): Promise<void> {
    const current = await this.get(mailKey);
    if (!current || current.connectionId !== owner.connectionId || current.sourceId !== owner.sourceId)
      return;
    try {
      await this.#client.deleteEntity(claimPartition(mailKey), escapeKey(mailKey), {
        etag: current.etag ?? '*',
      });
    } catch (error) {
      if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
    }
  }
}
