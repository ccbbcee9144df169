import { hash32, mix32 } from './random.js';

/**
 * Ids without a table. An object's GUID is a keyed permutation of (kind, index) formatted as a version-4
 * GUID: the first 32 bits are a Feistel permutation of the index, the other bits a keyed hash of those 32
 * bits. Decoding inverts the permutation and checks the hash, so a million users need no id map and a
 * made-up GUID is recognised as unknown.
 */

export type ObjectKind = 'user' | 'group';

const KIND_SALT: Record<ObjectKind | 'tenant' | 'app', number> = {
  user: 0x75736572,
  group: 0x67727570,
  tenant: 0x74656e61,
  app: 0x61707073,
};

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(value: number): string {
  return (
    (HEX[(value >>> 24) & 0xff] ?? '') +
    (HEX[(value >>> 16) & 0xff] ?? '') +
    (HEX[(value >>> 8) & 0xff] ?? '') +
    (HEX[value & 0xff] ?? '')
  );
}

function hex16(value: number): string {
  return (HEX[(value >>> 8) & 0xff] ?? '') + (HEX[value & 0xff] ?? '');
}

/** A 4-round Feistel network on 32 bits: a bijection on [0, 2^32) keyed by `key`. */
function feistel32(key: number, value: number): number {
  let left = value >>> 16;
  let right = value & 0xffff;
  for (let round = 0; round < 4; round++) {
    const next = left ^ (hash32(key, round, right) & 0xffff);
    left = right;
    right = next;
  }
  return ((left << 16) | right) >>> 0;
}

function feistel32Inverse(key: number, value: number): number {
  let left = value >>> 16;
  let right = value & 0xffff;
  for (let round = 3; round >= 0; round--) {
    const previous = right ^ (hash32(key, round, left) & 0xffff);
    right = left;
    left = previous;
  }
  return ((left << 16) | right) >>> 0;
}

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Formats 32 permuted bits plus three hash words as a version-4 GUID. */
function formatGuid(v: number, w1: number, w2: number, w3: number): string {
  return (
    `${hex32(v)}-${hex16(w1 >>> 16)}-4${hex16(w1 & 0xfff).slice(1)}-` +
    `${hex16(0x8000 | (w2 & 0x3fff))}-${hex16(w2 >>> 16)}${hex32(w3)}`
  );
}

/** Maps (kind, index) to a GUID and back, keyed by a tenant seed. */
export class IdCodec {
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  encode(kind: ObjectKind | 'tenant' | 'app', index: number): string {
    const salt = KIND_SALT[kind];
    const key = hash32(this.seed, salt);
    const v = feistel32(key, index);
    return formatGuid(v, hash32(key, v, 1), hash32(key, v, 2), hash32(key, v, 3));
  }

  /** The kind and index of an id this codec made, or undefined for any other string. */
  decode(id: string): { kind: ObjectKind; index: number } | undefined {
    const lower = id.toLowerCase();
    if (!GUID_PATTERN.test(lower)) return undefined;
    const v = Number.parseInt(lower.slice(0, 8), 16);
    for (const kind of ['user', 'group'] as const) {
      const index = feistel32Inverse(hash32(this.seed, KIND_SALT[kind]), v);
      if (this.encode(kind, index) === lower) return { kind, index };
    }
    return undefined;
  }
}

/**
 * A keyed permutation of [0, n): a Feistel network on the smallest even number of bits that covers n,
 * with cycle walking to stay inside the range. It gives "no ordering" without storing an order.
 */
export class IndexPermutation {
  readonly size: number;
  private readonly key: number;
  private readonly halfBits: number;
  private readonly halfMask: number;

  constructor(size: number, key: number) {
    this.size = size;
    this.key = key >>> 0;
    let bits = 2;
    while (2 ** bits < size) bits += 2;
    this.halfBits = bits / 2;
    this.halfMask = 2 ** this.halfBits - 1;
  }

  /** The index at a position; positions and indexes both run over [0, size). */
  at(position: number): number {
    if (this.size <= 1) return position;
    let value = position;
    do {
      value = this.round(value);
    } while (value >= this.size);
    return value;
  }

  private round(value: number): number {
    let left = Math.floor(value / 2 ** this.halfBits);
    let right = value & this.halfMask;
    for (let round = 0; round < 4; round++) {
      // One finaliser per round is plenty for an order that only has to look unordered.
      const next =
        (left ^ mix32(this.key ^ Math.imul(round + 1, 0x9e3779b9) ^ Math.imul(right, 0x85ebca77))) &
        this.halfMask;
      left = right;
      right = next;
    }
    return left * 2 ** this.halfBits + right;
  }
}
