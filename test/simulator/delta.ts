import { z } from 'zod';
import type { ObjectChanges } from './change-log.js';
import { contextUrl, odataResponse, openToken, type GraphCall } from './graph-context.js';
import { GraphHttpError, badRequest, unsupportedQuery } from './graph-errors.js';
import { header, type SimResponse } from './http-types.js';
import {
  GROUP_PROPERTIES,
  USER_DEFAULT_PROPERTIES,
  USER_PROPERTIES,
  USER_PROPERTIES_OUTSIDE_DIRECTORY,
  isGroupRef,
  refIndex,
  type GroupProperty,
  type MemberRef,
  type UserProperty,
} from './model.js';
import { deltaFilterIds, parseSelect, readQueryOptions } from './odata.js';
import { pageLength, positionOrder, scan } from './paging.js';
import { hash32 } from './random.js';
import { ItemWriter, collectionJson, groupJson, writeUser } from './serialize.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * users/delta and groups/delta (user-delta.md, group-delta.md, delta-query-overview.md).
 *
 * A round is a walk over a list fixed at its start: every live object for the initial round, the
 * objects changed in the window (from, to] of the change log for a round started from a deltaLink.
 * Objects are rendered with their CURRENT state when their page is served; the deltaLink carries `to`,
 * so whatever changed during the round comes again in the next one (a replay, as Graph warns).
 * Tokens carry the round and the query ($select, the id filter), so later links need no parameters.
 */

type DeltaKind = 'users' | 'groups';

const common = {
  v: z.literal(1),
  t: z.string(),
  k: z.enum(['users', 'groups']),
  ep: z.number().int(),
  rs: z.number().int(),
  sel: z.array(z.string()).optional(),
  ids: z.array(z.string()).optional(),
};
const deltaLinkSchema = z.object({ ...common, d: z.literal('link'), s: z.number().int() });
const skipSchema = z.object({
  ...common,
  d: z.literal('skip'),
  from: z.number().int().nullable(),
  to: z.number().int(),
  n: z.number().int(),
  p: z.number().int(),
  mo: z.number().int(),
  pg: z.number().int(),
});
type DeltaLinkState = z.infer<typeof deltaLinkSchema>;
type SkipState = z.infer<typeof skipSchema>;

const USER_TYPE = '"@odata.type":"#microsoft.graph.user"';
const GROUP_TYPE = '"@odata.type":"#microsoft.graph.group"';
const REMOVED_DELETED = '"@removed":{"reason":"deleted"}';
const REMOVED_CHANGED = '"@removed":{"reason":"changed"}';
/** Omit every null: a property never set does not appear in delta (user-delta.md). */
const OMIT_NULLS: ReadonlySet<string> = new Set();

function invalidToken(): GraphHttpError {
  return badRequest('The $skiptoken or $deltatoken is not valid for this request.');
}

/** Expired (400 syncStateNotFound) or reset (410 Gone with a Location to start over). */
function checkEpochs(call: GraphCall, kind: DeltaKind, state: { ep: number; rs: number }): void {
  if (state.rs !== call.tenant.resetEpoch) {
    // delta-query-overview.md, "Synchronization reset": 410 and a Location with an empty $deltatoken.
    throw new GraphHttpError(
      410,
      'resyncRequired',
      'The delta state was reset; start a new synchronization from the initial delta request in the Location header.',
      { headers: { location: `${call.settings.baseUrl}/v1.0/${kind}/delta?$deltatoken=` } },
    );
  }
  if (state.ep !== call.tenant.deltaEpoch) {
    // The body is undocumented; the code and message are those the 2020 devblog post on token
    // lifetimes names (see docs/dev/simulator.md).
    throw new GraphHttpError(
      400,
      'syncStateNotFound',
      'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    );
  }
}

function memberEntry(tenant: SimulatedTenant, ref: MemberRef, removed: boolean): string {
  const type = isGroupRef(ref) ? GROUP_TYPE : USER_TYPE;
  const id = isGroupRef(ref) ? tenant.groupId(refIndex(ref)) : tenant.userId(ref);
  return removed ? `{${type},"id":"${id}",${REMOVED_DELETED}}` : `{${type},"id":"${id}"}`;
}

interface MemberSequence {
  readonly length: number;
  at(position: number): string | undefined;
}

/** All current members, by raw position (stable across pages while the group changes). */
function allMembers(tenant: SimulatedTenant, groupIndex: number): MemberSequence {
  const members = tenant.groupMembersAt(groupIndex);
  return {
    length: members.rawLength,
    at: (position) => {
      const ref = members.rawAt(position);
      return ref === undefined || !tenant.isRefLive(ref) ? undefined : memberEntry(tenant, ref, false);
    },
  };
}

/** The net membership changes of a window: added members, and removed ones with @removed. */
function changedMembers(tenant: SimulatedTenant, changes: ObjectChanges): MemberSequence {
  const entries = [...changes.members];
  return {
    length: entries.length,
    at: (position) => {
      const entry = entries[position];
      return entry ? memberEntry(tenant, entry[0], !entry[1]) : undefined;
    },
  };
}

interface RoundSetup {
  readonly state: SkipState;
  /** The $select written in this request's URL (shown in @odata.context on an initial first page). */
  readonly literalSelect: readonly string[] | undefined;
}

function validateInitialQuery(call: GraphCall, kind: DeltaKind): { sel?: string[]; ids?: string[] } {
  const q = readQueryOptions(call.req.url.searchParams);
  // delta-query-overview.md: $orderby and $search are not supported on users and groups; $expand only
  // for a user's manager. $top is accepted and ignored: Graph picks delta page sizes itself.
  if (q.orderby !== undefined || q.search !== undefined || q.count !== undefined || q.skip !== undefined) {
    throw unsupportedQuery();
  }
  if (q.expand !== undefined && !(kind === 'users' && q.expand.trim().toLowerCase() === 'manager')) {
    throw unsupportedQuery();
  }
  let sel: string[] | undefined;
  if (kind === 'users') {
    const outside = q.select
      ?.split(',')
      .find((p) => USER_PROPERTIES_OUTSIDE_DIRECTORY.has(p.trim().toLowerCase()));
    if (outside)
      throw new GraphHttpError(501, 'NotImplemented', 'This operation target is not yet supported.');
    sel = parseSelect(q.select, USER_PROPERTIES, 'user');
  } else {
    sel = parseSelect(q.select, GROUP_PROPERTIES, 'group', ['members']);
  }
  const ids = q.filter === undefined ? undefined : deltaFilterIds(q.filter);
  return { ...(sel ? { sel } : {}), ...(ids ? { ids } : {}) };
}

function setupRound(call: GraphCall, kind: DeltaKind): RoundSetup | SimResponse {
  const { tenant } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  if (q.skiptoken !== undefined) {
    const state = openToken(call, q.skiptoken, skipSchema);
    if (state?.t !== tenant.tenantId || state.k !== kind) throw invalidToken();
    checkEpochs(call, kind, state);
    return { state, literalSelect: undefined };
  }
  const query = validateInitialQuery(call, kind);
  const base = { v: 1 as const, t: tenant.tenantId, k: kind, ep: tenant.deltaEpoch, rs: tenant.resetEpoch };
  const token = q.deltatoken;
  if (token !== undefined && token.toLowerCase() === 'latest') {
    // delta-query-overview.md: $deltatoken=latest answers no objects and a deltaLink at the current state.
    const link: DeltaLinkState = { ...base, ...query, d: 'link', s: tenant.changes.seq };
    return deltaPage(call, kind, new ItemWriter(), undefined, link, undefined);
  }
  if (token !== undefined && token !== '') {
    const link = openToken(call, token, deltaLinkSchema);
    if (link?.t !== tenant.tenantId || link.k !== kind) throw invalidToken();
    checkEpochs(call, kind, link);
    const sel = query.sel ?? link.sel;
    const ids = query.ids ?? link.ids;
    return {
      state: {
        ...base,
        ...(sel ? { sel } : {}),
        ...(ids ? { ids } : {}),
        d: 'skip',
        from: link.s,
        to: tenant.changes.seq,
        n: 0,
        p: 0,
        mo: 0,
        pg: 0,
      },
      literalSelect: undefined,
    };
  }
  // An initial round (an empty $deltatoken, as in a 410's Location, is one too).
  const n = kind === 'users' ? tenant.userIndexCount : tenant.groupIndexCount;
  return {
    state: { ...base, ...query, d: 'skip', from: null, to: tenant.changes.seq, n, p: 0, mo: 0, pg: 0 },
    literalSelect: query.sel,
  };
}

function deltaPage(
  call: GraphCall,
  kind: DeltaKind,
  items: ItemWriter,
  next: SkipState | undefined,
  link: DeltaLinkState | undefined,
  literalSelect: readonly string[] | undefined,
  headers: Record<string, string> = {},
): SimResponse {
  const shown = literalSelect?.filter((p) => p !== 'members');
  const context = contextUrl(call, shown && shown.length > 0 ? `${kind}(${shown.join(',')})` : kind);
  const base = `${call.settings.baseUrl}/v1.0/${kind}/delta`;
  const sealer = call.settings.sealer;
  const tail = next
    ? { '@odata.nextLink': `${base}?$skiptoken=${sealer.seal(next)}` }
    : { '@odata.deltaLink': `${base}?$deltatoken=${sealer.seal(link)}` };
  return odataResponse(collectionJson({ '@odata.context': context }, items, tail), headers);
}

function wantsMinimal(call: GraphCall): boolean {
  return /(^|[,;\s])return=minimal(\s*($|[,;]))/i.test(header(call.req, 'prefer') ?? '');
}

/** A stable key per tenant and round for the order and page-length quirks. */
function roundKey(tenant: SimulatedTenant, state: SkipState, salt: number): number {
  return hash32(tenant.seed, salt, state.from === null ? 0x7fffffff : state.to);
}

// ---- users/delta ----

export function usersDelta(call: GraphCall): SimResponse {
  const setup = setupRound(call, 'users');
  if (!('state' in setup)) return setup;
  const { state, literalSelect } = setup;
  const { tenant, settings } = call;
  const tracked = (state.sel ?? USER_DEFAULT_PROPERTIES) as readonly UserProperty[];
  const props: UserProperty[] = tracked.includes('id') ? [...tracked] : [...tracked, 'id'];
  const trackedSet = new Set<string>(tracked);
  const minimal = wantsMinimal(call);

  const items = new ItemWriter();
  let length: number;
  /** Writes the object at a position of the round; false when there is nothing to show there. */
  let emitAt: (position: number) => boolean;
  if (state.from === null) {
    const candidates = state.ids
      ?.map((id) => tenant.resolveUser(id))
      .filter((i): i is number => i !== undefined && i < state.n);
    const order = positionOrder(state.n, roundKey(tenant, state, 1), settings.quirks);
    length = candidates ? candidates.length : state.n;
    const removals = settings.quirks.initialRemovals;
    emitAt = (position) => {
      const index = candidates ? candidates[position] : order(position);
      if (index === undefined) return false;
      const userState = tenant.userState(index);
      if (userState === 'live') {
        writeUser(items.item(), tenant, index, props, { omitNullExcept: OMIT_NULLS });
        return true;
      }
      if (!removals) return false;
      items.add(
        `{"id":"${tenant.userId(index)}",${userState === 'hardDeleted' ? REMOVED_DELETED : REMOVED_CHANGED}}`,
      );
      return true;
    };
  } else {
    const idFilter = state.ids ? new Set(state.ids) : undefined;
    const changed = tenant.changes
      .window('user', state.from, state.to)
      .objects.filter(
        (c) =>
          (c.created || c.restored || c.removed || [...c.props].some((p) => trackedSet.has(p))) &&
          (!idFilter || idFilter.has(tenant.userId(c.index))),
      );
    const order = positionOrder(changed.length, roundKey(tenant, state, 2), settings.quirks);
    length = changed.length;
    emitAt = (position) => {
      const changes = changed[order(position)];
      if (!changes) return false;
      const index = changes.index;
      const userState = tenant.userState(index);
      // delta-query-overview.md: "changed" = in deleted items (restorable), "deleted" = gone for good.
      if (userState === 'hardDeleted' || userState === 'softDeleted') {
        items.add(
          `{"id":"${tenant.userId(index)}",${userState === 'hardDeleted' ? REMOVED_DELETED : REMOVED_CHANGED}}`,
        );
      } else if (changes.created || changes.restored) {
        writeUser(items.item(), tenant, index, props, { omitNullExcept: OMIT_NULLS });
      } else if (minimal) {
        // Prefer: return=minimal: only the changed properties (nulls included) and the id.
        writeUser(
          items.item(),
          tenant,
          index,
          props.filter((p) => p === 'id' || changes.props.has(p)),
        );
      } else {
        writeUser(items.item(), tenant, index, props, { omitNullExcept: changes.props });
      }
      return true;
    };
  }

  const nominal = pageLength(settings.deltaPageSize, state.pg, roundKey(tenant, state, 3), settings.quirks);
  const p = scan(state.p, length, nominal, emitAt);
  // The replay quirk: every other page repeats the last object of the page before.
  if (settings.quirks.replays && state.pg % 2 === 1 && state.p > 0) emitAt(state.p - 1);
  const headers: Record<string, string> = minimal ? { 'preference-applied': 'return=minimal' } : {};
  if (p < length) {
    return deltaPage(
      call,
      'users',
      items,
      { ...state, p, pg: state.pg + 1 },
      undefined,
      literalSelect,
      headers,
    );
  }
  const link: DeltaLinkState = { ...linkBase(state), d: 'link', s: state.to };
  return deltaPage(call, 'users', items, undefined, link, literalSelect, headers);
}

function linkBase(state: SkipState): Omit<DeltaLinkState, 'd' | 's'> {
  return {
    v: 1,
    t: state.t,
    k: state.k,
    ep: state.ep,
    rs: state.rs,
    ...(state.sel ? { sel: state.sel } : {}),
    ...(state.ids ? { ids: state.ids } : {}),
  };
}

// ---- groups/delta ----

interface GroupEntry {
  /** Rendered without members, or the removed marker. */
  readonly render: (suffix: string | undefined) => string;
  readonly members: MemberSequence | undefined;
}

function removedGroup(tenant: SimulatedTenant, index: number): GroupEntry {
  const id = tenant.groupId(index);
  return { render: () => `{"id":"${id}",${REMOVED_DELETED}}`, members: undefined };
}

/** The properties of a group delta response when nothing is selected: the group's set properties. */
const GROUP_DELTA_DEFAULT: readonly GroupProperty[] = GROUP_PROPERTIES.filter((p) => p !== 'id');

export function groupsDelta(call: GraphCall): SimResponse {
  const setup = setupRound(call, 'groups');
  if (!('state' in setup)) return setup;
  const { state, literalSelect } = setup;
  const { tenant, settings } = call;
  // group-delta.md: members@delta comes with $select=members, or when nothing is selected.
  const trackMembers = !state.sel || state.sel.includes('members');
  const tracked = (state.sel?.filter((p) => p !== 'members') ??
    GROUP_DELTA_DEFAULT) as readonly GroupProperty[];
  const props: GroupProperty[] = tracked.includes('id') ? [...tracked] : [...tracked, 'id'];
  const trackedSet = new Set<string>(tracked);
  const minimal = wantsMinimal(call);

  const fullEntry = (index: number): GroupEntry => ({
    render: (suffix) =>
      groupJson(tenant, index, props, { omitNullExcept: OMIT_NULLS, ...(suffix ? { suffix } : {}) }),
    members: trackMembers ? allMembers(tenant, index) : undefined,
  });

  let length: number;
  let entryAt: (position: number) => GroupEntry | undefined;
  if (state.from === null) {
    const candidates = state.ids
      ?.map((id) => tenant.resolveGroup(id))
      .filter((i): i is number => i !== undefined && i < state.n);
    const order = positionOrder(state.n, roundKey(tenant, state, 4), settings.quirks);
    length = candidates ? candidates.length : state.n;
    const removals = settings.quirks.initialRemovals;
    entryAt = (position) => {
      const index = candidates ? candidates[position] : order(position);
      if (index === undefined) return undefined;
      if (tenant.isGroupLive(index)) return fullEntry(index);
      return removals ? removedGroup(tenant, index) : undefined;
    };
  } else {
    const idFilter = state.ids ? new Set(state.ids) : undefined;
    const changed = tenant.changes
      .window('group', state.from, state.to)
      .objects.filter(
        (c) =>
          (c.created ||
            c.removed ||
            [...c.props].some((p) => trackedSet.has(p)) ||
            (trackMembers && c.members.size > 0)) &&
          (!idFilter || idFilter.has(tenant.groupId(c.index))),
      );
    const order = positionOrder(changed.length, roundKey(tenant, state, 5), settings.quirks);
    length = changed.length;
    entryAt = (position) => {
      const changes = changed[order(position)];
      if (!changes) return undefined;
      const index = changes.index;
      if (!tenant.isGroupLive(index)) return removedGroup(tenant, index);
      if (changes.created) return fullEntry(index);
      const shownProps = minimal ? props.filter((p) => p === 'id' || changes.props.has(p)) : props;
      return {
        render: (suffix) =>
          groupJson(tenant, index, shownProps, {
            ...(minimal ? {} : { omitNullExcept: changes.props }),
            ...(suffix ? { suffix } : {}),
          }),
        members: trackMembers ? changedMembers(tenant, changes) : undefined,
      };
    };
  }

  const nominal = pageLength(settings.deltaPageSize, state.pg, roundKey(tenant, state, 6), settings.quirks);
  const items = new ItemWriter();
  let p = state.p;
  let mo = state.mo;
  let budget = settings.memberBudget;
  let groupsOnPage = 0;
  while (p < length && groupsOnPage < nominal) {
    const entry = entryAt(p);
    if (!entry) {
      p += 1;
      mo = 0;
      continue;
    }
    const members = entry.members;
    if (!members) {
      items.add(entry.render(undefined));
      p += 1;
      mo = 0;
      groupsOnPage += 1;
      continue;
    }
    if (budget === 0) break;
    // A large group's members are spread over several pages, the group repeated on each with the next
    // slice (group-delta walk-through, "Paging through members in a large group").
    const slice: string[] = [];
    while (mo < members.length && slice.length < budget) {
      const member = members.at(mo);
      mo += 1;
      if (member !== undefined) slice.push(member);
    }
    budget -= slice.length;
    items.add(entry.render(slice.length > 0 ? `"members@delta":[${slice.join(',')}]` : undefined));
    groupsOnPage += 1;
    if (mo < members.length) break;
    p += 1;
    mo = 0;
  }
  if (settings.quirks.replays && state.pg % 2 === 1 && state.p > 0 && state.mo === 0) {
    const replay = entryAt(state.p - 1);
    if (replay) items.add(replay.render(undefined));
  }
  const headers: Record<string, string> = minimal ? { 'preference-applied': 'return=minimal' } : {};
  if (p < length) {
    return deltaPage(
      call,
      'groups',
      items,
      { ...state, p, mo, pg: state.pg + 1 },
      undefined,
      literalSelect,
      headers,
    );
  }
  const link: DeltaLinkState = { ...linkBase(state), d: 'link', s: state.to };
  return deltaPage(call, 'groups', items, undefined, link, literalSelect, headers);
}
