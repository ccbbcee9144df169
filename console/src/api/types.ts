/**
 * The admin API's answers, as the console reads them (docs/http-api.md). Run reports and job progress
 * mirror shared/storage/runs.ts and shared/sync/import-jobs.ts by hand: those modules reach Table
 * Storage and Node's crypto, which must not enter the browser's type program or bundle.
 */
import type { ConnectionConfigDocument } from '../../../shared/config/connection.js';
import type { OutcomeStatus } from '../../../shared/engine/outcome-status.js';

export type { ConnectionConfigDocument, OutcomeStatus };

export interface ConsentRecord {
  grantedAt: string;
  tenantId: string;
  organizationName: string | null;
}

export interface ConnectionView {
  id: string;
  enabled: boolean;
  /** Stored only after it validated, so it is a connection document as an administrator writes it. */
  document: ConnectionConfigDocument;
  consent: ConsentRecord | null;
  lastRun: { runId: string; at: string | null; status: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

export type RunMode = 'preview' | 'import' | 'sync';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'deletions_held' | 'superseded';

export interface LicenseTally {
  seats: number;
  used: number;
  demand: number;
}

export interface RunReport {
  runId: string;
  connectionId: string;
  mode: RunMode;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
  fallbackReason: string | null;
  usersRead: number;
  pages: number;
  situations: Record<string, number>;
  actions: Record<string, number>;
  exceptions: { user: string; situation: string; reason: string }[];
  moreExceptions: number;
  held: { count: number; threshold: number; linkedUsers: number } | null;
  licenses: Record<string, LicenseTally>;
  graphRequests: number;
  storageTransactions: number;
  error: { code: string; message: string; nextStep: string | null } | null;
  approval?: { approvedAt: string; applied: number; skipped: number };
  supersededBy?: string;
}

export interface AttributeChange {
  attribute: string;
  before: unknown;
  after: unknown;
}

/** One user's line of a preview or run, with the status word the API derived from it. */
export interface UserLine {
  sourceId: string;
  userName: string | null;
  situation: string;
  action: string;
  reason: string;
  changes: AttributeChange[];
  appGroups?: string[];
  license?: string | null;
  status: OutcomeStatus;
}

export interface UserLinesPage {
  items: UserLine[];
  total: number;
  /** Over the whole preview or run, whatever the status filter. */
  counts: Partial<Record<OutcomeStatus, number>>;
}

export interface UserLinesQuery {
  status?: OutcomeStatus | undefined;
  search?: string | undefined;
  top: number;
  skip: number;
}

export type JobKind = 'import' | 'selected' | 'preview';
export type JobStatus =
  'queued' | 'reading' | 'processing' | 'finalizing' | 'succeeded' | 'deletions_held' | 'failed';

export interface JobProgress {
  jobId: string;
  kind: JobKind;
  connectionId: string;
  runId: string;
  status: JobStatus;
  pagesRead: number;
  readDone: boolean;
  pagesDone: number;
  usersProcessed: number;
  situations: Record<string, number>;
  actions: Record<string, number>;
  error: string | null;
  report: RunReport | null;
}

export interface JobStarted {
  jobId: string;
  status: JobStatus;
  location: string;
}

export interface EntraGroup {
  id: string;
  displayName: string | null;
  description: string | null;
}

export type HeldAction = 'SUSPEND' | 'DELETE' | 'UNLINK';

export interface HeldRemovals {
  runId: string;
  connectionId: string;
  division: string;
  count: number;
  actions: Partial<Record<HeldAction, number>>;
  /** The first 200. */
  users: {
    sourceId: string;
    userName: string | null;
    action: HeldAction;
    reason: string;
    /** The app user changed after the run held it: approving skips it. */
    changedSince: boolean;
  }[];
}

export interface AppUser {
  sourceId: string;
  appUserId: string;
  userName?: unknown;
  mail?: unknown;
  displayName?: unknown;
  status: string;
  suspendedBy: string | null;
  appGroups: string[];
  roles: string[];
  license: string | null;
  division: string;
  updatedAt: string;
  [attribute: string]: unknown;
}

export interface AppUsersPage {
  users: AppUser[];
  skip: number;
  top: number;
  total: number;
}

export interface ConsentStart {
  consentUrl: string;
  /** When the signed consent link expires; older APIs do not say. */
  expiresAt?: string;
}
