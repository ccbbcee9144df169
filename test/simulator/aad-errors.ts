import { randomUUID } from 'node:crypto';
import { escapeHtml, jsonResponse, type SimRequest, type SimResponse } from './http-types.js';

/**
 * The three shapes in which the Microsoft identity platform reports an error: JSON from the token
 * endpoint, an HTML page when it cannot trust the redirect URI, and parameters on the redirect URI once
 * it can. Every one carries an AADSTS code and text as Entra words them.
 */

export interface AadFailure {
  readonly error: string;
  readonly code: number;
  readonly text: string;
  /** 400 unless the failure is about the client's credentials (401). */
  readonly status?: number;
}

export function aadTimestamp(now = new Date()): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function errorUri(authorityHost: string, code: number): string {
  return `${authorityHost}/error?code=${code}`;
}

/** The JSON error Entra's token endpoint answers with. */
export function aadError(
  req: SimRequest,
  authorityHost: string,
  failure: AadFailure,
  headers: Record<string, string> = {},
): SimResponse {
  const traceId = randomUUID();
  const correlationId = req.clientRequestId ?? randomUUID();
  const timestamp = aadTimestamp();
  return jsonResponse(
    failure.status ?? 400,
    {
      error: failure.error,
      error_description: `AADSTS${failure.code}: ${failure.text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [failure.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: errorUri(authorityHost, failure.code),
    },
    headers,
  );
}

/** The HTML error page a browser sees on the sign-in and consent pages. */
export function aadErrorPage(code: number, text: string): SimResponse {
  const message = `AADSTS${code}: ${text}`;
  return {
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body:
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head><body><main>` +
      `<h1>Sorry, but we’re having trouble signing you in.</h1><p id="error">${escapeHtml(message)}</p>` +
      `<p>Error code: AADSTS${code}</p></main></body></html>`,
  };
}

/** The parameters an error is reported with on a redirect URI (authorization endpoint). */
export function aadRedirectError(authorityHost: string, failure: AadFailure): Record<string, string> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${aadTimestamp()}`,
    error_uri: errorUri(authorityHost, failure.code),
  };
}

export function missingParameter(name: string): AadFailure {
  return {
    error: 'invalid_request',
    code: 900144,
    text: `The request body must contain the following parameter: '${name}'.`,
  };
}

export function tenantNotFound(segment: string): string {
  return `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}

export function appNotFound(clientId: string, directory: string): string {
  return `Application with identifier '${clientId}' was not found in the directory '${directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`;
}

export function redirectMismatch(redirectUri: string, clientId: string): string {
  return `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`;
}
