import type { MemberRef } from './model.js';

/**
 * One group's direct members: the generated members as a sorted typed array that never changes, plus
 * the changes made since. Positions ("raw positions") are stable under adds and removes, so a page
 * cursor into a member list never skips anyone when the list changes between two pages.
 */
export class GroupMembers {
  private readonly base: Int32Array;
  private readonly removedFromBase = new Set<MemberRef>();
  /** Members added after generation, in the order first added; never shrinks. */
  private readonly extra: MemberRef[] = [];
  private readonly extraKnown = new Set<MemberRef>();
  private readonly extraActive = new Set<MemberRef>();

  constructor(base: Int32Array = new Int32Array(0)) {
    this.base = base;
  }

  private inBase(ref: MemberRef): boolean {
    let lo = 0;
    let hi = this.base.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.base[mid] ?? 0;
      if (value === ref) return true;
      if (value < ref) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  has(ref: MemberRef): boolean {
    if (this.inBase(ref)) return !this.removedFromBase.has(ref);
    return this.extraActive.has(ref);
  }

  /** Adds a member; false when it already was one. */
  add(ref: MemberRef): boolean {
    if (this.inBase(ref)) return this.removedFromBase.delete(ref);
    if (this.extraActive.has(ref)) return false;
    if (!this.extraKnown.has(ref)) {
      this.extraKnown.add(ref);
      this.extra.push(ref);
    }
    this.extraActive.add(ref);
    return true;
  }

  /** Removes a member; false when it was not one. */
  remove(ref: MemberRef): boolean {
    if (this.inBase(ref)) {
      if (this.removedFromBase.has(ref)) return false;
      this.removedFromBase.add(ref);
      return true;
    }
    return this.extraActive.delete(ref);
  }

  get size(): number {
    return this.base.length - this.removedFromBase.size + this.extraActive.size;
  }

  /** The number of raw positions (members past and present). */
  get rawLength(): number {
    return this.base.length + this.extra.length;
  }

  /** The member at a raw position, or undefined when that member has since been removed. */
  rawAt(position: number): MemberRef | undefined {
    if (position < this.base.length) {
      const ref = this.base[position];
      return ref === undefined || this.removedFromBase.has(ref) ? undefined : ref;
    }
    const ref = this.extra[position - this.base.length];
    return ref === undefined || !this.extraActive.has(ref) ? undefined : ref;
  }

  *refs(): IterableIterator<MemberRef> {
    for (let p = 0; p < this.rawLength; p++) {
      const ref = this.rawAt(p);
      if (ref !== undefined) yield ref;
    }
  }
}
