import {
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from '@azure/identity';
import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { EntraSyncError, NotFoundError, SettingsError } from '../../shared/errors.js';
import { expectInstance } from './helpers/expect.js';
import {
  ConsentMissingError,
  CredentialsInvalidError,
  DeltaStateLostError,
  GraphNotFoundError,
  GraphRequestError,
  graphHttpFailure,
  mapGraphError,
  parseRetryAfterMs,
  redact,
  TenantSettingsError,
  ThrottledError,
  type GraphErrorContext,
} from '../../shared/graph/index.js';

const context: GraphErrorContext = {
  tenantId: 'tenant-a',
  clientId: 'app-1',
  credentialKind: 'secret',
  credentialReference: 'kv:contoso-graph-secret',
  authorityHost: 'https://login.microsoftonline.us',
};

function oauth(code: number, error: string, description: string): AuthenticationError {
  return new AuthenticationError(400, {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-01-01 00:00:00Z`,
    error_codes: [code],
  });
}

/** The shape @azure/identity 4 throws for sign-in failures from MSAL (seen against a local login). */
function msalStyle(code: number, error: string, description: string): AuthenticationRequiredError {
  return new AuthenticationRequiredError({
    scopes: ['https://graph.microsoft.com/.default'],
    message: `${error}: Error(s): ${code} - Timestamp: 2024-01-01 - Description: AADSTS${code}: ${description} Trace ID: t Correlation ID: c - Correlation ID: c - Trace ID: t`,
  });
}

describe('identity failures', () => {
  it.each([
    [7000215, 'secret_invalid'],
    [70002, 'secret_invalid'],
    [7000222, 'secret_expired'],
    [700027, 'certificate_rejected'],
    [700030, 'certificate_rejected'],
    [50012, 'certificate_rejected'],
    [7000218, 'credential_missing'],
  ] as const)('AADSTS%i -> CredentialsInvalidError (%s), from both error shapes', (code, problem) => {
    for (const error of [
      oauth(code, 'invalid_client', 'Something.'),
      msalStyle(code, 'invalid_client', 'Something.'),
    ]) {
      const mapped = mapGraphError(error, context);
      expect(mapped).toBeInstanceOf(CredentialsInvalidError);
      expect(mapped).toMatchObject({
        code: 'credentials_invalid',
        problem,
        aadsts: code,
        credentialReference: 'kv:contoso-graph-secret',
      });
      const typed = expectInstance(mapped, CredentialsInvalidError);
      expect(typed.nextStep).toContain('"kv:contoso-graph-secret"');
      expect(typed.cause).toBe(error);
    }
  });

  it('names the certificate (not a secret) when the credential is a certificate', () => {
    const mapped = mapGraphError(
      oauth(700027, 'invalid_client', 'Client assertion failed signature validation.'),
      {
        ...context,
        credentialKind: 'certificate',
        credentialReference: 'kv:contoso-graph-cert',
      },
    );
    expect(expectInstance(mapped, EntraSyncError).nextStep).toMatch(
      /certificate referenced by "kv:contoso-graph-cert"/,
    );
  });

  it.each([
    [65001, 'not_consented'],
    [90094, 'not_consented'],
    [650056, 'not_consented'],
    [700016, 'app_not_in_tenant'],
    [500011, 'app_not_in_tenant'],
    [7000112, 'app_disabled'],
  ] as const)('AADSTS%i -> ConsentMissingError (%s)', (code, problem) => {
    const mapped = mapGraphError(msalStyle(code, 'unauthorized_client', 'Consent problem.'), context);
    expect(mapped).toBeInstanceOf(ConsentMissingError);
    expect(mapped).toMatchObject({
      code: 'consent_missing',
      problem,
      aadsts: code,
      tenantId: 'tenant-a',
      clientId: 'app-1',
    });
    const consent = expectInstance(mapped, ConsentMissingError);
    expect(consent.adminConsentUrl).toBe(
      'https://login.microsoftonline.us/tenant-a/adminconsent?client_id=app-1',
    );
    if (problem !== 'app_disabled')
      expect(consent.nextStep).toMatch(/admin consent.*User\.Read\.All, GroupMember\.Read\.All/);
  });

  it.each([
    [90002, 'tenant_not_found'],
    [900023, 'tenant_not_found'],
    [90038, 'wrong_cloud'],
  ] as const)('AADSTS%i -> TenantSettingsError (%s), a SettingsError', (code, problem) => {
    const mapped = mapGraphError(oauth(code, 'invalid_request', 'Tenant problem.'), context);
    expect(mapped).toBeInstanceOf(TenantSettingsError);
    expect(mapped).toBeInstanceOf(SettingsError);
    expect(mapped).toMatchObject({ code: 'settings_invalid', problem, tenantId: 'tenant-a' });
  });

  it('keeps the AADSTS description but drops trace ids and anything token-like', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const error = oauth(7000215, 'invalid_client', `Invalid client secret provided. Bearer ${token}`);
    const mapped = expectInstance(mapGraphError(error, context), EntraSyncError);
    expect(mapped.message).toContain('AADSTS7000215: Invalid client secret provided');
    expect(mapped.message).not.toContain('Trace ID');
    expect(JSON.stringify({ m: mapped.message, n: mapped.nextStep })).not.toContain(token);
  });

  it('passes unknown sign-in failures through unchanged (they are unexpected: rethrown, retried)', () => {
    const unknown = msalStyle(50033, 'temporarily_unavailable', 'RetryableError.');
    expect(mapGraphError(unknown, context)).toBe(unknown);
    const unavailable = new CredentialUnavailableError('endpoints_resolution_error');
    expect(mapGraphError(unavailable, context)).toBe(unavailable);
  });

  it('unwraps what our middleware wrapped for the SDK', () => {
    const wrapped = new GraphClientError('Getting a token failed');
    wrapped.customError = oauth(7000222, 'invalid_client', 'Expired.');
    expect(mapGraphError(wrapped, context)).toMatchObject({ problem: 'secret_expired' });
    const network = new TypeError('fetch failed');
    const wrappedNetwork = new GraphClientError('failed');
    wrappedNetwork.customError = network;
    expect(mapGraphError(wrappedNetwork, context)).toBe(network);
  });

  it('reads the identity error names the SDK keeps when it wraps them itself', () => {
    const sdkWrapped = new GraphError(
      -1,
      'invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided.',
    );
    sdkWrapped.code = 'AuthenticationRequiredError';
    expect(mapGraphError(sdkWrapped, context)).toMatchObject({
      code: 'credentials_invalid',
      problem: 'secret_invalid',
    });
  });
});

describe('Graph responses', () => {
  const envelope = (code: string, message = 'm', requestId = 'rid') => ({
    error: { code, message, innerError: { 'request-id': requestId, date: '2024-01-01T00:00:00' } },
  });

  it('410 Gone -> reset with the Location, whatever the body', () => {
    for (const body of [undefined, '', envelope('resyncRequired'), envelope('somethingElse')]) {
      const mapped = mapGraphError(
        graphHttpFailure(
          410,
          { Location: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=' },
          body,
        ),
      );
      expect(mapped).toBeInstanceOf(DeltaStateLostError);
      expect(mapped).toMatchObject({
        kind: 'reset',
        status: 410,
        location: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=',
      });
    }
  });

  it('syncStateNotFound (any 4xx, any casing) -> expired; resyncRequired -> reset', () => {
    expect(mapGraphError(graphHttpFailure(400, {}, envelope('syncStateNotFound')))).toMatchObject({
      kind: 'expired',
      status: 400,
    });
    expect(mapGraphError(graphHttpFailure(410, {}, envelope('SyncStateNotFound')))).toMatchObject({
      kind: 'expired',
    });
    expect(mapGraphError(graphHttpFailure(400, {}, envelope('resyncRequired')))).toMatchObject({
      kind: 'reset',
      location: undefined,
    });
    expect(
      expectInstance(mapGraphError(graphHttpFailure(400, {}, envelope('syncStateNotFound'))), EntraSyncError)
        .nextStep,
    ).toMatch(/full read/);
  });

  it('429/503/504 -> ThrottledError saying when, from Retry-After seconds or date, else the fallback', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    const at = (headers: Record<string, string>, status = 429, extra: Partial<GraphErrorContext> = {}) =>
      expectInstance(
        mapGraphError(graphHttpFailure(status, headers, envelope('TooManyRequests')), {
          now: () => now,
          ...extra,
        }),
        ThrottledError,
      );
    expect(at({ 'Retry-After': '2.128' })).toMatchObject({
      retryAfterSeconds: 2.128,
      retryAfterFromServer: true,
    });
    expect(at({ 'retry-after': 'Wed, 01 May 2024 12:00:30 GMT' }, 503).retryAfterSeconds).toBe(30);
    const fallback = at({}, 504, { fallbackRetryAfterMs: 8000, retryStop: 'max_retries' });
    expect(fallback).toMatchObject({
      retryAfterSeconds: 8,
      retryAfterFromServer: false,
      stopReason: 'max_retries',
      status: 504,
    });
    expect(fallback.retryAt.toISOString()).toBe('2024-05-01T12:00:08.000Z');
    expect(fallback.nextStep).toContain('2024-05-01T12:00:08.000Z');
    expect(at({}, 429)).toBeInstanceOf(ThrottledError);
  });

  it('404 -> GraphNotFoundError (a NotFoundError)', () => {
    const mapped = mapGraphError(
      graphHttpFailure(404, {}, envelope('Request_ResourceNotFound', 'gone', 'r1')),
    );
    expect(mapped).toBeInstanceOf(GraphNotFoundError);
    expect(mapped).toBeInstanceOf(NotFoundError);
    expect(mapped).toMatchObject({
      code: 'not_found',
      graphCode: 'Request_ResourceNotFound',
      requestId: 'r1',
    });
  });

  it('403 -> ConsentMissingError (insufficient privileges), with the request-id', () => {
    const mapped = mapGraphError(
      graphHttpFailure(403, {}, envelope('Authorization_RequestDenied', 'Insufficient privileges', 'r2')),
      context,
    );
    expect(mapped).toMatchObject({
      code: 'consent_missing',
      problem: 'insufficient_privileges',
      status: 403,
      requestId: 'r2',
    });
  });

  it('others -> GraphRequestError with status, code and request-id (from the body, else the header)', () => {
    const a = mapGraphError(
      graphHttpFailure(400, { 'request-id': 'hdr' }, envelope('Request_BadRequest', 'bad', 'body-rid')),
    );
    expect(a).toMatchObject({
      code: 'graph_error',
      status: 400,
      graphCode: 'Request_BadRequest',
      requestId: 'body-rid',
      transient: false,
    });
    const b = mapGraphError(graphHttpFailure(500, { 'request-id': 'hdr' }, 'upstream said no'));
    expect(b).toMatchObject({ status: 500, graphCode: undefined, requestId: 'hdr', transient: true });
    const c = mapGraphError(graphHttpFailure(401, {}, envelope('InvalidAuthenticationToken')));
    expect(expectInstance(c, EntraSyncError).nextStep).toMatch(/cloud/);
  });

  it("maps the SDK's GraphError the same way", () => {
    const error = new GraphError(410, 'gone');
    error.code = 'resyncRequired';
    error.body = JSON.stringify({
      code: 'resyncRequired',
      message: 'gone',
      innerError: { 'request-id': 'r3' },
    });
    error.headers = new Headers({ location: 'https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=' });
    expect(mapGraphError(error)).toMatchObject({
      kind: 'reset',
      requestId: 'r3',
      location: 'https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=',
    });
    const throttled = new GraphError(429, 'slow');
    throttled.code = 'TooManyRequests';
    throttled.headers = new Headers({ 'retry-after': '3' });
    expect(mapGraphError(throttled)).toMatchObject({ code: 'throttled', retryAfterSeconds: 3 });
  });

  it('returns our own errors and unexpected errors unchanged', () => {
    const ours = new GraphRequestError('x');
    expect(mapGraphError(ours)).toBe(ours);
    const bug = new RangeError('bug');
    expect(mapGraphError(bug)).toBe(bug);
    expect(mapGraphError('text')).toBeInstanceOf(Error);
  });

  it('never echoes secrets a server put in its message', () => {
    const mapped = mapGraphError(
      graphHttpFailure(
        400,
        {},
        envelope('Request_BadRequest', 'bad client_secret=abc123xyz and access_token=eyJabcd.eyJefgh.sig'),
      ),
    );
    expect(mapped.message).not.toContain('abc123xyz');
    expect(mapped.message).not.toContain('eyJabcd.eyJefgh.sig');
  });
});

describe('helpers', () => {
  it('parses Retry-After: fractional seconds, integers, dates; nothing for garbage', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(parseRetryAfterMs('2.128', now)).toBe(2128);
    expect(parseRetryAfterMs(' 10 ', now)).toBe(10_000);
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs('Wed, 01 May 2024 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfterMs('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });

  it('redacts tokens, secrets and private keys', () => {
    const text =
      'Bearer abc.def.ghi client_secret=s3cr3t&x=1 {"access_token":"tok"} eyJhbGciOi.eyJzdWIi.sig ' +
      '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
    const out = redact(text);
    for (const secret of ['abc.def.ghi', 's3cr3t', '"tok"', 'eyJhbGciOi.eyJzdWIi.sig', 'MIIE'])
      expect(out).not.toContain(secret);
    expect(out).toContain('x=1');
  });
});
