import { createHash } from 'node:crypto';
import type { ConnectionConfig } from '../config/connection.js';
import { decide } from '../engine/decide.js';
import { canonicalJson } from '../engine/hash.js';
import { normaliseEmail } from '../engine/email.js';
import { mapSourceUser } from '../engine/map-user.js';
import type { RunContext } from '../engine/run-context.js';
import type {
  AppUserState,
  Decision,
  EmailCandidate,
  LinkedAppUser,
  MappedValue,
  SourceUser,
  SuspensionReason,
} from '../engine/types.js';
import type { EmailClaim, EmailClaimStore } from '../storage/email-claims.js';
import { userPartition } from '../storage/keys.js';
import type {
  AttributeValue,
  StoredUser,
  UserIndexEntry,
  UserStore,
  UserWriteBuffer,
} from '../storage/users.js';
import type { RemovalQueue } from './removals.js';
import type { SeatLedger } from './seats.js';
import type { RunTally } from './tally.js';

/**
 * The heart of every run: one page of source users, reconciled. Stored state is read in bulk, e-mail
 * addresses are claimed (atomically) before any user is written, seats are taken for the page in one
 * update, each user is decided by the pure engine, and the writes go out in partition transactions.
 * Suspensions and deletions are queued, not written, so the run can hold them at the threshold.
 * A preview runs the same code with `preview: true` and writes nothing.
 */
export interface ReconcileDeps {
  readonly config: ConnectionConfig;
  readonly context: RunContext;
  readonly runId: string;
  readonly preview: boolean;
  readonly configVersion: string;
  readonly users: UserStore;
  readonly claims: EmailClaimStore;
  readonly seats: SeatLedger;
  readonly tally: RunTally;
  readonly removals: RemovalQueue;
  /** The index of linked users read at the start of a full import; absent for a sync. */
  readonly index?: ReadonlyMap<string, UserIndexEntry>;
  /** Where a full import puts its user writes, to fill transactions across pages; absent: written at once. */
  readonly writeBuffer?: UserWriteBuffer;
  readonly now?: () => string;
}

/** What of the connection's mapping decides what is written: a change here re-decides every user. */
export function configVersionOf(config: ConnectionConfig): string {
  const relevant = {
    division: config.division,
    scope: JSON.stringify(config.scope),
    attributes: JSON.stringify(config.attributes),
    groupMappings: JSON.stringify(config.groupMappings),
    licenses: JSON.stringify(config.licenses),
  };
  return createHash('sha256').update(canonicalJson(relevant)).digest('base64url').slice(0, 22);
}

/** Hash of what was read for a user: equal means the user needs no decision at all. */
export function sourceHashOf(source: SourceUser, configVersion: string): string {
  const canonical = canonicalJson({
    properties: source.properties as Record<string, MappedValue>,
    memberOf: [...source.memberOf].sort(),
    configVersion,
  });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 27);
}

export function appUserIdOf(connectionId: string, objectId: string): string {
  return `${connectionId}.${objectId}`;
}

function userNameOf(source: SourceUser): string | null {
  const upn = source.properties.userPrincipalName;
  return typeof upn === 'string' ? upn : null;
}

function toAttributes(values: Readonly<Record<string, MappedValue>>): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(values)) {
    attributes[name] = Array.isArray(value) ? JSON.stringify(value) : (value as AttributeValue);
  }
  return attributes;
}

function stateOf(user: StoredUser): AppUserState {
  return {
    appUserId: user.appUserId,
    status: user.status === 'suspended' ? 'suspended' : 'active',
    suspensionReason: user.suspendedBy === '' ? null : user.suspendedBy,
    attributes: user.attributes,
    appGroups: user.appGroups,
    roles: user.roles,
    license: user.license === '' ? null : user.license,
  };
}

function linkedOf(user: StoredUser | undefined): LinkedAppUser | null {
  // A deleted user is a tombstone for readers, not a link: the same object id coming back starts over.
  if (!user || user.status === 'deleted') return null;
  return { ...stateOf(user), hash: user.mappedHash };
}

interface Pending {
  source: SourceUser;
  /** For an unlinked user: its mapped userName as an address, when it differs from its e-mail. */
  userNameKey: string | null;
  stored: StoredUser | undefined;
  sourceHash: string;
  /** The e-mail key this user needs to hold, when it differs from what it holds. */
  claimKey: string | null;
  candidates: EmailCandidate[];
  /** A native app user found by e-mail, read so that LINK keeps its id and before-values. */
  native: StoredUser | undefined;
  /** The claim this run took for the user and must give back unless the user ends up holding it. */
  claimedNow: boolean;
  /** The claim was ours before this run touched it: maybe another delivery of this page is using it. */
  alreadyOurs: boolean;
  holder: EmailClaim | undefined;
}

export async function reconcileUsers(deps: ReconcileDeps, sources: readonly SourceUser[]): Promise<void> {
  const connectionId = deps.config.id;
  // A user can come twice in one round (Graph replays): the later copy is the newer state.
  const byId = new Map<string, SourceUser>();
  for (const source of sources) byId.set(source.id.toLowerCase(), { ...source, id: source.id.toLowerCase() });

  const pending: Pending[] = [];
  const toRead: string[] = [];
  for (const source of byId.values()) {
    const sourceHash = sourceHashOf(source, deps.configVersion);
    const known = deps.index?.get(source.id);
    if (known && source.removal === null && known.status === 'active' && known.sourceHash === sourceHash) {
      deps.tally.unchanged(source.id, userNameOf(source));
      deps.removals.drop(userPartition(connectionId, source.id), source.id);
      continue;
    }
    if (!deps.index || known) toRead.push(source.id);
    pending.push({
      source,
      userNameKey: null,
      stored: undefined,
      sourceHash,
      claimKey: null,
      candidates: [],
      native: undefined,
      claimedNow: false,
      alreadyOurs: false,
      holder: undefined,
    });
  }
  if (pending.length === 0) return;

  const stored = await deps.users.getMany(connectionId, toRead);
  for (const item of pending) item.stored = stored.get(item.source.id);

  await resolveEmailCandidates(deps, pending);
  await reserveSeats(deps, pending);

  const writes: StoredUser[] = [];
  const refreshes: StoredUser[] = [];
  const releaseClaims: { mailKey: string; sourceId: string }[] = [];
  const releaseFresh: string[] = [];
  const releaseUnlessHeld: { mailKey: string; sourceId: string }[] = [];
  const links: { native: StoredUser; holder: EmailClaim; linked: StoredUser }[] = [];
  const now = deps.now?.() ?? new Date().toISOString();

  for (const item of pending) {
    const linked = linkedOf(item.stored);
    const decision = decide(deps.context, {
      source: item.source,
      linked,
      emailCandidates: item.candidates,
      freeSeats: deps.seats.freeSeats(),
    });
    deps.tally.record(decision, userNameOf(item.source));
    if (!REMOVAL_ACTIONS.has(decision.action))
      deps.removals.drop(userPartition(connectionId, item.source.id), item.source.id);
    const keepsClaim = applyDecision(deps, item, decision, now, { writes, refreshes, links });
    if (item.claimedNow && !keepsClaim && item.claimKey) {
      if (item.alreadyOurs) releaseUnlessHeld.push({ mailKey: item.claimKey, sourceId: item.source.id });
      else releaseFresh.push(item.claimKey);
    }
    // The address the user held before, when it now holds another one.
    const previousKey = item.stored?.mailKey;
    if (keepsClaim && previousKey && item.claimKey && previousKey !== item.claimKey) {
      releaseClaims.push({ mailKey: previousKey, sourceId: item.source.id });
    }
  }

  if (!deps.preview) {
    if (deps.writeBuffer) await deps.writeBuffer.add(writes);
    else await deps.users.putMany(writes);
    await deps.users.mergeMany(refreshes);
    // A link moves the claim to the linked user: that user must be stored first.
    if (links.length > 0) await deps.writeBuffer?.flush();
    for (const link of links) {
      // The claim moves to the linked entity first: from then on the native entity is only a leftover.
      // A native user found by its userName holds another address than the one the user now claims.
      if (link.holder.mailKey === link.linked.mailKey)
        await deps.claims.transfer(link.holder, claimFor(link.linked));
      else await deps.claims.release(link.holder.mailKey, { connectionId: '', sourceId: '' });
      await deps.users.delete(link.native.partitionKey, link.native.rowKey);
    }
    await deps.claims.releaseFresh(releaseFresh);
    // A claim that was ours before this run is a leftover of a run that died, or is held by our user as
    // written by another delivery of this page running at the same time: it goes only in the first case.
    for (const release of releaseUnlessHeld) {
      const holder = await deps.users.get(connectionId, release.sourceId);
      if (holder && holder.status !== 'deleted' && holder.mailKey === release.mailKey) continue;
      await deps.claims.release(release.mailKey, { connectionId, sourceId: release.sourceId });
    }
    for (const release of releaseClaims) {
      await deps.claims.release(release.mailKey, { connectionId, sourceId: release.sourceId });
    }
  }
  await deps.seats.settle();
}

function claimFor(user: StoredUser): Omit<EmailClaim, 'mailKey' | 'etag'> {
  return {
    appUserId: user.appUserId,
    connectionId: user.connectionId,
    sourceId: user.sourceId,
    division: user.division,
    userPartitionKey: user.partitionKey,
    userRowKey: user.rowKey,
    claimedAt: new Date().toISOString(),
  };
}

/**
 * Finds the app users a source user could be: the holder of the address it needs and, for a user not
 * linked yet, the holder of its userName when that is another address (correlation). In a real run the
 * address is claimed right away (an atomic insert), so that between this read and the user write nobody
 * else can take it; in a preview it is only looked up.
 */
async function resolveEmailCandidates(deps: ReconcileDeps, pending: Pending[]): Promise<void> {
  const connectionId = deps.config.id;
  const wanting: Pending[] = [];
  for (const item of pending) {
    if (item.source.removal !== null) continue;
    const { mapped } = mapSourceUser(deps.context, item.source);
    const key = mapped.emailKey;
    if (!mapped.inScope || key === null) continue;
    const linked = item.stored !== undefined && item.stored.status !== 'deleted';
    if (!linked) {
      const userName = mapped.attributes.userName;
      const userNameKey =
        typeof userName === 'string' && userName.includes('@') ? normaliseEmail(userName) : null;
      item.userNameKey = userNameKey !== key ? userNameKey : null;
    }
    // A division change re-takes the claim too, so that it records the user's new division.
    if (linked && item.stored?.mailKey === key && item.stored.division === deps.config.division) continue;
    item.claimKey = key;
    wanting.push(item);
  }
  if (wanting.length === 0) return;

  const holders = deps.preview
    ? await deps.claims.getMany(wanting.map((item) => item.claimKey as string))
    : await deps.claims.claimMany(
        wanting.map((item) => ({ mailKey: item.claimKey as string, ...ownClaim(deps, item) })),
      );
  const userNameKeys = wanting.flatMap((item) => (item.userNameKey === null ? [] : [item.userNameKey]));
  const userNameHolders =
    userNameKeys.length === 0 ? new Map<string, EmailClaim>() : await deps.claims.getMany(userNameKeys);

  // Two users of this page wanting one address: the first keeps it, the second sees it taken.
  const firstWanter = new Map<string, string>();
  for (const item of wanting) {
    const key = item.claimKey as string;
    const found: EmailClaim[] = [];
    const holder = holders.get(key);
    if (!holder) {
      const first = firstWanter.get(key);
      if (first === undefined) {
        firstWanter.set(key, item.source.id);
        item.claimedNow = !deps.preview;
      } else {
        item.candidates.push({
          appUserId: appUserIdOf(connectionId, first),
          division: deps.config.division,
          link: { connectionId, sourceUserId: first },
        });
      }
    } else if (holder.connectionId === connectionId && holder.sourceId === item.source.id) {
      // Ours already: left by a run that stopped between claiming and writing, or a division change.
      if (!deps.preview && holder.division !== deps.config.division)
        await deps.claims.transfer(holder, ownClaim(deps, item));
      item.claimedNow = !deps.preview;
      item.alreadyOurs = true;
    } else if (
      (await isStaleClaim(deps, holder)) &&
      (deps.preview || (await deps.claims.transfer(holder, ownClaim(deps, item))))
    ) {
      item.claimedNow = !deps.preview;
    } else {
      found.push(holder);
    }
    const byUserName = item.userNameKey === null ? undefined : userNameHolders.get(item.userNameKey);
    if (
      byUserName &&
      byUserName.appUserId !== found[0]?.appUserId &&
      !(await isStaleClaim(deps, byUserName))
    ) {
      found.push(byUserName);
    }
    for (const claim of found) {
      const native =
        claim.connectionId === ''
          ? await deps.users.getByKey(claim.userPartitionKey, claim.userRowKey)
          : undefined;
      if (found.length === 1) {
        item.holder = claim;
        item.native = native;
      }
      item.candidates.push({
        appUserId: claim.appUserId,
        division: claim.division,
        link:
          claim.connectionId === ''
            ? null
            : { connectionId: claim.connectionId, sourceUserId: claim.sourceId },
        current: native ? stateOf(native) : null,
      });
    }
  }
}

function ownClaim(deps: ReconcileDeps, item: Pending): Omit<EmailClaim, 'mailKey' | 'etag'> {
  const connectionId = deps.config.id;
  return {
    appUserId: item.stored?.appUserId ?? appUserIdOf(connectionId, item.source.id),
    connectionId,
    sourceId: item.source.id,
    division: deps.config.division,
    userPartitionKey: userPartition(connectionId, item.source.id),
    userRowKey: item.source.id,
    claimedAt: new Date().toISOString(),
  };
}

/**
 * A claim whose user no longer holds the address (it changed it, was deleted, or never got written
 * because its run stopped) is stale and may be taken over.
 */
async function isStaleClaim(deps: ReconcileDeps, holder: EmailClaim): Promise<boolean> {
  const owner = await deps.users.getByKey(holder.userPartitionKey, holder.userRowKey);
  if (!owner) {
    // A claim younger than a few minutes may belong to a run that is about to write its user.
    return Date.now() - Date.parse(holder.claimedAt) > 10 * 60_000;
  }
  if (owner.status === 'deleted') return true;
  // A linked user records the address it holds; a native user's entity is the application's own.
  return holder.connectionId !== '' && owner.mailKey !== holder.mailKey;
}

/** Takes, in one update per licence, the seats this page could need: users gaining a licence. */
async function reserveSeats(deps: ReconcileDeps, pending: readonly Pending[]): Promise<void> {
  const wanted = new Map<string, number>();
  for (const item of pending) {
    if (item.source.removal !== null) continue;
    const { mapped } = mapSourceUser(deps.context, item.source);
    if (!mapped.inScope || mapped.license === null) continue;
    const current =
      item.stored && item.stored.status !== 'deleted' ? item.stored.license : (item.native?.license ?? '');
    if (current === mapped.license) continue;
    wanted.set(mapped.license, (wanted.get(mapped.license) ?? 0) + 1);
  }
  await deps.seats.reserve(wanted);
}

const SEAT_TAKING = new Set(['CREATE', 'LINK', 'UPDATE', 'REACTIVATE']);
const REMOVAL_ACTIONS = new Set(['SUSPEND', 'DELETE', 'UNLINK']);

/** Turns a decision into entity writes or queued removals; returns whether the user keeps its claim. */
function applyDecision(
  deps: ReconcileDeps,
  item: Pending,
  decision: Decision,
  now: string,
  out: {
    writes: StoredUser[];
    refreshes: StoredUser[];
    links: { native: StoredUser; holder: EmailClaim; linked: StoredUser }[];
  },
): boolean {
  const connectionId = deps.config.id;
  const { source, stored } = item;
  const current = stored && stored.status !== 'deleted' ? stored : undefined;
  const previousLicense = (current?.license ?? item.native?.license ?? '') || null;

  switch (decision.action) {
    case 'CREATE':
    case 'UPDATE':
    case 'LINK':
    case 'REACTIVATE': {
      // The division is the connection's, not the mapping's: moving it is a write the hash cannot see.
      const divisionChanged = current !== undefined && current.division !== deps.config.division;
      if (decision.action === 'UPDATE' && !decision.write && !divisionChanged) {
        // Nothing the app sees changed; keep the stored snapshot current so partial deltas merge right.
        if (current && current.sourceHash !== item.sourceHash)
          out.refreshes.push(withSource(current, item, now));
        return true;
      }
      const base = decision.action === 'LINK' ? item.native : current;
      const license = decision.mapped.license;
      if (license !== null && license !== previousLicense && SEAT_TAKING.has(decision.action))
        deps.seats.spend(license);
      if (previousLicense !== null && previousLicense !== license) deps.seats.release(previousLicense);
      const user: StoredUser = {
        partitionKey: userPartition(connectionId, source.id),
        rowKey: source.id,
        appUserId: base?.appUserId ?? appUserIdOf(connectionId, source.id),
        connectionId,
        sourceId: source.id,
        status: 'active',
        suspendedBy: '',
        division: deps.config.division,
        license: license ?? '',
        appGroups: [...decision.mapped.appGroups],
        roles: [...decision.mapped.roles],
        attributes: toAttributes(decision.mapped.attributes),
        mailKey: decision.mapped.emailKey ?? '',
        source: { ...source.properties },
        entraGroups: [...source.memberOf],
        sourceHash: item.sourceHash,
        mappedHash: decision.mapped.hash,
        createdAt: base?.createdAt ?? now,
        updatedAt: now,
        deletedAt: '',
        lastRunId: deps.runId,
      };
      out.writes.push(user);
      if (decision.action === 'LINK' && item.native && item.holder) {
        out.links.push({ native: item.native, holder: item.holder, linked: user });
      }
      return true;
    }
    case 'SUSPEND':
    case 'DELETE':
    case 'UNLINK':
      if (current) {
        deps.removals.add({
          user: current,
          action: decision.action,
          situation: decision.situation,
          reason: decision.reason,
          suspensionReason: decision.suspensionReason ?? suspensionFor(decision),
          source: item.source.removal === null ? withSource(current, item, now) : undefined,
        });
      }
      return true;
    case 'EXCEPTION':
    case 'IGNORE':
      if (current && decision.situation === 'CONFIRMED' && current.sourceHash !== item.sourceHash) {
        out.refreshes.push(withSource(current, item, now));
      }
      return false;
  }
}

function suspensionFor(decision: Decision): SuspensionReason | null {
  if (decision.situation === 'SOURCE_SOFT_DELETED') return 'source_soft_deleted';
  if (decision.situation === 'SOURCE_DELETED') return 'source_deleted';
  if (decision.situation === 'UNQUALIFIED') return 'out_of_scope';
  return null;
}

function withSource(user: StoredUser, item: Pending, now: string): StoredUser {
  return {
    ...user,
    source: { ...item.source.properties },
    entraGroups: [...item.source.memberOf],
    sourceHash: item.sourceHash,
    updatedAt: now,
  };
}
