import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { isEntraSyncError, type ErrorCode } from '../../shared/errors.js';
import { UnauthorizedError } from '../../shared/auth/errors.js';
import { ThrottledError } from '../../shared/graph/errors.js';

/**
 * Typed errors to HTTP answers, in one place. Anything else is unexpected and is rethrown, so that
 * the invocation fails and is seen (logs, alerts), rather than hidden behind a 400.
 */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  settings_invalid: 422,
  consent_missing: 424,
  credentials_invalid: 424,
  graph_error: 502,
  throttled: 503,
  delta_state_lost: 503,
};

/** An HTTP-only failure (body too large, wrong media type) with its own status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'cache-control': 'no-store', ...headers } };
}

export function errorBody(
  code: string,
  message: string,
  details?: unknown,
): { error: Record<string, unknown> } {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

export function errorResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof HttpError) return json(error.status, errorBody(error.code, error.message));
  if (!isEntraSyncError(error)) throw error;
  const status = STATUS[error.code];
  const headers: Record<string, string> = {};
  if (error instanceof ThrottledError) headers['retry-after'] = String(Math.ceil(error.retryAfterSeconds));
  if (error instanceof UnauthorizedError) headers['www-authenticate'] = error.challenge;
  if (status >= 500) context.warn(`${error.code}: ${error.message}`);
  const details =
    error.nextStep === undefined
      ? error.details
      : { nextStep: error.nextStep, ...(error.details === undefined ? {} : { info: error.details }) };
  return json(status, errorBody(error.code, error.message, details), headers);
}
