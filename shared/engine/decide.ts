/**
 * The reconciliation decision for one source user: which situation it is in, and what the connection's
 * policy does about it. Pure: everything it needs arrives in the input, and the storage layer carries
 * out the decision (or, in a preview, records it).
 *
 * Situations are tested in a fixed order, so each user falls into exactly one:
 *   1. removed from Entra          -> SOURCE_DELETED / SOURCE_SOFT_DELETED (linked) or ALL_GONE
 *   2. out of scope                -> UNQUALIFIED (linked) or SOURCE_IGNORED
 *   3. linked                      -> CONFLICT (new e-mail taken), RESTORED, or CONFIRMED
 *   4. not linked, by e-mail       -> ABSENT, FOUND, CONFLICT or AMBIGUOUS
 *   5. the action would take a licence seat and none is free -> NO_SEAT
 */
import { mapSourceUser } from './map-user.js';
import { defaultAction, resolveAction, type Action, type Situation } from './policy.js';
import type { RunContext } from './run-context.js';
import type { ScopeResult } from './scope.js';
import type {
  AppUserState,
  AttributeChange,
  Decision,
  DecisionInput,
  EmailCandidate,
  LinkedAppUser,
  MappedUser,
  MappedValue,
  SetChange,
  SuspensionReason,
} from './types.js';

/** Actions that give the user the mapped licence, and so may need a seat. */
const SEAT_TAKING_ACTIONS: ReadonlySet<Action> = new Set<Action>(['CREATE', 'LINK', 'UPDATE', 'REACTIVATE']);

/** Suspensions the sync made itself and may therefore undo when the cause is gone. */
const SYNC_SUSPENSIONS: ReadonlySet<SuspensionReason> = new Set<SuspensionReason>([
  'source_soft_deleted',
  'source_deleted',
  'out_of_scope',
]);

const SUSPENSION_REASON_FOR: Partial<Record<Situation, SuspensionReason>> = {
  UNQUALIFIED: 'out_of_scope',
  SOURCE_SOFT_DELETED: 'source_soft_deleted',
  SOURCE_DELETED: 'source_deleted',
};

interface Classification {
  readonly situation: Situation;
  readonly reason: string;
  readonly appUserId: string | null;
  /** The app user's current state to diff against: the linked one, or the one found by e-mail. */
  readonly before: AppUserState | null;
  readonly relatedAppUserIds: readonly string[];
  /** Whether the mapped values are meant for the app user (false for removed and out-of-scope users). */
  readonly mapsOnto: boolean;
}

export function decide(context: RunContext, input: DecisionInput): Decision {
  const { mapped, scope, licenseSource } = mapSourceUser(context, input.source);
  let classification = classify(context, input, mapped, scope);
  let action = resolveAction(context.config.policy.actions, classification.situation);

  const currentLicense = classification.before?.license ?? null;
  if (SEAT_TAKING_ACTIONS.has(action) && mapped.license !== null && mapped.license !== currentLicense) {
    const free = input.freeSeats[mapped.license] ?? 0;
    // Negated so that a count that is not a number (a storage fault) reads as full, too.
    if (!(free >= 1)) {
      classification = {
        ...classification,
        situation: 'NO_SEAT',
        reason: `${classification.reason} But licence "${mapped.license}"${describeLicenseSource(licenseSource)} has no free seat, so ${action} was not carried out.`,
      };
      action = resolveAction(context.config.policy.actions, 'NO_SEAT');
    }
  }

  const { situation, before } = classification;
  const changes = classification.mapsOnto ? attributeChanges(before, input.linked, mapped) : [];
  const beforeLicense = before?.license ?? null;
  return {
    sourceUserId: input.source.id,
    situation,
    action,
    reason: `${classification.reason} ${describeAction(situation, action)}`,
    appUserId: classification.appUserId,
    relatedAppUserIds: classification.relatedAppUserIds,
    write: writes(action, input.linked, mapped),
    mapped,
    changes,
    appGroupChanges: classification.mapsOnto
      ? setChange(before?.appGroups ?? [], mapped.appGroups)
      : NO_SET_CHANGE,
    roleChanges: classification.mapsOnto ? setChange(before?.roles ?? [], mapped.roles) : NO_SET_CHANGE,
    licenseChange:
      classification.mapsOnto && beforeLicense !== mapped.license
        ? { before: beforeLicense, after: mapped.license }
        : null,
    suspensionReason: action === 'SUSPEND' ? (SUSPENSION_REASON_FOR[situation] ?? null) : null,
  };
}

function classify(
  context: RunContext,
  input: DecisionInput,
  mapped: MappedUser,
  scope: ScopeResult,
): Classification {
  const { source, linked } = input;
  const email = mapped.emailKey;

  if (source.removal !== null) {
    const how =
      source.removal === 'changed'
        ? 'Deleted in Entra (restorable for 30 days)'
        : source.removal === 'deleted'
          ? 'Deleted in Entra permanently'
          : 'Not returned by a full import from Entra';
    if (linked === null)
      return outcome('ALL_GONE', `${how}, and not linked to an app user.`, null, null, false);
    const situation = source.removal === 'changed' ? 'SOURCE_SOFT_DELETED' : 'SOURCE_DELETED';
    return outcome(
      situation,
      `${how}; linked to app user ${linked.appUserId}.`,
      linked.appUserId,
      linked,
      false,
    );
  }

  if (!scope.inScope) {
    if (linked === null)
      return outcome('SOURCE_IGNORED', `Out of scope: the user ${scope.reason}.`, null, null, false);
    return outcome(
      'UNQUALIFIED',
      `Linked to app user ${linked.appUserId} but now out of scope: the user ${scope.reason}.`,
      linked.appUserId,
      linked,
      false,
    );
  }

  if (linked !== null) return classifyLinked(input.emailCandidates, linked, email);
  return classifyByEmail(context, input, email);
}

function classifyLinked(
  candidates: readonly EmailCandidate[],
  linked: LinkedAppUser,
  email: string | null,
): Classification {
  const holders = candidates.filter((candidate) => candidate.appUserId !== linked.appUserId);
  if (holders.length > 0) {
    const ids = holders.map((holder) => holder.appUserId);
    return {
      ...outcome(
        'CONFLICT',
        `Linked to app user ${linked.appUserId}, but its new e-mail ${email ?? ''} belongs to app user ${ids.join(', ')}.`,
        linked.appUserId,
        linked,
        true,
      ),
      relatedAppUserIds: ids,
    };
  }
  if (
    linked.status === 'suspended' &&
    linked.suspensionReason !== null &&
    SYNC_SUSPENSIONS.has(linked.suspensionReason)
  ) {
    return outcome(
      'RESTORED',
      `Back in Entra and in scope; app user ${linked.appUserId} was suspended by the sync (${linked.suspensionReason}).`,
      linked.appUserId,
      linked,
      true,
    );
  }
  return outcome('CONFIRMED', `Linked to app user ${linked.appUserId}.`, linked.appUserId, linked, true);
}

function classifyByEmail(context: RunContext, input: DecisionInput, email: string | null): Classification {
  const { emailCandidates: candidates, source } = input;
  if (email === null || candidates.length === 0) {
    const why = email === null ? 'the user has no e-mail to match on' : `no app user has e-mail ${email}`;
    return outcome('ABSENT', `In scope and not linked; ${why}.`, null, null, true);
  }
  const ids = candidates.map((candidate) => candidate.appUserId);
  const [candidate] = candidates;
  if (candidates.length > 1 || candidate === undefined) {
    return {
      ...outcome(
        'AMBIGUOUS',
        `In scope and not linked; ${ids.length} app users have e-mail ${email}.`,
        null,
        null,
        true,
      ),
      relatedAppUserIds: ids,
    };
  }
  const { division, id: connectionId } = context.config;
  const conflict =
    candidate.division !== division
      ? `it belongs to app user ${candidate.appUserId} of division "${candidate.division}", not "${division}"`
      : candidate.link !== null && candidate.link.connectionId !== connectionId
        ? `it belongs to app user ${candidate.appUserId}, linked through connection ${candidate.link.connectionId}`
        : candidate.link !== null && candidate.link.sourceUserId !== source.id
          ? `it belongs to app user ${candidate.appUserId}, linked to another Entra user (${candidate.link.sourceUserId})`
          : null;
  if (conflict !== null) {
    return {
      ...outcome(
        'CONFLICT',
        `In scope and not linked; e-mail ${email} is taken: ${conflict}.`,
        null,
        null,
        true,
      ),
      relatedAppUserIds: ids,
    };
  }
  return outcome(
    'FOUND',
    `In scope and not linked; app user ${candidate.appUserId} of this division has e-mail ${email}.`,
    candidate.appUserId,
    candidate.current ?? null,
    true,
  );
}

function outcome(
  situation: Situation,
  reason: string,
  appUserId: string | null,
  before: AppUserState | null,
  mapsOnto: boolean,
): Classification {
  return { situation, reason, appUserId, before, relatedAppUserIds: [], mapsOnto };
}

function describeLicenseSource(source: string | null): string {
  if (source === null) return '';
  return source === 'default' ? ' (the default licence)' : ` (from group ${source})`;
}

function describeAction(situation: Situation, action: Action): string {
  const fallback = defaultAction(situation);
  return action === fallback
    ? `Action: ${action}.`
    : `Action: ${action} (set by policy; default ${fallback}).`;
}

function writes(action: Action, linked: LinkedAppUser | null, mapped: MappedUser): boolean {
  switch (action) {
    case 'CREATE':
    case 'LINK':
    case 'UNLINK':
    case 'DELETE':
    case 'REACTIVATE':
      return true;
    case 'UPDATE':
      return linked === null || linked.hash !== mapped.hash;
    case 'SUSPEND':
      return linked !== null && linked.status !== 'suspended';
    case 'EXCEPTION':
    case 'IGNORE':
      return false;
  }
}

function attributeChanges(
  before: AppUserState | null,
  linked: LinkedAppUser | null,
  mapped: MappedUser,
): AttributeChange[] {
  // Equal hashes mean equal records: no need to look at each attribute.
  if (linked !== null && before === linked && linked.hash === mapped.hash) return [];
  const changes: AttributeChange[] = [];
  // Only mapped attributes are compared: one dropped from the mapping is no longer the sync's to change.
  for (const [attribute, after] of Object.entries(mapped.attributes)) {
    const previous = before?.attributes[attribute] ?? null;
    if (!sameValue(previous, after)) changes.push({ attribute, before: previous, after });
  }
  return changes;
}

function sameValue(a: MappedValue, b: MappedValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => item === b[index]);
  }
  return a === b;
}

const NO_SET_CHANGE: SetChange = { added: [], removed: [] };

function setChange(before: readonly string[], after: readonly string[]): SetChange {
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  return {
    added: after.filter((item) => !beforeSet.has(item)),
    removed: before.filter((item) => !afterSet.has(item)),
  };
}
