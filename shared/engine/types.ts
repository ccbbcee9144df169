/**
 * The data the pure engine works on. Everything here is plain data that the storage layer can hold
 * and hand over without extra reads: the merged source snapshot it keeps per Entra user, the linked app
 * user row, the e-mail claim row(s), and a per-run count of free seats.
 */
import type { Action, Situation } from './policy.js';

/** A value as Microsoft Graph returns it in JSON. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Graph user properties by name, as last seen (a delta object merged onto the stored snapshot). */
export type SourceProperties = Readonly<Record<string, JsonValue>>;

/**
 * How a user left Entra. `changed` and `deleted` are Graph's own `@removed.reason` values (soft
 * delete, restorable for 30 days; permanent delete). `missingFromFullImport` is the storage layer's
 * finding that a linked user was not returned by a full (non-delta) read.
 */
export type RemovalKind = 'changed' | 'deleted' | 'missingFromFullImport';

export interface SourceUser {
  /** Entra object id. */
  readonly id: string;
  readonly properties: SourceProperties;
  readonly removal: RemovalKind | null;
  /** Ids of the Entra groups the user is a direct member of; nesting comes from the run context. */
  readonly memberOf: readonly string[];
}

/** A value written to an app user attribute. */
export type MappedValue = string | number | boolean | null | readonly string[];
export type MappedAttributes = Readonly<Record<string, MappedValue>>;

/** What the sync owns of an app user; the content hash covers exactly this. */
export interface MappedRecord {
  readonly attributes: MappedAttributes;
  readonly appGroups: readonly string[];
  readonly roles: readonly string[];
  readonly license: string | null;
}

export type AppUserStatus = 'active' | 'suspended';

/**
 * Why an app user is suspended. The first three are set by the sync and undone by it when the cause
 * goes away (RESTORED); `manual` (an administrator's) is never undone by the sync.
 */
export type SuspensionReason = 'source_soft_deleted' | 'source_deleted' | 'out_of_scope' | 'manual';

export interface AppUserState extends MappedRecord {
  readonly appUserId: string;
  readonly status: AppUserStatus;
  readonly suspensionReason: SuspensionReason | null;
}

/** The app user linked to this source user in this connection. */
export interface LinkedAppUser extends AppUserState {
  /** `hashMappedRecord` of what was last written; equal hash means nothing to write. */
  readonly hash: string;
}

/** An app user holding (or, without a claim, carrying) the user's normalised e-mail. */
export interface EmailCandidate {
  readonly appUserId: string;
  readonly division: string;
  /** The link it already has, if any; an app user linked elsewhere is never taken over. */
  readonly link: { readonly connectionId: string; readonly sourceUserId: string } | null;
  /** Its current state, when the storage layer has read it; gives before-values and its licence. */
  readonly current?: AppUserState | null;
}

export interface DecisionInput {
  readonly source: SourceUser;
  readonly linked: LinkedAppUser | null;
  /**
   * App users other than the linked one that hold the mapped e-mail (see `matchingEmailKey`). For an
   * unlinked user: 0 -> ABSENT, 1 -> FOUND or CONFLICT, more -> AMBIGUOUS. For a linked user any entry
   * is a CONFLICT (its new e-mail is taken), so the store need only look when the e-mail key changed.
   */
  readonly emailCandidates: readonly EmailCandidate[];
  /**
   * Free seats per licence name at this point of the run. A licence missing here counts as full, so a
   * storage fault shows as NO_SEAT exceptions rather than as overbooking.
   */
  readonly freeSeats: Readonly<Record<string, number>>;
}

export interface AttributeChange {
  readonly attribute: string;
  readonly before: MappedValue;
  readonly after: MappedValue;
}

export interface SetChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface MappedUser extends MappedRecord {
  /** The normalised e-mail this user claims (from the mapped `mail`), or null when there is none. */
  readonly emailKey: string | null;
  readonly hash: string;
  readonly inScope: boolean;
}

export interface Decision {
  readonly sourceUserId: string;
  readonly situation: Situation;
  readonly action: Action;
  /** One or two sentences for the run report and the exception list. */
  readonly reason: string;
  /** The app user the action applies to: the linked one, the one found by e-mail, or null. */
  readonly appUserId: string | null;
  /** App users named in a CONFLICT or AMBIGUOUS situation, for the person resolving it. */
  readonly relatedAppUserIds: readonly string[];
  /** False when carrying out the action would change nothing stored (so the writer can skip it). */
  readonly write: boolean;
  readonly mapped: MappedUser;
  /** Per mapped attribute whose value differs from the app user's (all of them for CREATE). */
  readonly changes: readonly AttributeChange[];
  readonly appGroupChanges: SetChange;
  readonly roleChanges: SetChange;
  readonly licenseChange: { readonly before: string | null; readonly after: string | null } | null;
  /** For SUSPEND: the reason to record, which decides whether the sync may later reactivate. */
  readonly suspensionReason: SuspensionReason | null;
}
