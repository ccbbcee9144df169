import { randomBytes, randomUUID } from 'node:crypto';

/**
 * What the interactive sign-in remembers between requests, in memory: authorization requests waiting
 * for someone to pick an account, issued authorization codes (single use), refresh tokens, and browser
 * sessions (the cookie that lets prompt=none and a second sign-in skip the account picker). Entries
 * expire; each map is bounded so a long-running dev server cannot grow without end.
 */

export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** The parameters of an /authorize request that a code is bound to. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  /** Every scope asked for, as sent (OIDC scopes included). */
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly clientInfo: boolean;
  /** Tenants whose users may answer: one, or every tenant for 'organizations' and 'common'. */
  readonly tenantIds: readonly string[];
}

export interface PendingSignIn {
  readonly request: AuthorizationRequest;
  readonly expiresAt: number;
}

export interface CodeGrant {
  readonly request: AuthorizationRequest;
  readonly tenantId: string;
  readonly userObjectId: string;
  readonly sessionId: string;
  readonly expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  readonly clientId: string;
  readonly tenantId: string;
  readonly userObjectId: string;
  readonly sessionId: string;
  /** Scopes of the sign-in, used when a refresh request names none. */
  readonly scopes: readonly string[];
  /** Issued to a single-page app: redeemable only cross-origin, and its lifetime cannot be extended. */
  readonly spa: boolean;
  readonly expiresAt: number;
}

export interface BrowserSession {
  readonly id: string;
  readonly tenantId: string;
  readonly userObjectId: string;
}

/** Sign-in requests and codes live 10 minutes, as Entra's authorization codes do (about). */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Entra gives SPA refresh tokens a fixed 24-hour lifetime. */
export const SPA_REFRESH_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
const MAX_ENTRIES = 10_000;

class ExpiringMap<T extends { readonly expiresAt: number }> {
  private readonly entries = new Map<string, T>();

  set(key: string, value: T): void {
    if (this.entries.size >= MAX_ENTRIES) this.prune();
    this.entries.set(key, value);
  }

  /** The entry, expired or not: an expired code answers differently from an unknown one. */
  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, value] of this.entries) if (value.expiresAt <= now) this.entries.delete(key);
    // Still full of live entries: drop the oldest half (Map keeps insertion order).
    let excess = this.entries.size - MAX_ENTRIES / 2;
    for (const key of this.entries.keys()) {
      if (excess-- <= 0) break;
      this.entries.delete(key);
    }
  }
}

function opaque(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export class LoginState {
  private readonly pending = new ExpiringMap<PendingSignIn>();
  private readonly codes = new ExpiringMap<CodeGrant>();
  private readonly refreshTokens = new ExpiringMap<RefreshGrant>();
  private readonly sessions = new Map<string, BrowserSession>();

  /** Keeps an authorization request until an account is picked; returns its handle for the form. */
  addPending(request: AuthorizationRequest): string {
    const id = opaque('', 24);
    this.pending.set(id, { request, expiresAt: Date.now() + AUTHORIZATION_CODE_LIFETIME_MS });
    return id;
  }

  /** The waiting request, once: a form posted twice does not sign in twice. */
  takePending(id: string): AuthorizationRequest | undefined {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    return entry && entry.expiresAt > Date.now() ? entry.request : undefined;
  }

  issueCode(request: AuthorizationRequest, session: BrowserSession): string {
    const code = opaque('sim.ac.', 48);
    this.codes.set(code, {
      request,
      tenantId: session.tenantId,
      userObjectId: session.userObjectId,
      sessionId: session.id,
      expiresAt: Date.now() + AUTHORIZATION_CODE_LIFETIME_MS,
      redeemed: false,
    });
    return code;
  }

  code(code: string): CodeGrant | undefined {
    return this.codes.get(code);
  }

  issueRefreshToken(grant: RefreshGrant): string {
    const token = opaque('sim.rt.', 48);
    this.refreshTokens.set(token, grant);
    return token;
  }

  refreshToken(token: string): RefreshGrant | undefined {
    return this.refreshTokens.get(token);
  }

  startSession(tenantId: string, userObjectId: string): BrowserSession {
    const session = { id: randomUUID(), tenantId, userObjectId };
    if (this.sessions.size >= MAX_ENTRIES) this.sessions.clear();
    this.sessions.set(session.id, session);
    return session;
  }

  session(id: string | undefined): BrowserSession | undefined {
    return id === undefined ? undefined : this.sessions.get(id);
  }

  endSession(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }
}
