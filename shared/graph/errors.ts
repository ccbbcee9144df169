import { AuthenticationError } from '@azure/identity';
import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { EntraSyncError, NotFoundError, SettingsError, type EntraSyncErrorOptions } from '../errors.js';
import { graphErrorBodySchema } from './schemas.js';

/**
 * The Graph reader's typed errors, and the ONE place (mapGraphError) where failures from
 * @azure/identity, the Graph SDK and raw Graph responses become them. Messages and next steps are
 * composed here from codes and ids; text that comes from a server is passed through redact() first,
 * and no credential value is ever put into an error.
 */

/** What the mapper needs to write a useful next step. All optional; nothing here is secret. */
export interface GraphErrorContext {
  readonly tenantId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly credentialKind?: 'secret' | 'certificate' | undefined;
  /** Where the credential comes from, for example a Key Vault secret name or a setting name. */
  readonly credentialReference?: string | undefined;
  /** Login authority, for the admin-consent link. */
  readonly authorityHost?: string | undefined;
  /** Application permissions the app needs, named in the consent next step. */
  readonly permissions?: readonly string[] | undefined;
  /** Used when a throttled response carries no Retry-After: how long to suggest waiting. */
  readonly fallbackRetryAfterMs?: number | undefined;
  /** Why the retry budget stopped retrying, when it did. */
  readonly retryStop?: RetryStopReason | undefined;
  readonly now?: (() => number) | undefined;
}

export type RetryStopReason = 'max_retries' | 'budget_spent';

/** The application permissions a directory reader needs (named in consent next steps). */
export const DEFAULT_GRAPH_PERMISSIONS: readonly string[] = [
  'User.Read.All',
  'GroupMember.Read.All',
  'Organization.Read.All',
];

/** Identifiers of one failed Graph response, kept on every Graph error for support cases. */
export interface GraphFailureInfo {
  readonly status?: number | undefined;
  readonly graphCode?: string | undefined;
  readonly requestId?: string | undefined;
  readonly clientRequestId?: string | undefined;
}

type Options = EntraSyncErrorOptions & GraphFailureInfo;

/** Any other Graph failure: a status, Graph's error code and the request-id to quote to support. */
export class GraphRequestError extends EntraSyncError implements GraphFailureInfo {
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  /** 5xx: the same request may well succeed later. */
  readonly transient: boolean;

  constructor(message: string, options: Options = {}) {
    super('graph_error', message, options);
    this.status = options.status;
    this.graphCode = options.graphCode;
    this.requestId = options.requestId;
    this.clientRequestId = options.clientRequestId;
    this.transient = options.status !== undefined && options.status >= 500;
  }
}

export type ConsentProblem =
  'not_consented' | 'app_not_in_tenant' | 'app_disabled' | 'insufficient_privileges';

export class ConsentMissingError extends EntraSyncError implements GraphFailureInfo {
  readonly problem: ConsentProblem;
  readonly tenantId: string | undefined;
  readonly clientId: string | undefined;
  /** The AADSTS number when the sign-in said so (for example 65001). */
  readonly aadsts: number | undefined;
  /** The admin-consent link for this app and tenant, when both are known. */
  readonly adminConsentUrl: string | undefined;
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    message: string,
    options: Options & {
      problem: ConsentProblem;
      tenantId?: string | undefined;
      clientId?: string | undefined;
      aadsts?: number | undefined;
      adminConsentUrl?: string | undefined;
    },
  ) {
    super('consent_missing', message, options);
    this.problem = options.problem;
    this.tenantId = options.tenantId;
    this.clientId = options.clientId;
    this.aadsts = options.aadsts;
    this.adminConsentUrl = options.adminConsentUrl;
    this.status = options.status;
    this.graphCode = options.graphCode;
    this.requestId = options.requestId;
  }
}

export type CredentialProblem =
  'secret_invalid' | 'secret_expired' | 'certificate_rejected' | 'credential_missing';

export class CredentialsInvalidError extends EntraSyncError {
  readonly problem: CredentialProblem;
  readonly tenantId: string | undefined;
  readonly clientId: string | undefined;
  /** The reference to fix (Key Vault secret name, setting name); never the credential itself. */
  readonly credentialReference: string | undefined;
  readonly aadsts: number | undefined;

  constructor(
    message: string,
    options: EntraSyncErrorOptions & {
      problem: CredentialProblem;
      tenantId?: string | undefined;
      clientId?: string | undefined;
      credentialReference?: string | undefined;
      aadsts?: number | undefined;
    },
  ) {
    super('credentials_invalid', message, options);
    this.problem = options.problem;
    this.tenantId = options.tenantId;
    this.clientId = options.clientId;
    this.credentialReference = options.credentialReference;
    this.aadsts = options.aadsts;
  }
}

/** The tenant id is unknown to the login authority, or belongs to another cloud. */
export class TenantSettingsError extends SettingsError {
  readonly problem: 'tenant_not_found' | 'wrong_cloud';
  readonly tenantId: string | undefined;
  readonly aadsts: number | undefined;

  constructor(
    message: string,
    options: EntraSyncErrorOptions & {
      problem: 'tenant_not_found' | 'wrong_cloud';
      tenantId?: string | undefined;
      aadsts?: number | undefined;
    },
  ) {
    super(message, options);
    this.problem = options.problem;
    this.tenantId = options.tenantId;
    this.aadsts = options.aadsts;
  }
}

export type DeltaStateLostKind = 'expired' | 'reset';

/**
 * The stored delta state is no longer usable: the engine drops it and reads everything again.
 * expired: the token outlived its lifetime (seven days for directory objects; syncStateNotFound).
 * reset: Graph asks for a full resynchronisation (410 Gone, resyncRequired).
 */
export class DeltaStateLostError extends EntraSyncError implements GraphFailureInfo {
  readonly kind: DeltaStateLostKind;
  /** 410's Location header: a fresh initial request URL (empty $deltatoken), when Graph sent one. */
  readonly location: string | undefined;
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    message: string,
    options: Options & { kind: DeltaStateLostKind; location?: string | undefined },
  ) {
    super('delta_state_lost', message, options);
    this.kind = options.kind;
    this.location = options.location;
    this.status = options.status;
    this.graphCode = options.graphCode;
    this.requestId = options.requestId;
  }
}

/** Graph kept answering 429/503/504 and the retry budget is spent. */
export class ThrottledError extends EntraSyncError implements GraphFailureInfo {
  /** Seconds to wait, from Retry-After (fractional seconds are kept), or the suggested fallback. */
  readonly retryAfterSeconds: number;
  /** When to try again. */
  readonly retryAt: Date;
  /** Whether Retry-After came from Graph (true) or is our suggestion (false). */
  readonly retryAfterFromServer: boolean;
  readonly stopReason: RetryStopReason | undefined;
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    message: string,
    options: Options & {
      retryAfterSeconds: number;
      retryAt: Date;
      retryAfterFromServer: boolean;
      stopReason?: RetryStopReason | undefined;
    },
  ) {
    super('throttled', message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryAt = options.retryAt;
    this.retryAfterFromServer = options.retryAfterFromServer;
    this.stopReason = options.stopReason;
    this.status = options.status;
    this.graphCode = options.graphCode;
    this.requestId = options.requestId;
  }
}

export class GraphNotFoundError extends NotFoundError implements GraphFailureInfo {
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, options: Options = {}) {
    super(message, options);
    this.status = options.status;
    this.graphCode = options.graphCode;
    this.requestId = options.requestId;
  }
}

// ---------------------------------------------------------------------------------------------------
// Inputs the mapper understands besides library errors.

export type HeadersLike =
  { get(name: string): string | null } | Readonly<Record<string, string | undefined>> | null | undefined;

/** A non-2xx Graph response, read by the reader (or replayed from a recorded example). */
export interface GraphHttpFailure {
  readonly kind: 'graph_http_failure';
  /** undefined when unknown (a body seen without its status line). */
  readonly status: number | undefined;
  readonly headers: HeadersLike;
  /** The parsed JSON body, the text when it was not JSON, or undefined. */
  readonly body: unknown;
  /** What was being read, for messages: 'GET /users/delta'. */
  readonly operation?: string | undefined;
}

export function graphHttpFailure(
  status: number | undefined,
  headers: HeadersLike,
  body: unknown,
  operation?: string,
): GraphHttpFailure {
  return { kind: 'graph_http_failure', status, headers, body, operation };
}

function isGraphHttpFailure(value: unknown): value is GraphHttpFailure {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'graph_http_failure'
  );
}

export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get(name);
    return value ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | undefined>>;
  const wanted = name.toLowerCase();
  // Recorded examples spell header names variously ("Content-type", "Retry-After").
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Redaction and Retry-After.

const REDACTIONS: readonly [RegExp, string][] = [
  // JWTs (access tokens, client assertions).
  [/eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, '[redacted-token]'],
  [/\b(Bearer)\s+[\w\-.~+/]+=*/gi, '$1 [redacted]'],
  [/\b(client_secret|client_assertion|access_token|refresh_token|password)=([^&\s"']+)/gi, '$1=[redacted]'],
  [
    /("(?:client_secret|client_assertion|access_token|refresh_token|password)"\s*:\s*)"[^"]*"/gi,
    '$1"[redacted]"',
  ],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[redacted-private-key]'],
];

/** Removes anything that looks like a token, a secret or a private key from server-supplied text. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of REDACTIONS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Retry-After in milliseconds: delta-seconds (Graph sends fractional ones, for example "2.128", as the
 * throttling page shows: https://learn.microsoft.com/graph/throttling) or an HTTP date. undefined when
 * absent or unreadable; never negative.
 */
export function parseRetryAfterMs(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date names its day and month; anything else (a negative number, say) is unreadable.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

// ---------------------------------------------------------------------------------------------------
// The mapping.

const CONSENT_CODES = new Map<number, ConsentProblem>([
  [65001, 'not_consented'], // DelegationDoesNotExist: nobody consented
  [90094, 'not_consented'], // AdminConsentRequired
  [650056, 'not_consented'], // misconfigured application or admin has not consented
  [700016, 'app_not_in_tenant'], // application not found in the directory (never consented there)
  [500011, 'app_not_in_tenant'], // resource principal not found in the tenant
  [7000112, 'app_disabled'], // UnauthorizedClientApplicationDisabled
  [70001, 'app_disabled'], // UnauthorizedClient: the application is disabled
]);

const CREDENTIAL_CODES = new Map<number, CredentialProblem>([
  [7000215, 'secret_invalid'], // invalid client secret (often the secret's id instead of its value)
  [70002, 'secret_invalid'], // InvalidClient: the secret does not match
  [7000222, 'secret_expired'], // InvalidClientSecretExpiredKeysProvided
  [700027, 'certificate_rejected'], // client assertion failed signature validation
  [700030, 'certificate_rejected'], // certificate subject name not authorised
  [50012, 'certificate_rejected'], // AuthenticationFailed (invalid client assertion)
  [7000218, 'credential_missing'], // neither client_assertion nor client_secret was sent
]);

const TENANT_CODES = new Map<number, 'tenant_not_found' | 'wrong_cloud'>([
  [90002, 'tenant_not_found'], // InvalidTenantName
  [900023, 'tenant_not_found'], // the tenant identifier is neither a GUID nor a domain
  [90038, 'wrong_cloud'], // NationalCloudTenantRedirection
]);

const IDENTITY_ERROR_NAMES = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'CredentialUnavailableError',
  'AggregateAuthenticationError',
]);

function aadstsCodes(...texts: (string | undefined)[]): number[] {
  const codes: number[] = [];
  for (const text of texts) {
    if (!text) continue;
    for (const match of text.matchAll(/AADSTS(\d{4,9})/g)) codes.push(Number(match[1]));
    // @azure/identity 4 rewrites MSAL server errors as "invalid_client: Error(s): 7000215 - ...".
    const listed = /Error\(s\):\s*([\d,\s]+)\s*-/.exec(text);
    if (listed?.[1]) {
      for (const part of listed[1].split(',')) {
        const n = Number(part.trim());
        if (Number.isInteger(n) && n > 0) codes.push(n);
      }
    }
  }
  return [...new Set(codes)];
}

/** The AADSTS description's first sentence, redacted; trace and correlation ids are dropped. */
function aadstsSummary(code: number, ...texts: (string | undefined)[]): string {
  for (const text of texts) {
    if (!text) continue;
    const match = new RegExp(`AADSTS${code}:\\s*([^\\r\\n]*?)(?:\\.|\\s+Trace ID:|\\r|\\n|$)`).exec(text);
    if (match?.[1]) return redact(`AADSTS${code}: ${match[1].trim()}`);
  }
  return `AADSTS${code}`;
}

function appLabel(context: GraphErrorContext): string {
  return context.clientId ? `application ${context.clientId}` : 'the application';
}

function tenantLabel(context: GraphErrorContext): string {
  return context.tenantId ? `tenant ${context.tenantId}` : 'the tenant';
}

function adminConsentUrl(context: GraphErrorContext): string | undefined {
  if (!context.tenantId || !context.clientId) return undefined;
  const authority = (context.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  return `${authority}/${encodeURIComponent(context.tenantId)}/adminconsent?client_id=${encodeURIComponent(context.clientId)}`;
}

function consentError(
  problem: ConsentProblem,
  context: GraphErrorContext,
  detail: string,
  extra: Options & { aadsts?: number | undefined },
): ConsentMissingError {
  const url = adminConsentUrl(context);
  const permissions = (context.permissions ?? DEFAULT_GRAPH_PERMISSIONS).join(', ');
  const app = appLabel(context);
  const tenant = tenantLabel(context);
  const head: Record<ConsentProblem, string> = {
    not_consented: `${app} has no admin consent in ${tenant}`,
    app_not_in_tenant: `${app} is not present in ${tenant} (no administrator has consented to it there)`,
    app_disabled: `${app} is disabled in ${tenant}`,
    insufficient_privileges: `${app} lacks the Microsoft Graph permissions it needs in ${tenant}`,
  };
  const consentStep =
    `An administrator of ${tenant} must grant admin consent to ${app} for the Microsoft Graph ` +
    `application permissions ${permissions}` +
    (url ? ` (open ${url} signed in as a Global or Privileged Role Administrator)` : '') +
    '.';
  const nextStep =
    problem === 'app_disabled'
      ? `An administrator of ${tenant} must enable ${app} (Enterprise applications > Properties > Enabled for users to sign in), then grant admin consent if asked.`
      : problem === 'app_not_in_tenant'
        ? `${consentStep} If consent was granted, check that the tenant id and client id are the right ones.`
        : consentStep;
  return new ConsentMissingError(`${head[problem]}: ${detail}`, {
    ...extra,
    problem,
    tenantId: context.tenantId,
    clientId: context.clientId,
    adminConsentUrl: url,
    nextStep,
  });
}

function credentialsError(
  problem: CredentialProblem,
  context: GraphErrorContext,
  detail: string,
  aadsts: number | undefined,
  cause: unknown,
): CredentialsInvalidError {
  const app = appLabel(context);
  const kind =
    context.credentialKind ??
    (problem === 'certificate_rejected'
      ? 'certificate'
      : problem === 'credential_missing'
        ? undefined
        : 'secret');
  const what = kind === 'certificate' ? 'certificate' : kind === 'secret' ? 'client secret' : 'credential';
  const ref = context.credentialReference
    ? `the ${what} referenced by "${context.credentialReference}"`
    : `the configured ${what}`;
  const head: Record<CredentialProblem, string> = {
    secret_invalid: `The client secret of ${app} was rejected`,
    secret_expired: `The client secret of ${app} has expired`,
    certificate_rejected: `The certificate of ${app} was rejected`,
    credential_missing: `No credential was sent for ${app}`,
  };
  const nextStep: Record<CredentialProblem, string> = {
    secret_invalid: `Fix ${ref}: create a new client secret for ${app} (App registrations > Certificates & secrets) and store its Value, not its Secret ID.`,
    secret_expired: `Fix ${ref}: create a new client secret for ${app} (App registrations > Certificates & secrets), store its Value there, and delete the expired one.`,
    certificate_rejected: `Fix ${ref}: upload that certificate's public part to ${app} (App registrations > Certificates & secrets), or replace it with a certificate registered there.`,
    credential_missing: `Fix ${ref}: it must hold a client secret or a certificate with its private key for ${app}.`,
  };
  return new CredentialsInvalidError(`${head[problem]} (${tenantLabel(context)}): ${detail}`, {
    problem,
    tenantId: context.tenantId,
    clientId: context.clientId,
    credentialReference: context.credentialReference,
    aadsts,
    nextStep: nextStep[problem],
    cause,
  });
}

/** Maps a failed sign-in from its AADSTS codes; undefined when none is one we know. */
function fromIdentity(
  codes: readonly number[],
  texts: readonly (string | undefined)[],
  context: GraphErrorContext,
  cause: unknown,
): EntraSyncError | undefined {
  for (const code of codes) {
    const summary = aadstsSummary(code, ...texts);
    const consent = CONSENT_CODES.get(code);
    if (consent) return consentError(consent, context, summary, { aadsts: code, cause });
    const credential = CREDENTIAL_CODES.get(code);
    if (credential) return credentialsError(credential, context, summary, code, cause);
    const tenant = TENANT_CODES.get(code);
    if (tenant) {
      const label = tenantLabel(context);
      return new TenantSettingsError(
        tenant === 'wrong_cloud'
          ? `${label} belongs to another national cloud: ${summary}`
          : `${label} was not found by the login authority: ${summary}`,
        {
          problem: tenant,
          tenantId: context.tenantId,
          aadsts: code,
          cause,
          nextStep:
            tenant === 'wrong_cloud'
              ? `Set the connection's cloud to the one ${label} lives in (global, usgov, usgovdod or china).`
              : `Check the tenant id (a GUID or a verified domain) and that the connection's cloud is the tenant's cloud.`,
        },
      );
    }
  }
  return undefined;
}

function mapIdentityError(error: Error, context: GraphErrorContext): Error {
  let codes: number[];
  let texts: (string | undefined)[];
  if (error instanceof AuthenticationError || error.name === 'AuthenticationError') {
    const response = (error as Partial<AuthenticationError>).errorResponse;
    codes = [...(response?.errorCodes ?? []), ...aadstsCodes(response?.errorDescription, error.message)];
    texts = [response?.errorDescription, error.message];
  } else {
    codes = aadstsCodes(error.message);
    texts = [error.message];
  }
  return fromIdentity([...new Set(codes)], texts, context, error) ?? error;
}

interface ParsedEnvelope {
  code: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
  clientRequestId: string | undefined;
}

function parseEnvelope(body: unknown): ParsedEnvelope {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return { code: undefined, message: undefined, requestId: undefined, clientRequestId: undefined };
    }
  }
  const parsed = graphErrorBodySchema.safeParse(value);
  if (!parsed.success)
    return { code: undefined, message: undefined, requestId: undefined, clientRequestId: undefined };
  const inner = parsed.data.error.innerError ?? parsed.data.error.innererror;
  return {
    code: parsed.data.error.code === '' ? undefined : parsed.data.error.code,
    message: parsed.data.error.message,
    requestId: inner?.['request-id'] ?? inner?.requestId,
    clientRequestId: inner?.['client-request-id'],
  };
}

function sameCode(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Maps one non-2xx Graph response. */
function mapHttpFailure(
  failure: GraphHttpFailure,
  context: GraphErrorContext,
  cause: unknown,
): EntraSyncError {
  const envelope = parseEnvelope(failure.body);
  const status = failure.status;
  const info: GraphFailureInfo = {
    status,
    graphCode: envelope.code,
    requestId: envelope.requestId ?? headerValue(failure.headers, 'request-id'),
    clientRequestId: envelope.clientRequestId ?? headerValue(failure.headers, 'client-request-id'),
  };
  const where = failure.operation ? ` (${failure.operation})` : '';
  const said = envelope.message ? `: ${redact(envelope.message)}` : '';
  const codeText = envelope.code ? ` ${envelope.code}` : '';
  const statusText = status === undefined ? 'Graph error' : `Graph answered ${status}`;
  const base = { ...info, cause };

  // Delta state: https://learn.microsoft.com/graph/delta-query-overview (Synchronization reset, Token duration)
  const expired = sameCode(envelope.code, 'syncStateNotFound');
  const resync = sameCode(envelope.code, 'resyncRequired');
  if (status === 410 || expired || resync) {
    const location = headerValue(failure.headers, 'location');
    const kind: DeltaStateLostKind = expired ? 'expired' : 'reset';
    return new DeltaStateLostError(
      kind === 'expired'
        ? `The stored delta state has expired${where}; ${statusText}${codeText}${said}`
        : `Graph asked for a full resynchronisation${where}; ${statusText}${codeText}${said}`,
      {
        ...base,
        kind,
        location,
        nextStep:
          'Drop the stored deltaLink and read everything again (a full read), then keep the new deltaLink.',
      },
    );
  }

  if (status === 429 || status === 503 || status === 504) {
    const now = (context.now ?? Date.now)();
    const fromServer = parseRetryAfterMs(headerValue(failure.headers, 'retry-after'), now);
    const waitMs = fromServer ?? context.fallbackRetryAfterMs ?? 60_000;
    const retryAt = new Date(now + waitMs);
    const why =
      context.retryStop === 'budget_spent'
        ? 'the total retry wait for this run is spent'
        : context.retryStop === 'max_retries'
          ? 'the retries for this request are spent'
          : 'no retry was attempted';
    return new ThrottledError(
      `Microsoft Graph is throttling or busy (${status}${codeText})${where} and ${why}; retry after ${waitMs / 1000} s${said}`,
      {
        ...base,
        retryAfterSeconds: waitMs / 1000,
        retryAt,
        retryAfterFromServer: fromServer !== undefined,
        stopReason: context.retryStop,
        nextStep: `Run again after ${retryAt.toISOString()}. If this keeps happening, run less often or raise the retry budget.`,
      },
    );
  }

  if (status === 404) {
    return new GraphNotFoundError(
      `Not found in Microsoft Graph${where}${codeText ? `:${codeText}` : ''}${said}`,
      {
        ...base,
        nextStep: 'Check the id; the object may have been deleted since it was listed.',
      },
    );
  }

  if (status === 403) {
    return consentError('insufficient_privileges', context, `${statusText}${codeText}${where}${said}`, base);
  }

  const nextStep =
    status === 401
      ? "Check that the connection's cloud matches the tenant's cloud (the token's audience must be that cloud's Graph)."
      : status === 501
        ? 'Graph does not support this query; remove the property from $select (some, like skills, are stored outside Entra ID and cannot be read this way).'
        : status !== undefined && status >= 500
          ? 'Retry later; if it persists, quote the request-id to Microsoft support.'
          : 'Check the request (query options, $select); quote the request-id if you report it.';
  return new GraphRequestError(`${statusText}${codeText}${where}${said}`, { ...base, nextStep });
}

function fromGraphError(error: GraphError, context: GraphErrorContext): Error {
  if (error.statusCode > 0) {
    // The SDK keeps the inner `error` object as JSON in body; rebuild the envelope around it.
    let body: unknown = undefined;
    if (typeof error.body === 'string') {
      try {
        const parsed = JSON.parse(error.body) as unknown;
        body =
          typeof parsed === 'object' && parsed !== null && 'error' in parsed ? parsed : { error: parsed };
      } catch {
        body = error.body;
      }
    }
    if (body === undefined && error.code !== null) {
      body = {
        error: {
          code: error.code,
          message: error.message,
          innerError: { 'request-id': error.requestId ?? undefined },
        },
      };
    }
    return mapHttpFailure(graphHttpFailure(error.statusCode, error.headers, body), context, error);
  }
  // statusCode -1: the SDK wrapped something thrown before any response; only its name and text survive.
  if (error.code !== null && IDENTITY_ERROR_NAMES.has(error.code)) {
    return fromIdentity(aadstsCodes(error.message), [error.message], context, error) ?? error;
  }
  return error;
}

/**
 * THE mapping from whatever reading Graph threw to the typed errors above. Handles @azure/identity's
 * errors (AuthenticationError and the AuthenticationRequiredError it uses for sign-in failures), the
 * Graph SDK's GraphError and GraphClientError, and raw non-2xx responses. Anything else (network and
 * TLS failures, bugs) is returned unchanged, so that the caller rethrows it and the invocation fails
 * and retries where it is seen.
 */
export function mapGraphError(error: unknown, context: GraphErrorContext = {}): Error {
  if (error instanceof EntraSyncError) return error;
  if (isGraphHttpFailure(error)) return mapHttpFailure(error, context, undefined);
  if (error instanceof GraphClientError) {
    // Our middleware wraps what it throws so that the SDK passes it through unchanged.
    const inner: unknown = (error as { customError?: unknown }).customError;
    return inner === undefined ? error : mapGraphError(inner, context);
  }
  if (error instanceof GraphError) return fromGraphError(error, context);
  if (error instanceof Error) {
    if (IDENTITY_ERROR_NAMES.has(error.name)) return mapIdentityError(error, context);
    return error;
  }
  return new Error(`Non-error value thrown while reading Graph: ${redact(String(error))}`);
}
