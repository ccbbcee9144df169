import type { ObjectKind } from './ids.js';
import type { MemberRef } from './model.js';

/**
 * What happened to which object, in order. Delta rounds read a window (from, to] of this log: the
 * objects changed in it, the properties that changed, and the net membership changes. The log holds
 * only changes, so an unchanged million-user tenant costs nothing here.
 */

export type ChangeOp =
  'create' | 'update' | 'softDelete' | 'restore' | 'hardDelete' | 'memberAdd' | 'memberRemove';

export interface ChangeEntry {
  readonly seq: number;
  readonly index: number;
  readonly op: ChangeOp;
  /** The properties an update changed. */
  readonly props?: readonly string[];
  /** The member a membership change concerns. */
  readonly ref?: MemberRef;
}

/** One object's changes in a window. */
export interface ObjectChanges {
  readonly index: number;
  /** Properties changed by updates. */
  readonly props: Set<string>;
  /** Created in the window: every property counts as changed. */
  created: boolean;
  /** Restored in the window: the full object comes back. */
  restored: boolean;
  /** Deleted (soft or hard) in the window. */
  removed: boolean;
  /** Net membership change per member: true = added, false = removed (the last change wins). */
  readonly members: Map<MemberRef, boolean>;
}

export interface ChangeWindow {
  /** Changed objects in order of their first change. */
  readonly objects: readonly ObjectChanges[];
  readonly byIndex: ReadonlyMap<number, ObjectChanges>;
}

const WINDOW_CACHE_SIZE = 16;

export class ChangeLog {
  private seqValue = 0;
  private readonly entries: Record<ObjectKind, ChangeEntry[]> = { user: [], group: [] };
  /** Windows are immutable once `to` is in the past, so a round's pages can share one computation. */
  private readonly cache = new Map<string, ChangeWindow>();

  /** The sequence number of the latest change (0 before any). */
  get seq(): number {
    return this.seqValue;
  }

  size(kind: ObjectKind): number {
    return this.entries[kind].length;
  }

  record(
    kind: ObjectKind,
    index: number,
    op: ChangeOp,
    extra: { props?: readonly string[]; ref?: MemberRef } = {},
  ): number {
    this.seqValue += 1;
    this.entries[kind].push({ seq: this.seqValue, index, op, ...extra });
    return this.seqValue;
  }

  /** Forgets every entry; only call when no token can ask for an older window (expiry, reset). */
  truncate(): void {
    this.entries.user.length = 0;
    this.entries.group.length = 0;
    this.cache.clear();
  }

  /** The changes with from < seq <= to. */
  window(kind: ObjectKind, from: number, to: number): ChangeWindow {
    const key = `${kind}:${from}:${to}`;
    const cached = this.cache.get(key);
    if (cached) return cached;

    const entries = this.entries[kind];
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((entries[mid]?.seq ?? 0) <= from) lo = mid + 1;
      else hi = mid;
    }
    const byIndex = new Map<number, ObjectChanges>();
    const objects: ObjectChanges[] = [];
    for (let i = lo; i < entries.length; i++) {
      const entry = entries[i];
      if (!entry || entry.seq > to) break;
      let changes = byIndex.get(entry.index);
      if (!changes) {
        changes = {
          index: entry.index,
          props: new Set(),
          created: false,
          restored: false,
          removed: false,
          members: new Map(),
        };
        byIndex.set(entry.index, changes);
        objects.push(changes);
      }
      switch (entry.op) {
        case 'create':
          changes.created = true;
          changes.removed = false;
          break;
        case 'update':
          for (const prop of entry.props ?? []) changes.props.add(prop);
          break;
        case 'softDelete':
        case 'hardDelete':
          changes.removed = true;
          break;
        case 'restore':
          changes.restored = true;
          changes.removed = false;
          break;
        case 'memberAdd':
          if (entry.ref !== undefined) changes.members.set(entry.ref, true);
          break;
        case 'memberRemove':
          if (entry.ref !== undefined) changes.members.set(entry.ref, false);
          break;
      }
    }
    const window: ChangeWindow = { objects, byIndex };
    if (this.cache.size >= WINDOW_CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, window);
    return window;
  }
}
