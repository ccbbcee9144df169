import { ChangeLog } from './change-log.js';
import { SimulatorError, notFound } from './errors.js';
import {
  companyNameFor,
  generateGroups,
  generateUser,
  indexFromUserPrincipalName,
  isoSeconds,
  userSeed,
  USER_FIELDS,
  type GeneratorContext,
} from './generator.js';
import { IdCodec } from './ids.js';
import { GroupMembers } from './memberships.js';
import {
  DEFAULT_APP_ROLES,
  groupRef,
  isGroupRef,
  refIndex,
  userRef,
  type GroupRecord,
  type MemberRef,
  type UserProperty,
  type UserRecord,
} from './model.js';
import { applyRandomChanges, type AppliedChange } from './random-changes.js';
import {
  describeIssues,
  groupPatchSchema,
  userPatchSchema,
  type GroupPatch,
  type UserPatch,
} from './schemas.js';

/**
 * One simulated Entra tenant: its users, groups and memberships, the change log that delta rounds
 * read, the admin-consent state, and the change API tests use between runs.
 *
 * Memory: a user is computed from (seed, index) when read; per user the tenant keeps one byte of flags,
 * and only changed users have an override object. Groups (few) keep their member lists as typed arrays.
 */

export type ConsentDecision = 'grant' | 'deny';
export type UserState = 'live' | 'softDeleted' | 'hardDeleted';

export interface TenantOptions {
  /** Generated users. Default 100. */
  readonly users?: number;
  /** Generated groups. Default 10. */
  readonly groups?: number;
  /** Seed of everything generated. Default: derived from the tenant's position. */
  readonly seed?: number;
  /** Default: a GUID derived from the seed. */
  readonly tenantId?: string;
  /** The initial domain, for example 'contoso.onmicrosoft.com'. Default: derived from the seed. */
  readonly domain?: string;
  /** The organisation's display name. Default: derived from the domain. */
  readonly displayName?: string;
  /** The largest generated group. Default min(users, 5000). */
  readonly maxGroupSize?: number;
  /** What the tenant's admin answers on the admin-consent page. Default 'grant'. */
  readonly consentDecision?: ConsentDecision;
}

const SOFT_DELETED = 1;
const HARD_DELETED = 2;

interface GroupState {
  readonly index: number;
  record: GroupRecord;
  readonly members: GroupMembers;
  deleted: boolean;
}

export interface TenantStats {
  readonly users: number;
  readonly softDeletedUsers: number;
  readonly hardDeletedUsers: number;
  readonly overriddenUsers: number;
  readonly groups: number;
  readonly memberships: number;
  readonly userChanges: number;
  readonly groupChanges: number;
}

export class SimulatedTenant {
  readonly tenantId: string;
  readonly domain: string;
  readonly displayName: string;
  readonly seed: number;
  readonly createdDateTime: string;
  /** Changes in order; delta rounds read windows of it. */
  readonly changes = new ChangeLog();

  /** Bumped by expireDeltaTokens(): older delta and skip tokens answer syncStateNotFound. */
  deltaEpoch = 0;
  /** Bumped by resetDeltaState(): older tokens answer 410 Gone. */
  resetEpoch = 0;

  private readonly ctx: GeneratorContext;
  private readonly ids: IdCodec;
  private readonly generatedUsers: number;
  private userTotal: number;
  private flags: Uint8Array;
  private softDeletedCount = 0;
  private hardDeletedCount = 0;
  private readonly overrides = new Map<number, UserPatch>();
  /** User principal names that differ from the generated one (lower case) -> index. */
  private readonly upnOverrides = new Map<string, number>();
  /** Groups a soft-deleted user belonged to, so a restore brings the memberships back. */
  private readonly deletedMemberships = new Map<number, number[]>();
  private readonly groupStates: GroupState[];
  private readonly consents = new Map<string, readonly string[]>();
  private decision: ConsentDecision;

  constructor(options: TenantOptions & { seed: number }) {
    this.seed = options.seed >>> 0;
    this.ids = new IdCodec(this.seed);
    this.tenantId = (options.tenantId ?? this.ids.encode('tenant', 0)).toLowerCase();
    this.domain = (
      options.domain ?? `simtenant${(this.seed % 100000).toString().padStart(5, '0')}.onmicrosoft.com`
    ).toLowerCase();
    // Generated mail and user principal names embed the domain and are written to JSON unescaped.
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(this.domain))
      throw new SimulatorError(400, `Not a domain name: '${this.domain}'`);
    const companyName = companyNameFor(this.seed, this.domain);
    this.displayName = options.displayName ?? companyName;
    this.createdDateTime = isoSeconds(Date.UTC(2017, 2, 14, 10, 0, 0));
    this.ctx = { seed: this.seed, domain: this.domain, companyName, ids: this.ids };
    this.generatedUsers = Math.max(0, Math.floor(options.users ?? 100));
    this.userTotal = this.generatedUsers;
    this.flags = new Uint8Array(this.generatedUsers + 1024);
    this.decision = options.consentDecision ?? 'grant';
    this.groupStates = generateGroups(this.ctx, {
      userCount: this.generatedUsers,
      groupCount: Math.max(0, Math.floor(options.groups ?? 10)),
      ...(options.maxGroupSize === undefined ? {} : { maxGroupSize: options.maxGroupSize }),
    }).map((generated, index) => ({
      index,
      record: generated.record,
      members: new GroupMembers(generated.members),
      deleted: false,
    }));
  }

  // ---- Index-level reads (for the Graph routes) ----

  /** Users ever created: generated plus created through the API; indexes run over [0, this). */
  get userIndexCount(): number {
    return this.userTotal;
  }

  get groupIndexCount(): number {
    return this.groupStates.length;
  }

  userState(index: number): UserState | undefined {
    if (index < 0 || index >= this.userTotal) return undefined;
    const flags = this.flags[index] ?? 0;
    if (flags & HARD_DELETED) return 'hardDeleted';
    if (flags & SOFT_DELETED) return 'softDeleted';
    return 'live';
  }

  isUserLive(index: number): boolean {
    return index >= 0 && index < this.userTotal && (this.flags[index] ?? 0) === 0;
  }

  /** The current state of user `index`, whatever its deletion state. */
  userAt(index: number): UserRecord {
    const user = generateUser(this.ctx, index);
    const override = this.overrides.get(index);
    return override ? Object.assign(user, override) : user;
  }

  /**
   * The values of some properties of user `index`, in the order asked, into `out`. The serialising fast
   * path: an unchanged user computes only the properties asked for. Returns true when the values are
   * generated ones (made from the word lists, so safe to write into JSON without escaping).
   */
  userValues(index: number, props: readonly UserProperty[], out: unknown[]): boolean {
    out.length = props.length;
    if (this.overrides.has(index)) {
      const user = this.userAt(index);
      for (let i = 0; i < props.length; i++) out[i] = user[props[i] ?? 'id'];
      return false;
    }
    const seed = userSeed(this.ctx, index);
    for (let i = 0; i < props.length; i++) out[i] = USER_FIELDS[props[i] ?? 'id'](this.ctx, seed);
    return true;
  }

  userId(index: number): string {
    return this.ids.encode('user', index);
  }

  groupId(index: number): string {
    return this.ids.encode('group', index);
  }

  isGroupLive(index: number): boolean {
    const state = this.groupStates[index];
    return state !== undefined && !state.deleted;
  }

  groupAt(index: number): GroupRecord {
    const state = this.groupStates[index];
    if (!state) throw new RangeError(`no group at index ${index}`);
    return state.record;
  }

  groupMembersAt(index: number): GroupMembers {
    const state = this.groupStates[index];
    if (!state) throw new RangeError(`no group at index ${index}`);
    return state.members;
  }

  /** The index of a user by id or user principal name (any deletion state), or undefined. */
  resolveUser(idOrUpn: string): number | undefined {
    if (idOrUpn.includes('@')) {
      const lower = idOrUpn.toLowerCase();
      const overridden = this.upnOverrides.get(lower);
      if (overridden !== undefined) return overridden;
      const index = indexFromUserPrincipalName(lower);
      if (index === undefined || index >= this.userTotal) return undefined;
      return this.userAt(index).userPrincipalName.toLowerCase() === lower ? index : undefined;
    }
    const decoded = this.ids.decode(idOrUpn);
    return decoded?.kind === 'user' && decoded.index < this.userTotal ? decoded.index : undefined;
  }

  /** The index of a group by id (deleted or not), or undefined. */
  resolveGroup(id: string): number | undefined {
    const decoded = this.ids.decode(id);
    return decoded?.kind === 'group' && decoded.index < this.groupStates.length ? decoded.index : undefined;
  }

  /** The member reference of a user or group id, or undefined. */
  resolveRef(id: string): MemberRef | undefined {
    const decoded = this.ids.decode(id);
    if (!decoded) return undefined;
    if (decoded.kind === 'user') return decoded.index < this.userTotal ? userRef(decoded.index) : undefined;
    return decoded.index < this.groupStates.length ? groupRef(decoded.index) : undefined;
  }

  refId(ref: MemberRef): string {
    return isGroupRef(ref) ? this.groupId(refIndex(ref)) : this.userId(ref);
  }

  isRefLive(ref: MemberRef): boolean {
    return isGroupRef(ref) ? this.isGroupLive(refIndex(ref)) : this.isUserLive(ref);
  }

  /** Transitive members of a group (users and nested groups), each once, nesting cycles tolerated. */
  transitiveRefs(index: number): MemberRef[] {
    const seenGroups = new Set<number>([index]);
    const seen = new Set<MemberRef>();
    const result: MemberRef[] = [];
    const queue = [index];
    for (let head = 0; head < queue.length; head++) {
      const g = queue[head] ?? 0;
      for (const ref of this.groupMembersAt(g).refs()) {
        if (seen.has(ref) || !this.isRefLive(ref)) continue;
        seen.add(ref);
        result.push(ref);
        if (isGroupRef(ref) && !seenGroups.has(refIndex(ref))) {
          seenGroups.add(refIndex(ref));
          queue.push(refIndex(ref));
        }
      }
    }
    return result;
  }

  // ---- Reads for assertions ----

  /** A live user by id or user principal name. */
  getUser(idOrUpn: string): UserRecord | undefined {
    const index = this.resolveUser(idOrUpn);
    return index !== undefined && this.isUserLive(index) ? this.userAt(index) : undefined;
  }

  /** A user's deletion state, or undefined for an id the tenant never had. */
  getUserState(idOrUpn: string): UserState | undefined {
    const index = this.resolveUser(idOrUpn);
    return index === undefined ? undefined : this.userState(index);
  }

  getGroup(id: string): GroupRecord | undefined {
    const index = this.resolveGroup(id);
    return index !== undefined && this.isGroupLive(index) ? this.groupAt(index) : undefined;
  }

  get liveUserCount(): number {
    return this.userTotal - this.softDeletedCount - this.hardDeletedCount;
  }

  get liveGroupCount(): number {
    return this.groupStates.filter((g) => !g.deleted).length;
  }

  /** Ids of live users in index order (a million ids is about 100 MB of strings: page big tenants). */
  liveUserIds(offset = 0, limit = Number.POSITIVE_INFINITY): string[] {
    const ids: string[] = [];
    let skipped = 0;
    for (let i = 0; i < this.userTotal && ids.length < limit; i++) {
      if (!this.isUserLive(i)) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      ids.push(this.userId(i));
    }
    return ids;
  }

  softDeletedUserIds(): string[] {
    return [...this.deletedMemberships.keys()].map((index) => this.userId(index));
  }

  liveGroupIds(): string[] {
    return this.groupStates.filter((g) => !g.deleted).map((g) => g.record.id);
  }

  /** Ids of a group's live direct members (users and groups). */
  membersOf(groupId: string): string[] {
    const index = this.requireGroup(groupId);
    const ids: string[] = [];
    for (const ref of this.groupMembersAt(index).refs()) if (this.isRefLive(ref)) ids.push(this.refId(ref));
    return ids;
  }

  transitiveMembersOf(groupId: string): string[] {
    return this.transitiveRefs(this.requireGroup(groupId)).map((ref) => this.refId(ref));
  }

  /** Ids of the live groups a user or group is a direct member of. */
  groupsOf(memberId: string): string[] {
    const ref = this.resolveRef(memberId);
    if (ref === undefined) throw notFound(`Object '${memberId}'`);
    return this.groupStates.filter((g) => !g.deleted && g.members.has(ref)).map((g) => g.record.id);
  }

  stats(): TenantStats {
    let memberships = 0;
    for (const g of this.groupStates) if (!g.deleted) memberships += g.members.size;
    return {
      users: this.liveUserCount,
      softDeletedUsers: this.softDeletedCount,
      hardDeletedUsers: this.hardDeletedCount,
      overriddenUsers: this.overrides.size,
      groups: this.liveGroupCount,
      memberships,
      userChanges: this.changes.size('user'),
      groupChanges: this.changes.size('group'),
    };
  }

  // ---- Users: changes ----

  createUser(properties: UserPatch = {}): UserRecord {
    const patch = parseUserPatch(properties);
    if (patch.userPrincipalName) this.assertUpnFree(patch.userPrincipalName);
    const index = this.userTotal;
    if (index >= this.flags.length) {
      const grown = new Uint8Array(this.flags.length * 2);
      grown.set(this.flags);
      this.flags = grown;
    }
    this.userTotal += 1;
    // A created user starts from the generated user at the next index, so it is as realistic as the
    // rest; the given properties win.
    if (Object.keys(patch).length > 0) this.setOverride(index, patch);
    this.changes.record('user', index, 'create');
    return this.userAt(index);
  }

  updateUser(idOrUpn: string, properties: UserPatch): UserRecord {
    const index = this.requireLiveUser(idOrUpn);
    const patch = parseUserPatch(properties);
    const current = this.userAt(index);
    const changed: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (JSON.stringify(current[key as keyof UserRecord]) !== JSON.stringify(value)) changed.push(key);
    }
    if (changed.length === 0) return current;
    if (patch.userPrincipalName && changed.includes('userPrincipalName'))
      this.assertUpnFree(patch.userPrincipalName);
    this.setOverride(index, patch);
    this.changes.record('user', index, 'update', { props: changed });
    return this.userAt(index);
  }

  /** Moves a user to deleted items (restorable); its group memberships go with it. */
  softDeleteUser(idOrUpn: string): void {
    const index = this.requireLiveUser(idOrUpn);
    this.deletedMemberships.set(index, this.removeFromAllGroups(userRef(index)));
    this.flags[index] = SOFT_DELETED;
    this.softDeletedCount += 1;
    this.changes.record('user', index, 'softDelete');
  }

  /** Restores a soft-deleted user with its group memberships. */
  restoreUser(idOrUpn: string): UserRecord {
    const index = this.resolveUser(idOrUpn);
    if (index === undefined) throw notFound(`User '${idOrUpn}'`);
    if (this.userState(index) !== 'softDeleted') {
      throw new SimulatorError(
        409,
        `User '${idOrUpn}' is not in deleted items (state: ${this.userState(index) ?? 'unknown'})`,
      );
    }
    this.flags[index] = 0;
    this.softDeletedCount -= 1;
    this.changes.record('user', index, 'restore');
    for (const g of this.deletedMemberships.get(index) ?? []) {
      const state = this.groupStates[g];
      if (state && !state.deleted && state.members.add(userRef(index))) {
        this.changes.record('group', g, 'memberAdd', { ref: userRef(index) });
      }
    }
    this.deletedMemberships.delete(index);
    return this.userAt(index);
  }

  /** Deletes a user permanently (from live or from deleted items). */
  hardDeleteUser(idOrUpn: string): void {
    const index = this.resolveUser(idOrUpn);
    if (index === undefined) throw notFound(`User '${idOrUpn}'`);
    const state = this.userState(index);
    if (state === 'hardDeleted')
      throw new SimulatorError(409, `User '${idOrUpn}' is already permanently deleted`);
    if (state === 'live') this.removeFromAllGroups(userRef(index));
    else this.softDeletedCount -= 1;
    this.deletedMemberships.delete(index);
    this.flags[index] = HARD_DELETED;
    this.hardDeletedCount += 1;
    const upn = this.overrides.get(index)?.userPrincipalName;
    if (upn) this.upnOverrides.delete(upn.toLowerCase());
    this.overrides.delete(index);
    this.changes.record('user', index, 'hardDelete');
  }

  // ---- Groups and memberships: changes ----

  createGroup(properties: GroupPatch & { members?: readonly string[] } = {}): GroupRecord {
    const { members = [], ...rest } = properties;
    const patch = parseGroupPatch(rest);
    const index = this.groupStates.length;
    const displayName = patch.displayName ?? `New Group ${index}`;
    const mailNickname =
      patch.mailNickname ?? (displayName.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || `group${index}`);
    const unified = (patch.groupTypes ?? []).includes('Unified');
    const now = isoSeconds(Date.now());
    const mail = patch.mail !== undefined ? patch.mail : unified ? `${mailNickname}@${this.domain}` : null;
    const record: GroupRecord = {
      id: this.groupId(index),
      classification: null,
      createdDateTime: now,
      deletedDateTime: null,
      description: null,
      displayName,
      expirationDateTime: null,
      groupTypes: [],
      isAssignableToRole: null,
      mail,
      mailEnabled: unified,
      mailNickname,
      membershipRule: null,
      membershipRuleProcessingState: null,
      onPremisesLastSyncDateTime: null,
      onPremisesSecurityIdentifier: null,
      onPremisesSyncEnabled: null,
      preferredDataLocation: null,
      preferredLanguage: null,
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      renewedDateTime: now,
      resourceBehaviorOptions: [],
      resourceProvisioningOptions: [],
      securityEnabled: !unified,
      securityIdentifier: `S-1-12-1-${this.seed}-${index}-0-1`,
      theme: null,
      visibility: unified ? 'Public' : null,
      onPremisesProvisioningErrors: [],
      ...patch,
    };
    this.groupStates.push({ index, record, members: new GroupMembers(), deleted: false });
    this.changes.record('group', index, 'create');
    for (const member of members) this.addMember(record.id, member);
    return record;
  }

  updateGroup(id: string, properties: GroupPatch): GroupRecord {
    const index = this.requireGroup(id);
    const patch = parseGroupPatch(properties);
    const state = this.groupStates[index];
    if (!state) throw notFound(`Group '${id}'`);
    const changed = Object.entries(patch)
      .filter(
        ([key, value]) => JSON.stringify(state.record[key as keyof GroupRecord]) !== JSON.stringify(value),
      )
      .map(([key]) => key);
    if (changed.length === 0) return state.record;
    state.record = { ...state.record, ...patch };
    this.changes.record('group', index, 'update', { props: changed });
    return state.record;
  }

  renameGroup(id: string, displayName: string): GroupRecord {
    return this.updateGroup(id, { displayName });
  }

  /** Deletes a group (permanently, as security groups are) and removes it from the groups it was in. */
  deleteGroup(id: string): void {
    const index = this.requireGroup(id);
    const state = this.groupStates[index];
    if (!state) throw notFound(`Group '${id}'`);
    this.removeFromAllGroups(groupRef(index));
    state.deleted = true;
    this.changes.record('group', index, 'hardDelete');
  }

  addMember(groupId: string, memberId: string): boolean {
    const index = this.requireGroup(groupId);
    const ref = this.resolveRef(memberId);
    if (ref === undefined || !this.isRefLive(ref)) throw notFound(`Member '${memberId}'`);
    if (ref === groupRef(index)) throw new SimulatorError(400, 'A group cannot be a member of itself');
    if (!this.groupMembersAt(index).add(ref)) return false;
    this.changes.record('group', index, 'memberAdd', { ref });
    return true;
  }

  removeMember(groupId: string, memberId: string): boolean {
    const index = this.requireGroup(groupId);
    const ref = this.resolveRef(memberId);
    if (ref === undefined) throw notFound(`Member '${memberId}'`);
    if (!this.groupMembersAt(index).remove(ref)) return false;
    this.changes.record('group', index, 'memberRemove', { ref });
    return true;
  }

  // ---- Delta state ----

  /** Every delta and skip token issued so far answers 400 syncStateNotFound from now on. */
  expireDeltaTokens(): void {
    this.deltaEpoch += 1;
    this.changes.truncate();
  }

  /** Every delta token issued so far answers 410 Gone (a "synchronization reset") from now on. */
  resetDeltaState(): void {
    this.resetEpoch += 1;
    this.changes.truncate();
  }

  // ---- Consent ----

  get consentDecision(): ConsentDecision {
    return this.decision;
  }

  setConsentDecision(decision: ConsentDecision): void {
    this.decision = decision;
  }

  grantConsent(clientId: string, roles: readonly string[] = DEFAULT_APP_ROLES): void {
    this.consents.set(clientId.toLowerCase(), [...roles]);
  }

  revokeConsent(clientId: string): void {
    this.consents.delete(clientId.toLowerCase());
  }

  hasConsent(clientId: string): boolean {
    return this.consents.has(clientId.toLowerCase());
  }

  /** The application permissions granted to an app in this tenant, or undefined without consent. */
  grantedRoles(clientId: string): readonly string[] | undefined {
    return this.consents.get(clientId.toLowerCase());
  }

  // ---- Bulk ----

  /** A realistic mix of changes (see random-changes.ts), deterministic for a seed and tenant state. */
  applyRandomChanges(count: number, seed: number): AppliedChange[] {
    return applyRandomChanges(this, count, seed);
  }

  // ---- Internals ----

  private requireLiveUser(idOrUpn: string): number {
    const index = this.resolveUser(idOrUpn);
    if (index === undefined || !this.isUserLive(index)) throw notFound(`User '${idOrUpn}'`);
    return index;
  }

  private requireGroup(id: string): number {
    const index = this.resolveGroup(id);
    if (index === undefined || !this.isGroupLive(index)) throw notFound(`Group '${id}'`);
    return index;
  }

  private assertUpnFree(upn: string): void {
    const existing = this.resolveUser(upn);
    if (existing !== undefined && this.userState(existing) !== 'hardDeleted') {
      throw new SimulatorError(
        409,
        `Another object with the same value for property userPrincipalName already exists: '${upn}'`,
      );
    }
  }

  private setOverride(index: number, patch: UserPatch): void {
    const previous = this.overrides.get(index);
    if (patch.userPrincipalName !== undefined) {
      const oldUpn = this.userAt(index).userPrincipalName.toLowerCase();
      this.upnOverrides.delete(oldUpn);
      this.upnOverrides.set(patch.userPrincipalName.toLowerCase(), index);
    }
    this.overrides.set(index, { ...previous, ...patch });
  }

  /** Removes a member from every group, logging each removal; returns the groups it was in. */
  private removeFromAllGroups(ref: MemberRef): number[] {
    const removedFrom: number[] = [];
    for (const state of this.groupStates) {
      if (state.deleted || !state.members.remove(ref)) continue;
      removedFrom.push(state.index);
      this.changes.record('group', state.index, 'memberRemove', { ref });
    }
    return removedFrom;
  }
}

function parseUserPatch(properties: unknown): UserPatch {
  const parsed = userPatchSchema.safeParse(properties);
  if (!parsed.success)
    throw new SimulatorError(400, `Invalid user properties: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function parseGroupPatch(properties: unknown): GroupPatch {
  const parsed = groupPatchSchema.safeParse(properties);
  if (!parsed.success)
    throw new SimulatorError(400, `Invalid group properties: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
