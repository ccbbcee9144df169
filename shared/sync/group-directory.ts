import type { EntraGroup } from '../engine/run-context.js';

/**
 * The Entra groups of a tenant as a run needs them: names (to resolve the connection's references),
 * group-in-group edges (for nesting), and the user members of the groups that matter to the
 * connection. Built from a groups delta round, or loaded from the Groups tables for a sync.
 */
export interface GroupInfo {
  id: string;
  displayName: string | null;
}

export class GroupDirectory {
  readonly groups = new Map<string, GroupInfo>();
  /** Group id to the ids of the groups that are its direct members. */
  readonly #childGroups = new Map<string, Set<string>>();
  /** Group id to the ids of its direct user members (only for groups whose users are kept). */
  readonly #userMembers = new Map<string, Set<string>>();

  upsertGroup(id: string, displayName: string | null | undefined): void {
    const current = this.groups.get(id);
    this.groups.set(id, {
      id,
      displayName: displayName === undefined ? (current?.displayName ?? null) : displayName,
    });
  }

  removeGroup(id: string): void {
    this.groups.delete(id);
    this.#childGroups.delete(id);
    this.#userMembers.delete(id);
    for (const children of this.#childGroups.values()) children.delete(id);
  }

  addMember(groupId: string, memberId: string, kind: 'user' | 'group'): void {
    const index = kind === 'group' ? this.#childGroups : this.#userMembers;
    let members = index.get(groupId);
    if (!members) {
      members = new Set();
      index.set(groupId, members);
    }
    members.add(memberId);
  }

  removeMember(groupId: string, memberId: string): void {
    this.#childGroups.get(groupId)?.delete(memberId);
    this.#userMembers.get(groupId)?.delete(memberId);
  }

  childGroups(groupId: string): ReadonlySet<string> {
    return this.#childGroups.get(groupId) ?? new Set();
  }

  userMembers(groupId: string): ReadonlySet<string> {
    return this.#userMembers.get(groupId) ?? new Set();
  }

  setUserMembers(groupId: string, members: Iterable<string>): void {
    this.#userMembers.set(groupId, new Set(members));
  }

  /** The groups in the shape the engine's run context wants: with the groups each is a member of. */
  entraGroups(): EntraGroup[] {
    const parents = new Map<string, string[]>();
    for (const [parentId, children] of this.#childGroups) {
      for (const child of children) {
        const list = parents.get(child);
        if (list) list.push(parentId);
        else parents.set(child, [parentId]);
      }
    }
    return [...this.groups.values()].map((group) => ({
      id: group.id,
      displayName: group.displayName ?? '',
      memberOfGroupIds: parents.get(group.id) ?? [],
    }));
  }

  /**
   * The groups whose user members matter: the named ones, and with nesting every group below them.
   * Entra allows cycles in nesting data; each group is visited once.
   */
  relevantGroups(named: Iterable<string>, nested: boolean): Set<string> {
    const relevant = new Set<string>();
    const stack = [...named];
    while (stack.length > 0) {
      const groupId = stack.pop() as string;
      if (relevant.has(groupId) || !this.groups.has(groupId)) continue;
      relevant.add(groupId);
      if (nested) stack.push(...this.childGroups(groupId));
    }
    return relevant;
  }

  /** For each user, the relevant groups it is a direct member of (the engine expands nesting). */
  directMemberships(relevant: ReadonlySet<string>): Map<string, string[]> {
    const byUser = new Map<string, string[]>();
    for (const groupId of relevant) {
      for (const userId of this.userMembers(groupId)) {
        const groups = byUser.get(userId);
        if (groups) groups.push(groupId);
        else byUser.set(userId, [groupId]);
      }
    }
    return byUser;
  }

  /** Drops the user members of groups that do not matter, so a run holds only what it needs. */
  keepUserMembersOf(relevant: ReadonlySet<string>): void {
    for (const groupId of [...this.#userMembers.keys()]) {
      if (!relevant.has(groupId)) this.#userMembers.delete(groupId);
    }
  }
}
