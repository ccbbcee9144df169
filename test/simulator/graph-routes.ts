import { z } from 'zod';
import { groupsDelta, usersDelta } from './delta.js';
import {
  GROUP_READ_ROLES,
  MEMBER_READ_ROLES,
  ORGANIZATION_READ_ROLES,
  USER_READ_ROLES,
  contextUrl,
  isEventual,
  odataResponse,
  openToken,
  requireRole,
  textResponse,
  type GraphCall,
} from './graph-context.js';
import {
  GraphHttpError,
  badRequest,
  notSimulated,
  resourceNotFound,
  unsupportedQuery,
} from './graph-errors.js';
import type { SimResponse } from './http-types.js';
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
import {
  evaluateFilter,
  filterProperties,
  needsAdvancedQuery,
  parseCountFlag,
  parseFilter,
  parseSelect,
  parseTop,
  readQueryOptions,
  type FilterExpr,
  type QueryOptions,
} from './odata.js';
import { pageLength, positionOrder, scan } from './paging.js';
import { hash32 } from './random.js';
import { ItemWriter, collectionJson, userJson, groupJson, writeGroup, writeUser } from './serialize.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * Graph v1.0 reads: /users, /groups (with $filter), single objects, /groups/{id}/members and
 * transitiveMembers (with casts and $count), /organization, and the delta functions (delta.ts).
 */

const USER_TYPE = '"@odata.type":"#microsoft.graph.user"';
const GROUP_TYPE = '"@odata.type":"#microsoft.graph.group"';
const DELTA_SEGMENTS = new Set(['delta', 'delta()', 'microsoft.graph.delta', 'microsoft.graph.delta()']);
const MEMBER_PROPERTIES = [...new Set<string>([...USER_PROPERTIES, ...GROUP_PROPERTIES])];
const USER_PROPERTY_SET = new Set<string>(USER_PROPERTIES);
const GROUP_PROPERTY_SET = new Set<string>(GROUP_PROPERTIES);

const listSkipSchema = z.object({
  v: z.literal(1),
  t: z.string(),
  r: z.string(),
  n: z.number().int(),
  p: z.number().int(),
  pg: z.number().int(),
});
type ListSkip = z.infer<typeof listSkipSchema>;

/** Query options the simulator refuses on plain collections, with the answer it gives. */
function rejectUnsupported(q: QueryOptions): void {
  if (q.skip !== undefined)
    throw new GraphHttpError(400, 'Request_BadRequest', "'$skip' is not supported by the service.");
  if (q.orderby !== undefined) throw notSimulated('$orderby');
  if (q.search !== undefined) throw notSimulated('$search');
  if (q.expand !== undefined) throw notSimulated('$expand');
}

/** A compiled $filter over the objects of one listing, checked against Graph's advanced-query rule. */
function compileFilter(
  call: GraphCall,
  q: QueryOptions,
  count: boolean,
  known: readonly string[],
): { expr: FilterExpr; props: Map<string, string> } | undefined {
  if (q.filter === undefined) return undefined;
  const expr = parseFilter(q.filter);
  const advanced = needsAdvancedQuery(expr);
  if (advanced && !(isEventual(call) && count)) {
    throw unsupportedQuery(
      `Operator '${advanced}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
    );
  }
  const byLower = new Map(known.map((p) => [p.toLowerCase(), p]));
  const props = new Map<string, string>();
  for (const used of filterProperties(expr)) {
    const canonical = byLower.get(used.toLowerCase());
    if (!canonical)
      throw badRequest(
        `Could not find a property named '${used}' on type 'microsoft.graph.directoryObject'.`,
      );
    props.set(used, canonical);
  }
  return { expr, props };
}

function userMatches(
  tenant: SimulatedTenant,
  index: number,
  filter: { expr: FilterExpr; props: Map<string, string> },
): boolean {
  const wanted = [...new Set(filter.props.values())].filter((p) =>
    USER_PROPERTY_SET.has(p),
  ) as UserProperty[];
  const values: unknown[] = [];
  tenant.userValues(index, wanted, values);
  const byName = new Map<string, unknown>(wanted.map((p, i) => [p, values[i]]));
  return evaluateFilter(filter.expr, (prop) => byName.get(filter.props.get(prop) ?? ''));
}

function groupMatches(
  tenant: SimulatedTenant,
  index: number,
  filter: { expr: FilterExpr; props: Map<string, string> },
): boolean {
  const record = tenant.groupAt(index);
  return evaluateFilter(filter.expr, (prop) => record[filter.props.get(prop) as GroupProperty]);
}

function withId<T extends string>(props: readonly T[]): T[] {
  return props.includes('id' as T) ? [...props] : [...props, 'id' as T];
}

function selectContext(kind: string, sel: readonly string[] | undefined): string {
  return sel ? `${kind}(${sel.join(',')})` : kind;
}

/** Opens this listing's $skiptoken, or starts at the beginning. */
function listCursor(call: GraphCall, q: QueryOptions, route: string, size: number): ListSkip {
  if (q.skiptoken === undefined) return { v: 1, t: call.tenant.tenantId, r: route, n: size, p: 0, pg: 0 };
  const state = openToken(call, q.skiptoken, listSkipSchema);
  if (state?.t !== call.tenant.tenantId || state.r !== route)
    throw badRequest('The $skiptoken is not valid for this request.');
  return state;
}

/** The nextLink keeps the request's own query options and replaces $skiptoken (as Graph's do). */
function nextLink(call: GraphCall, cursor: ListSkip): string {
  const url = new URL(call.req.url.pathname, call.settings.baseUrl);
  let query = '';
  for (const [name, value] of call.req.url.searchParams) {
    if (name.toLowerCase() === '$skiptoken') continue;
    query += `${query ? '&' : ''}${name}=${encodeURIComponent(value)}`;
  }
  query += `${query ? '&' : ''}$skiptoken=${call.settings.sealer.seal(cursor)}`;
  return `${url.toString()}?${query}`;
}

function listResponse(
  call: GraphCall,
  context: string,
  items: ItemWriter,
  cursor: ListSkip,
  next: number,
  end: number,
  count: number | undefined,
): SimResponse {
  const more = next < end;
  const link = more ? nextLink(call, { ...cursor, p: next, pg: cursor.pg + 1 }) : undefined;
  return odataResponse(
    collectionJson({ '@odata.context': contextUrl(call, context), '@odata.count': count }, items, {
      '@odata.nextLink': link,
    }),
  );
}

function requireCountHeader(call: GraphCall): void {
  if (!isEventual(call)) {
    throw new GraphHttpError(
      400,
      'Request_BadRequest',
      '$count is not currently supported without the ConsistencyLevel:eventual header.',
    );
  }
}

// ---- users ----

function userSelect(q: QueryOptions): UserProperty[] | undefined {
  const outside = q.select
    ?.split(',')
    .find((p) => USER_PROPERTIES_OUTSIDE_DIRECTORY.has(p.trim().toLowerCase()));
  // delta-query-overview.md, "Properties stored outside of the main data store": 501 on collections.
  if (outside) throw new GraphHttpError(501, 'NotImplemented', 'This operation target is not yet supported.');
  return parseSelect(q.select, USER_PROPERTIES, 'user') as UserProperty[] | undefined;
}

function listUsers(call: GraphCall): SimResponse {
  requireRole(call, USER_READ_ROLES);
  const { tenant, settings } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  rejectUnsupported(q);
  const sel = userSelect(q);
  const top = parseTop(q.top);
  const count = parseCountFlag(q.count);
  const filter = compileFilter(call, q, count, USER_PROPERTIES);
  const cursor = listCursor(call, q, 'users', tenant.userIndexCount);
  const props = withId(sel ?? USER_DEFAULT_PROPERTIES);
  const key = hash32(tenant.seed, 0x55534552);
  const order = positionOrder(cursor.n, key, settings.quirks);
  const matches = (index: number): boolean =>
    tenant.isUserLive(index) && (!filter || userMatches(tenant, index, filter));
  const limit = pageLength(top, cursor.pg, key, settings.quirks);
  const items = new ItemWriter();
  const next = scan(cursor.p, cursor.n, limit, (position) => {
    const index = order(position);
    if (!matches(index)) return false;
    writeUser(items.item(), tenant, index, props);
    return true;
  });
  let total: number | undefined;
  if (count && cursor.p === 0) {
    total = filter ? countWhere(cursor.n, matches) : tenant.liveUserCount;
  }
  return listResponse(call, selectContext('users', sel), items, cursor, next, cursor.n, total);
}

function countWhere(n: number, matches: (index: number) => boolean): number {
  let total = 0;
  for (let i = 0; i < n; i++) if (matches(i)) total++;
  return total;
}

function countUsers(call: GraphCall): SimResponse {
  requireRole(call, USER_READ_ROLES);
  requireCountHeader(call);
  const { tenant } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  const filter = compileFilter(call, q, true, USER_PROPERTIES);
  if (!filter) return textResponse(String(tenant.liveUserCount));
  return textResponse(
    String(countWhere(tenant.userIndexCount, (i) => tenant.isUserLive(i) && userMatches(tenant, i, filter))),
  );
}

function getUser(call: GraphCall, key: string): SimResponse {
  requireRole(call, USER_READ_ROLES);
  const { tenant } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  const sel = parseSelect(q.select, USER_PROPERTIES, 'user') as UserProperty[] | undefined;
  const index = tenant.resolveUser(key);
  if (index === undefined || !tenant.isUserLive(index)) throw resourceNotFound(key);
  const context = contextUrl(call, `${selectContext('users', sel)}/$entity`);
  return odataResponse(
    userJson(tenant, index, withId(sel ?? USER_DEFAULT_PROPERTIES), {
      prefix: `"@odata.context":"${context}"`,
    }),
  );
}

// ---- groups ----

function listGroups(call: GraphCall): SimResponse {
  requireRole(call, GROUP_READ_ROLES);
  const { tenant, settings } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  rejectUnsupported(q);
  const sel = parseSelect(q.select, GROUP_PROPERTIES, 'group') as GroupProperty[] | undefined;
  const top = parseTop(q.top);
  const count = parseCountFlag(q.count);
  const filter = compileFilter(call, q, count, GROUP_PROPERTIES);
  const cursor = listCursor(call, q, 'groups', tenant.groupIndexCount);
  const props = withId(sel ?? GROUP_PROPERTIES);
  const key = hash32(tenant.seed, 0x47525053);
  const order = positionOrder(cursor.n, key, settings.quirks);
  const matches = (index: number): boolean =>
    tenant.isGroupLive(index) && (!filter || groupMatches(tenant, index, filter));
  const limit = pageLength(top, cursor.pg, key, settings.quirks);
  const items = new ItemWriter();
  const next = scan(cursor.p, cursor.n, limit, (position) => {
    const index = order(position);
    if (!matches(index)) return false;
    writeGroup(items.item(), tenant, index, props);
    return true;
  });
  const total = count && cursor.p === 0 ? countWhere(cursor.n, matches) : undefined;
  return listResponse(call, selectContext('groups', sel), items, cursor, next, cursor.n, total);
}

function countGroups(call: GraphCall): SimResponse {
  requireRole(call, GROUP_READ_ROLES);
  requireCountHeader(call);
  const { tenant } = call;
  const filter = compileFilter(call, readQueryOptions(call.req.url.searchParams), true, GROUP_PROPERTIES);
  const matches = (i: number): boolean =>
    tenant.isGroupLive(i) && (!filter || groupMatches(tenant, i, filter));
  return textResponse(String(countWhere(tenant.groupIndexCount, matches)));
}

function getGroup(call: GraphCall, id: string): SimResponse {
  requireRole(call, GROUP_READ_ROLES);
  const { tenant } = call;
  const q = readQueryOptions(call.req.url.searchParams);
  const sel = parseSelect(q.select, GROUP_PROPERTIES, 'group') as GroupProperty[] | undefined;
  const index = tenant.resolveGroup(id);
  if (index === undefined || !tenant.isGroupLive(index)) throw resourceNotFound(id);
  const context = contextUrl(call, `${selectContext('groups', sel)}/$entity`);
  return odataResponse(
    groupJson(tenant, index, withId(sel ?? GROUP_PROPERTIES), { prefix: `"@odata.context":"${context}"` }),
  );
}

// ---- members and transitiveMembers ----

type Cast = 'user' | 'group' | undefined;

function parseCast(segment: string | undefined): Cast | 'count' | 'invalid' {
  if (segment === undefined) return undefined;
  const lower = segment.toLowerCase();
  if (lower === 'microsoft.graph.user') return 'user';
  if (lower === 'microsoft.graph.group') return 'group';
  if (lower === '$count') return 'count';
  return 'invalid';
}

function listMembers(
  call: GraphCall,
  groupKey: string,
  transitive: boolean,
  rest: readonly string[],
): SimResponse {
  requireRole(call, MEMBER_READ_ROLES);
  const { tenant, settings } = call;
  const groupIndex = tenant.resolveGroup(groupKey);
  if (groupIndex === undefined || !tenant.isGroupLive(groupIndex)) throw resourceNotFound(groupKey);
  const first = parseCast(rest[0]);
  const second = parseCast(rest[1]);
  if (
    first === 'invalid' ||
    second === 'invalid' ||
    rest.length > 2 ||
    (first === 'count' && rest.length > 1)
  ) {
    throw badRequest(`Resource not found for the segment '${rest.join('/')}'.`);
  }
  const cast: Cast = first === 'count' ? undefined : first;
  const countOnly = first === 'count' || second === 'count';

  const q = readQueryOptions(call.req.url.searchParams);
  rejectUnsupported(q);
  const count = parseCountFlag(q.count);
  const known = cast === 'user' ? USER_PROPERTIES : cast === 'group' ? GROUP_PROPERTIES : MEMBER_PROPERTIES;
  const sel = parseSelect(q.select, known, cast ?? 'directoryObject');
  const filter = compileFilter(call, q, count || countOnly, known);

  // Direct members by raw position (stable while the group changes); transitive members as a list
  // computed per request, so a change between two pages may shift it.
  const members = tenant.groupMembersAt(groupIndex);
  const transitiveList = transitive ? tenant.transitiveRefs(groupIndex) : undefined;
  const size = transitiveList ? transitiveList.length : members.rawLength;
  const refAt = (position: number): MemberRef | undefined => {
    const ref = transitiveList ? transitiveList[position] : members.rawAt(position);
    return ref === undefined || !tenant.isRefLive(ref) ? undefined : ref;
  };
  const matches = (ref: MemberRef): boolean => {
    if (cast === 'user' && isGroupRef(ref)) return false;
    if (cast === 'group' && !isGroupRef(ref)) return false;
    if (!filter) return true;
    if (isGroupRef(ref)) {
      const record = tenant.groupAt(refIndex(ref));
      return evaluateFilter(filter.expr, (prop) => {
        const name = filter.props.get(prop) ?? prop;
        return GROUP_PROPERTY_SET.has(name) ? record[name as GroupProperty] : undefined;
      });
    }
    return userMatches(tenant, ref, filter);
  };

  const countAll = (): number => {
    let total = 0;
    for (let p = 0; p < size; p++) {
      const ref = refAt(p);
      if (ref !== undefined && matches(ref)) total++;
    }
    return total;
  };
  if (countOnly) {
    requireCountHeader(call);
    return textResponse(String(countAll()));
  }

  const userProps = withId(
    (sel?.filter((p) => USER_PROPERTY_SET.has(p)) ?? USER_DEFAULT_PROPERTIES) as UserProperty[],
  );
  const groupProps = withId(
    (sel?.filter((p) => GROUP_PROPERTY_SET.has(p)) ?? GROUP_PROPERTIES) as GroupProperty[],
  );
  const top = parseTop(q.top);
  const route = `${transitive ? 'transitiveMembers' : 'members'}:${groupIndex}:${cast ?? ''}`;
  const cursor = listCursor(call, q, route, size);
  const limit = pageLength(top, cursor.pg, hash32(tenant.seed, 0x4d454d42, groupIndex), settings.quirks);
  const items = new ItemWriter();
  const next = scan(cursor.p, Math.min(cursor.n, size), limit, (position) => {
    const ref = refAt(position);
    if (ref === undefined || !matches(ref)) return false;
    // group-list-members.md: members are directoryObjects, each with its @odata.type; a cast
    // response (microsoft.graph.user) is typed by its context instead.
    if (isGroupRef(ref))
      writeGroup(items.item(), tenant, refIndex(ref), groupProps, cast ? {} : { prefix: GROUP_TYPE });
    else writeUser(items.item(), tenant, ref, userProps, cast ? {} : { prefix: USER_TYPE });
    return true;
  });
  const kind = cast === 'user' ? 'users' : cast === 'group' ? 'groups' : 'directoryObjects';
  const total = count && cursor.p === 0 ? countAll() : undefined;
  return listResponse(call, selectContext(kind, sel), items, cursor, next, Math.min(cursor.n, size), total);
}

// ---- organization ----

function organizationJson(tenant: SimulatedTenant): Record<string, unknown> {
  return {
    id: tenant.tenantId,
    displayName: tenant.displayName,
    createdDateTime: tenant.createdDateTime,
    tenantType: 'AAD',
    countryLetterCode: 'NL',
    preferredLanguage: 'en',
    verifiedDomains: [
      {
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: true,
        isInitial: true,
        name: tenant.domain,
        type: 'Managed',
      },
    ],
  };
}

function organization(call: GraphCall, id: string | undefined): SimResponse {
  requireRole(call, ORGANIZATION_READ_ROLES);
  const { tenant } = call;
  if (id !== undefined) {
    if (id.toLowerCase() !== tenant.tenantId) throw resourceNotFound(id);
    return odataResponse(
      JSON.stringify({
        '@odata.context': contextUrl(call, 'organization/$entity'),
        ...organizationJson(tenant),
      }),
    );
  }
  return odataResponse(
    JSON.stringify({ '@odata.context': contextUrl(call, 'organization'), value: [organizationJson(tenant)] }),
  );
}

// ---- dispatch ----

/** Answers a Graph v1.0 request (path segments after /v1.0). */
export function handleGraph(call: GraphCall): SimResponse {
  if (call.req.method !== 'GET') {
    throw new GraphHttpError(
      405,
      'Request_BadRequest',
      'Specified HTTP method is not allowed for the request target.',
    );
  }
  const [resource, second, third, ...rest] = call.path;
  switch (resource?.toLowerCase()) {
    case 'users':
      if (second === undefined || second === '') return listUsers(call);
      if (third !== undefined) throw notSimulated(`/users/{id}/${[third, ...rest].join('/')}`);
      if (second === '$count') return countUsers(call);
      if (DELTA_SEGMENTS.has(second.toLowerCase())) return usersDelta(call);
      return getUser(call, second);
    case 'groups':
      if (second === undefined || second === '') return listGroups(call);
      if (second === '$count' && third === undefined) return countGroups(call);
      if (DELTA_SEGMENTS.has(second.toLowerCase()) && third === undefined) return groupsDelta(call);
      if (third === undefined) return getGroup(call, second);
      if (third.toLowerCase() === 'members') return listMembers(call, second, false, rest);
      if (third.toLowerCase() === 'transitivemembers') return listMembers(call, second, true, rest);
      throw notSimulated(`/groups/{id}/${[third, ...rest].join('/')}`);
    case 'organization':
      if (third !== undefined) throw notSimulated(`/organization/{id}/${[third, ...rest].join('/')}`);
      return organization(call, second === '' ? undefined : second);
    default:
      throw badRequest(`Resource not found for the segment '${resource ?? ''}'.`);
  }
}
