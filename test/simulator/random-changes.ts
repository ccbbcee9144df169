import { DEPARTMENTS, GIVEN_NAMES, GROUP_TOPICS, LANGUAGES, OFFICES, SURNAMES } from './names.js';
import { Prng } from './random.js';
import type { UserPatch } from './schemas.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * A realistic mix of directory changes for benchmarks ("sync of 100 changes") and soak tests. Mostly
 * profile edits, then membership churn, joiners and leavers, and a few group changes. Deterministic for
 * a given seed and tenant state; returns what it did so a test can check the engine saw each change.
 */

export type AppliedChange =
  | { readonly op: 'createUser'; readonly id: string }
  | { readonly op: 'updateUser'; readonly id: string; readonly properties: UserPatch }
  | { readonly op: 'softDeleteUser' | 'restoreUser' | 'hardDeleteUser'; readonly id: string }
  | { readonly op: 'addMember' | 'removeMember'; readonly groupId: string; readonly memberId: string }
  | { readonly op: 'createGroup' | 'renameGroup'; readonly id: string; readonly displayName: string }
  | { readonly op: 'deleteGroup'; readonly id: string };

type Op = AppliedChange['op'];

/** Relative weights of each kind of change. */
const WEIGHTS: readonly (readonly [Op, number])[] = [
  ['updateUser', 45],
  ['addMember', 15],
  ['removeMember', 10],
  ['createUser', 8],
  ['softDeleteUser', 8],
  ['restoreUser', 4],
  ['hardDeleteUser', 3],
  ['renameGroup', 3],
  ['createGroup', 2],
  ['deleteGroup', 1],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function pickOp(rng: Prng): Op {
  let roll = rng.int(TOTAL_WEIGHT);
  for (const [op, weight] of WEIGHTS) {
    if (roll < weight) return op;
    roll -= weight;
  }
  return 'updateUser';
}

function randomLiveUser(tenant: SimulatedTenant, rng: Prng): number | undefined {
  const total = tenant.userIndexCount;
  if (tenant.liveUserCount === 0) return undefined;
  for (let attempt = 0; attempt < 64; attempt++) {
    const index = rng.int(total);
    if (tenant.isUserLive(index)) return index;
  }
  for (let index = 0; index < total; index++) if (tenant.isUserLive(index)) return index;
  return undefined;
}

function randomLiveGroup(tenant: SimulatedTenant, rng: Prng): number | undefined {
  const live: number[] = [];
  for (let g = 0; g < tenant.groupIndexCount; g++) if (tenant.isGroupLive(g)) live.push(g);
  return live.length === 0 ? undefined : rng.pick(live);
}

function profileEdit(tenant: SimulatedTenant, index: number, rng: Prng): UserPatch {
  const user = tenant.userAt(index);
  const patch: UserPatch = {};
  const edits = 1 + rng.int(2);
  for (let e = 0; e < edits; e++) {
    switch (rng.int(7)) {
      case 0: {
        const department = rng.pick(DEPARTMENTS);
        patch.department = department.name;
        patch.jobTitle = rng.pick(department.titles);
        break;
      }
      case 1:
        patch.jobTitle = rng.pick(rng.pick(DEPARTMENTS).titles);
        break;
      case 2: {
        const office = rng.pick(OFFICES);
        patch.officeLocation = `${office.city} ${1 + rng.int(12)}/${100 + rng.int(900)}`;
        patch.city = office.city;
        patch.country = office.country;
        break;
      }
      case 3:
        patch.mobilePhone = rng.chance(0.1) ? null : `+1 425 555 01${String(rng.int(100)).padStart(2, '0')}`;
        break;
      case 4: {
        const surname = rng.pick(SURNAMES);
        patch.surname = surname;
        patch.displayName = `${user.givenName ?? rng.pick(GIVEN_NAMES)} ${surname}`;
        break;
      }
      case 5:
        patch.accountEnabled = !user.accountEnabled;
        break;
      default:
        patch.preferredLanguage = rng.pick(LANGUAGES);
        break;
    }
  }
  return patch;
}

function applyOne(tenant: SimulatedTenant, op: Op, rng: Prng): AppliedChange | undefined {
  switch (op) {
    case 'createUser': {
      const user = tenant.createUser();
      return { op, id: user.id };
    }
    case 'updateUser': {
      const index = randomLiveUser(tenant, rng);
      if (index === undefined) return undefined;
      const properties = profileEdit(tenant, index, rng);
      const id = tenant.userId(index);
      tenant.updateUser(id, properties);
      return { op, id, properties };
    }
    case 'softDeleteUser':
    case 'hardDeleteUser': {
      const index = randomLiveUser(tenant, rng);
      if (index === undefined) return undefined;
      const id = tenant.userId(index);
      if (op === 'softDeleteUser') tenant.softDeleteUser(id);
      else tenant.hardDeleteUser(id);
      return { op, id };
    }
    case 'restoreUser': {
      const deleted = tenant.softDeletedUserIds();
      if (deleted.length === 0) return undefined;
      const id = rng.pick(deleted);
      tenant.restoreUser(id);
      return { op, id };
    }
    case 'addMember': {
      const g = randomLiveGroup(tenant, rng);
      const u = randomLiveUser(tenant, rng);
      if (g === undefined || u === undefined) return undefined;
      const groupId = tenant.groupId(g);
      const memberId = tenant.userId(u);
      return tenant.addMember(groupId, memberId) ? { op, groupId, memberId } : undefined;
    }
    case 'removeMember': {
      const g = randomLiveGroup(tenant, rng);
      if (g === undefined) return undefined;
      const members = tenant.groupMembersAt(g);
      if (members.size === 0) return undefined;
      for (let attempt = 0; attempt < 64; attempt++) {
        const ref = members.rawAt(rng.int(members.rawLength));
        if (ref === undefined) continue;
        const groupId = tenant.groupId(g);
        const memberId = tenant.refId(ref);
        return tenant.removeMember(groupId, memberId) ? { op, groupId, memberId } : undefined;
      }
      return undefined;
    }
    case 'createGroup': {
      const displayName = `${rng.pick(GROUP_TOPICS)} Working Group ${1 + rng.int(99)}`;
      const group = tenant.createGroup({ displayName });
      return { op, id: group.id, displayName };
    }
    case 'renameGroup': {
      const g = randomLiveGroup(tenant, rng);
      if (g === undefined) return undefined;
      const displayName = `${tenant.groupAt(g).displayName.replace(/ \(renamed \d+\)$/, '')} (renamed ${1 + rng.int(999)})`;
      const id = tenant.groupId(g);
      tenant.renameGroup(id, displayName);
      return { op, id, displayName };
    }
    case 'deleteGroup': {
      // Keep at least a couple of groups so later changes still have somewhere to go.
      if (tenant.liveGroupCount <= 2) return undefined;
      const g = randomLiveGroup(tenant, rng);
      if (g === undefined) return undefined;
      const id = tenant.groupId(g);
      tenant.deleteGroup(id);
      return { op, id };
    }
  }
}

export function applyRandomChanges(tenant: SimulatedTenant, count: number, seed: number): AppliedChange[] {
  const rng = new Prng(seed);
  const applied: AppliedChange[] = [];
  // An op that finds nothing to act on (no deleted user to restore, say) falls back to a profile edit,
  // so the count is always met on a tenant with at least one user.
  for (let attempts = 0; applied.length < count && attempts < count * 20; attempts++) {
    const change = applyOne(tenant, pickOp(rng), rng) ?? applyOne(tenant, 'updateUser', rng);
    if (change) applied.push(change);
  }
  return applied;
}
