/**
 * Key rules shared by the tables. PartitionKey and RowKey may not contain / \ # ? or control
 * characters (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model),
 * so values that can hold them (e-mail addresses, user principal names) are escaped.
 */

// eslint-disable-next-line no-control-regex -- control characters are exactly what keys may not hold
const FORBIDDEN = /[/\\#?%\u0000-\u001f\u007f-\u009f]/g;

/** Escapes the characters a key may not hold (and %) as %XX, so every value has exactly one key. */
export function escapeKey(value: string): string {
  return value.replace(
    FORBIDDEN,
    (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
}

export function unescapeKey(key: string): string {
  return key.replace(/%([0-9A-F]{2})/g, (_match, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Separates the parts of a composite key; allowed in keys and not allowed in connection ids. */
export const KEY_SEPARATOR = '|';

/**
 * App users of one connection are spread over 256 partitions by the first two hex digits of the Entra
 * object id (random GUIDs, so the spread is even). Azure serves about 2,000 entities per second per
 * partition, and a partition that stays small keeps inserts fast (Azurite slows down markedly as a
 * partition grows); an import fills 100-entity transactions by buffering writes across pages.
 */
const HEX = /^[0-9a-f]{2}/;

export function userShard(objectId: string): string {
  const prefix = objectId.slice(0, 2).toLowerCase();
  return HEX.test(prefix) ? prefix : 'x';
}

export function userPartition(connectionId: string, objectId: string): string {
  return `${connectionId}${KEY_SEPARATOR}${userShard(objectId)}`;
}

/** Every partition a connection's users can live in (including 'x' for ids that are not GUIDs). */
export function userPartitions(connectionId: string): string[] {
  const shards = Array.from({ length: 256 }, (_, index) => index.toString(16).padStart(2, '0'));
  return [...shards, 'x'].map((shard) => `${connectionId}${KEY_SEPARATOR}${shard}`);
}

/** A 32-bit FNV-1a hash: cheap, stable across processes, good enough to spread keys. */
export function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < value.length; index += 1) {
    hash ^= value.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Descending row keys so the newest record of a partition comes first in a query. */
export function newestFirstKey(time: Date, suffix: string): string {
  const inverted = (8_640_000_000_000_000 - time.getTime()).toString().padStart(16, '0');
  return `${inverted}${KEY_SEPARATOR}${suffix}`;
}
