import { IndexPermutation } from './ids.js';
import { hash32 } from './random.js';

/**
 * Server-side paging shared by collections and delta: which object comes at which position, how long a
 * page is, and the quirks that make the order and page lengths unlike a naive server's.
 */

export interface Quirks {
  /** Within a delta round, an object already returned appears again on a later page. */
  replays: boolean;
  /** Objects come in a fixed pseudo-random order, not in id or creation order. */
  shuffle: boolean;
  /** Pages are shorter than the nominal size by up to a quarter, varying page to page. */
  unevenPages: boolean;
  /**
   * An initial delta round also returns objects deleted before it, as @removed (delta-query-overview.md:
   * "The @removed object can be returned in the initial delta query response").
   */
  initialRemovals: boolean;
}

export const ALL_QUIRKS: Readonly<Quirks> = {
  replays: true,
  shuffle: true,
  unevenPages: true,
  initialRemovals: true,
};
export const NO_QUIRKS: Readonly<Quirks> = {
  replays: false,
  shuffle: false,
  unevenPages: false,
  initialRemovals: false,
};

/** The length of page `pageNo` of a listing with the given nominal size and key. */
export function pageLength(nominal: number, pageNo: number, key: number, quirks: Quirks): number {
  if (!quirks.unevenPages || nominal < 4) return nominal;
  return nominal - (hash32(key, 0x50414745, pageNo) % Math.floor(nominal / 4 + 1));
}

/** Maps positions to indexes over [0, size): a keyed shuffle when the quirk is on, else identity. */
export function positionOrder(size: number, key: number, quirks: Quirks): (position: number) => number {
  if (!quirks.shuffle || size <= 1) return (position) => position;
  const permutation = new IndexPermutation(size, key);
  return (position) => permutation.at(position);
}

/**
 * Reads positions from `start` until `limit` items were emitted or `end` is reached, and returns the
 * next position to read (`end` when the listing is done). `emit` writes the item at a position and
 * returns false for positions with nothing to show (a deleted user, a filtered-out object), which do
 * not count.
 */
export function scan(start: number, end: number, limit: number, emit: (position: number) => boolean): number {
  let position = start;
  let count = 0;
  while (position < end && count < limit) {
    if (emit(position)) count++;
    position++;
  }
  return position;
}
