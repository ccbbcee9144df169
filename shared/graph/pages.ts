import type { z } from 'zod';
import { GraphRequestError } from './errors.js';
import {
  collectionEnvelopeSchema,
  countTextSchema,
  groupSchema,
  memberRefSchema,
  removedSchema,
  userSchema,
  type GraphGroup,
  type GraphUser,
  type RemovedReason,
} from './schemas.js';

/**
 * Turning one Graph page body into items. Parsing is per item: an item that does not fit is rejected
 * with a reason and reported on the page; the rest of the page is kept.
 */

export interface RejectedItem {
  /** Index in the page's `value`. */
  readonly index: number;
  /** Where in the item: '' for the item itself, 'members@delta[3]' for one member entry. */
  readonly path: string;
  /** The item's id when it had a usable one. */
  readonly id: string | undefined;
  readonly reason: string;
}

export interface GraphPage<T> {
  readonly items: T[];
  readonly rejected: RejectedItem[];
  /** Absolute URL of the next page, exactly as Graph gave it. */
  readonly nextLink: string | undefined;
  /** `@odata.count`, when $count=true was asked for. */
  readonly count: number | undefined;
}

export interface DeltaPage<T> extends GraphPage<T> {
  /**
   * Only on the last page of a round. Persist it only after everything yielded before it is stored:
   * it is the state to resume from.
   */
  readonly deltaLink: string | undefined;
}

export type MemberType =
  'user' | 'group' | 'servicePrincipal' | 'device' | 'orgContact' | 'other' | 'unknown';

export interface MemberRef {
  readonly id: string;
  readonly type: MemberType;
  /** `@odata.type` as sent; some list examples leave it out (type is then 'unknown'). */
  readonly odataType: string | undefined;
}

export interface MemberChange extends MemberRef {
  readonly change: 'added' | 'removed';
}

/** A member from /members or /transitiveMembers with whatever properties were selected. */
export interface GraphMember extends MemberRef {
  readonly object: Readonly<Record<string, unknown>>;
}

export type UserDeltaItem =
  | { readonly kind: 'upsert'; readonly id: string; readonly user: GraphUser }
  | { readonly kind: 'removed'; readonly id: string; readonly reason: RemovedReason };

export type GroupDeltaItem =
  | {
      readonly kind: 'upsert';
      readonly id: string;
      /** The group's carried properties, without members@delta. */
      readonly group: GraphGroup;
      /**
       * Member changes carried on this page for this group; undefined when the item has no
       * members@delta (a group without members on the initial round, or no member change). A large
       * group's members come on several pages under the same id: each page's item holds its slice.
       * https://learn.microsoft.com/graph/delta-query-groups (Paging through members in a large group)
       */
      readonly members: MemberChange[] | undefined;
    }
  | { readonly kind: 'removed'; readonly id: string; readonly reason: RemovedReason };

const ODATA_MEMBER_TYPES: Readonly<Record<string, MemberType>> = {
  '#microsoft.graph.user': 'user',
  '#microsoft.graph.group': 'group',
  '#microsoft.graph.servicePrincipal': 'servicePrincipal',
  '#microsoft.graph.device': 'device',
  '#microsoft.graph.orgContact': 'orgContact',
};

export function memberType(odataType: string | undefined): MemberType {
  if (odataType === undefined) return 'unknown';
  return ODATA_MEMBER_TYPES[odataType] ?? 'other';
}

function issues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

type ItemCheck =
  | { ok: true; id: string; record: Record<string, unknown> }
  | { ok: false; id: string | undefined; reason: string };

/** The checks every item gets first, so that the common failures read plainly. */
function checkItem(raw: unknown): ItemCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, id: undefined, reason: 'not a JSON object' };
  }
  const record = raw as Record<string, unknown>;
  const id = record.id;
  // The same rule as idSchema, checked by hand: this runs for every item of every page.
  if (typeof id !== 'string' || id === '') {
    // Graph documents id as always returned; several doc examples omit it anyway.
    return {
      ok: false,
      id: undefined,
      reason: id === undefined ? 'missing "id"' : '"id" is not a non-empty string',
    };
  }
  return { ok: true, id, record };
}

function removal(record: Record<string, unknown>): { reason: RemovedReason } | { error: string } | undefined {
  if (!('@removed' in record)) return undefined;
  const parsed = removedSchema.safeParse(record['@removed']);
  if (!parsed.success) return { error: `"@removed" ${issues(parsed.error)}` };
  return { reason: parsed.data.reason };
}

export function parseEnvelope(body: unknown, operation: string): z.infer<typeof collectionEnvelopeSchema> {
  const parsed = collectionEnvelopeSchema.safeParse(body);
  if (!parsed.success) {
    throw new GraphRequestError(
      `Graph sent a page that is not a collection (${operation}): ${issues(parsed.error)}`,
      {
        nextStep: 'Retry; if it persists, report it with the request-id of the request.',
      },
    );
  }
  return parsed.data;
}

function page<T>(
  envelope: z.infer<typeof collectionEnvelopeSchema>,
  items: T[],
  rejected: RejectedItem[],
): GraphPage<T> {
  return { items, rejected, nextLink: envelope['@odata.nextLink'], count: envelope['@odata.count'] };
}

function parseObjects<T>(
  body: unknown,
  operation: string,
  schema: z.ZodType<T>,
): { envelope: z.infer<typeof collectionEnvelopeSchema>; page: GraphPage<T> } {
  const envelope = parseEnvelope(body, operation);
  const items: T[] = [];
  const rejected: RejectedItem[] = [];
  envelope.value.forEach((raw, index) => {
    const check = checkItem(raw);
    if (!check.ok) {
      rejected.push({ index, path: '', id: check.id, reason: check.reason });
      return;
    }
    const parsed = schema.safeParse(check.record);
    if (parsed.success) items.push(parsed.data);
    else rejected.push({ index, path: '', id: check.id, reason: issues(parsed.error) });
  });
  return { envelope, page: page(envelope, items, rejected) };
}

/** A page of /users (list). */
export function parseUserPage(body: unknown, operation = 'GET /users'): GraphPage<GraphUser> {
  return parseObjects(body, operation, userSchema).page;
}

/** A page of /groups (list). */
export function parseGroupPage(body: unknown, operation = 'GET /groups'): GraphPage<GraphGroup> {
  return parseObjects(body, operation, groupSchema).page;
}

/** A page of /groups/{id}/members or /transitiveMembers (or an OData cast of them). */
export function parseMemberPage(
  body: unknown,
  operation = 'GET /groups/{id}/members',
): GraphPage<GraphMember> {
  const envelope = parseEnvelope(body, operation);
  const items: GraphMember[] = [];
  const rejected: RejectedItem[] = [];
  envelope.value.forEach((raw, index) => {
    const check = checkItem(raw);
    if (!check.ok) {
      rejected.push({ index, path: '', id: check.id, reason: check.reason });
      return;
    }
    const parsed = memberRefSchema.safeParse(check.record);
    if (!parsed.success) {
      rejected.push({ index, path: '', id: check.id, reason: issues(parsed.error) });
      return;
    }
    const odataType = parsed.data['@odata.type'];
    items.push({ id: parsed.data.id, type: memberType(odataType), odataType, object: parsed.data });
  });
  return page(envelope, items, rejected);
}

function deltaPage<T>(
  envelope: z.infer<typeof collectionEnvelopeSchema>,
  items: T[],
  rejected: RejectedItem[],
): DeltaPage<T> {
  return { ...page(envelope, items, rejected), deltaLink: envelope['@odata.deltaLink'] };
}

/**
 * What every delta item goes through first: one that is not an object with an id is rejected (and
 * undefined comes back); a removal is returned as such; anything else is an object to parse.
 */
function classifyDeltaItem(
  raw: unknown,
  index: number,
  rejected: RejectedItem[],
):
  | { kind: 'removed'; id: string; reason: RemovedReason }
  | { kind: 'present'; id: string; record: Record<string, unknown> }
  | undefined {
  const check = checkItem(raw);
  if (!check.ok) {
    rejected.push({ index, path: '', id: check.id, reason: check.reason });
    return undefined;
  }
  const removed = removal(check.record);
  if (removed && 'error' in removed) {
    rejected.push({ index, path: '', id: check.id, reason: removed.error });
    return undefined;
  }
  if (removed) return { kind: 'removed', id: check.id, reason: removed.reason };
  return { kind: 'present', id: check.id, record: check.record };
}

/** A page of /users/delta. */
export function parseUserDeltaPage(body: unknown, operation = 'GET /users/delta'): DeltaPage<UserDeltaItem> {
  const envelope = parseEnvelope(body, operation);
  const items: UserDeltaItem[] = [];
  const rejected: RejectedItem[] = [];
  envelope.value.forEach((raw, index) => {
    const check = classifyDeltaItem(raw, index, rejected);
    if (!check) return;
    if (check.kind === 'removed') {
      items.push(check);
      return;
    }
    const parsed = userSchema.safeParse(check.record);
    if (parsed.success) items.push({ kind: 'upsert', id: check.id, user: parsed.data });
    else rejected.push({ index, path: '', id: check.id, reason: issues(parsed.error) });
  });
  return deltaPage(envelope, items, rejected);
}

const MEMBERS_DELTA = 'members@delta';

/** A page of /groups/delta, members@delta included. */
export function parseGroupDeltaPage(
  body: unknown,
  operation = 'GET /groups/delta',
): DeltaPage<GroupDeltaItem> {
  const envelope = parseEnvelope(body, operation);
  const items: GroupDeltaItem[] = [];
  const rejected: RejectedItem[] = [];
  envelope.value.forEach((raw, index) => {
    const check = classifyDeltaItem(raw, index, rejected);
    if (!check) return;
    if (check.kind === 'removed') {
      items.push(check);
      return;
    }
    const { [MEMBERS_DELTA]: rawMembers, ...properties } = check.record;
    const parsed = groupSchema.safeParse(properties);
    if (!parsed.success) {
      rejected.push({ index, path: '', id: check.id, reason: issues(parsed.error) });
      return;
    }
    let members: MemberChange[] | undefined;
    if (rawMembers !== undefined) {
      if (!Array.isArray(rawMembers)) {
        // Keep the group's properties; only its member slice is unusable.
        rejected.push({
          index,
          path: MEMBERS_DELTA,
          id: check.id,
          reason: `"${MEMBERS_DELTA}" is not an array`,
        });
      } else {
        members = [];
        rawMembers.forEach((rawMember: unknown, memberIndex) => {
          const path = `${MEMBERS_DELTA}[${memberIndex}]`;
          const member = checkItem(rawMember);
          if (!member.ok) {
            rejected.push({
              index,
              path,
              id: member.id,
              reason: `member ${member.reason} (group ${check.id})`,
            });
            return;
          }
          const entry = memberRefSchema.safeParse(member.record);
          if (!entry.success) {
            rejected.push({
              index,
              path,
              id: member.id,
              reason: `member ${issues(entry.error)} (group ${check.id})`,
            });
            return;
          }
          const odataType = entry.data['@odata.type'];
          members?.push({
            id: entry.data.id,
            type: memberType(odataType),
            odataType,
            // In members@delta, @removed means "no longer a member", whatever its reason says.
            change: entry.data['@removed'] ? 'removed' : 'added',
          });
        });
      }
    }
    items.push({ kind: 'upsert', id: check.id, group: parsed.data, members });
  });
  return deltaPage(envelope, items, rejected);
}

/** `$count` answers text/plain: "893". */
export function parseCount(body: unknown, operation = 'GET $count'): number {
  const parsed = countTextSchema.safeParse(body);
  if (!parsed.success) {
    throw new GraphRequestError(`Graph sent a count that is not an integer (${operation}).`, {
      nextStep: 'Retry; if it persists, report it with the request-id of the request.',
    });
  }
  return parsed.data;
}
