/**
 * The one family of typed errors. Each carries a stable `code` (for HTTP bodies, run reports and exit
 * codes) and `nextStep`: what the person reading it should do. Map them to responses and outcomes in
 * one place; anything that is not an EntraSyncError is unexpected and is rethrown so that the
 * invocation fails, retries and is finally seen in the poison queue.
 */
export type ErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'conflict'
  | 'consent_missing'
  | 'credentials_invalid'
  | 'throttled'
  | 'delta_state_lost'
  | 'graph_error'
  | 'settings_invalid'
  | 'unauthorized'
  | 'forbidden';

export interface EntraSyncErrorOptions {
  nextStep?: string;
  details?: unknown;
  cause?: unknown;
}

export class EntraSyncError extends Error {
  readonly code: ErrorCode;
  readonly nextStep: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: EntraSyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.nextStep = options.nextStep;
    this.details = options.details;
  }
}

export class BadRequestError extends EntraSyncError {
  constructor(message: string, options: EntraSyncErrorOptions = {}) {
    super('bad_request', message, options);
  }
}

export class NotFoundError extends EntraSyncError {
  constructor(message: string, options: EntraSyncErrorOptions = {}) {
    super('not_found', message, options);
  }
}

export class ConflictError extends EntraSyncError {
  constructor(message: string, options: EntraSyncErrorOptions = {}) {
    super('conflict', message, options);
  }
}

export class SettingsError extends EntraSyncError {
  constructor(message: string, options: EntraSyncErrorOptions = {}) {
    super('settings_invalid', message, options);
  }
}

export function isEntraSyncError(error: unknown): error is EntraSyncError {
  return error instanceof EntraSyncError;
}
