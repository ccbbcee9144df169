import { EntraSyncError, type EntraSyncErrorOptions } from '../errors.js';

/**
 * The admin API's authentication failures. 401 means "we do not know who you are" (no token, or one we
 * cannot trust); 403 means "we know who you are, and you may not". Messages say what was wrong with the
 * token, never the token itself.
 */

export type UnauthorizedReason =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'tenant';

export class UnauthorizedError extends EntraSyncError {
  readonly reason: UnauthorizedReason;

  constructor(message: string, options: EntraSyncErrorOptions & { reason: UnauthorizedReason }) {
    super('unauthorized', message, options);
    this.reason = options.reason;
  }

  /**
   * The WWW-Authenticate value a 401 response carries (RFC 6750 section 3): no error code when no
   * token was sent, invalid_token otherwise.
   */
  get challenge(): string {
    if (this.reason === 'missing') return 'Bearer';
    const description = this.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, ' ');
    return `Bearer error="invalid_token", error_description="${description}"`;
  }
}

export class ForbiddenError extends EntraSyncError {
  /** The app role the request needed. */
  readonly requiredRole: string;

  constructor(message: string, options: EntraSyncErrorOptions & { requiredRole: string }) {
    super('forbidden', message, options);
    this.requiredRole = options.requiredRole;
  }
}
