import { createHash, randomUUID } from 'node:crypto';
import {
  SignJWT,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importX509,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { SimulatedApp } from './apps.js';

/**
 * Access tokens the simulator issues and Graph routes check, and client assertions it verifies. Tokens
 * have the shape of the app-only v1 tokens Entra issues for Graph: tid, appid (and azp), aud, roles,
 * idtyp 'app', signed RS256 with a key published at the tenant's jwks_uri. The tokens of signed-in users
 * (user-tokens.ts) are signed with the same key.
 */

/** The resource ids a Graph token may carry as its audience. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface AccessTokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly app_displayname: string;
  readonly appid: string;
  readonly appidacr: '1' | '2';
  readonly azp: string;
  readonly azpacr: '1' | '2';
  readonly idp: string;
  readonly idtyp: 'app';
  readonly oid: string;
  readonly roles: readonly string[];
  readonly sub: string;
  readonly tid: string;
  readonly uti: string;
  readonly ver: '1.0';
}

export interface IssueTokenRequest {
  readonly tenantId: string;
  readonly app: SimulatedApp;
  readonly roles: readonly string[];
  readonly audience: string;
  readonly credential: 'secret' | 'certificate';
  readonly lifetimeSeconds: number;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | { readonly ok: false; readonly reason: 'expired' | 'audience' | 'invalid' };

export type AssertionCheck =
  { readonly ok: true } | { readonly ok: false; readonly code: number; readonly description: string };

const VERIFIED_CACHE_SIZE = 512;

export class TokenService {
  private readonly keyId = randomUUID().replace(/-/g, '').slice(0, 27);
  private readonly verified = new Map<string, AccessTokenClaims>();

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  static async create(): Promise<TokenService> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    return new TokenService(privateKey, publicKey, await exportJWK(publicKey));
  }

  /** The JSON Web Key Set for jwks_uri. */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk, kid: this.keyId, use: 'sig', alg: 'RS256' }] };
  }

  /** Signs any claims as Entra signs its tokens: RS256 with the published key, kid and x5t in the header. */
  async sign(claims: JWTPayload): Promise<string> {
    return await new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keyId, x5t: this.keyId })
      .sign(this.privateKey);
  }

  async issue(request: IssueTokenRequest): Promise<{ accessToken: string; expiresIn: number }> {
    const now = Math.floor(Date.now() / 1000);
    const acr = request.credential === 'certificate' ? '2' : '1';
    // The service principal's object id: stable per (app, tenant), as in Entra.
    const oid = servicePrincipalId(request.app.clientId, request.tenantId);
    const issuer = `https://sts.windows.net/${request.tenantId}/`;
    const claims = {
      aud: request.audience,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + request.lifetimeSeconds,
      app_displayname: request.app.displayName,
      appid: request.app.clientId,
      appidacr: acr,
      azp: request.app.clientId,
      azpacr: acr,
      idp: issuer,
      idtyp: 'app',
      oid,
      roles: [...request.roles],
      sub: oid,
      tid: request.tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
    };
    return { accessToken: await this.sign(claims), expiresIn: request.lifetimeSeconds };
  }

  /** Checks a bearer token: signature, lifetime, and an audience Graph accepts. */
  async check(token: string, audiences: readonly string[]): Promise<TokenCheck> {
    const cached = this.verified.get(token);
    if (cached) {
      return cached.exp > Date.now() / 1000 ? { ok: true, claims: cached } : { ok: false, reason: 'expired' };
    }
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['RS256'],
        clockTolerance: 0,
      });
      // A user's token has no roles claim when no role is assigned; Graph reads that as none.
      const claims = {
        ...payload,
        roles: Array.isArray(payload.roles) ? payload.roles : [],
      } as unknown as AccessTokenClaims;
      if (!audiences.includes(claims.aud)) return { ok: false, reason: 'audience' };
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, claims);
      return { ok: true, claims };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid' };
    }
  }
}

function servicePrincipalId(clientId: string, tenantId: string): string {
  const h = createHash('sha256').update(`${clientId}:${tenantId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Verifies a client assertion (RFC 7523) against the app's registered certificates: the x5t or
 * x5t#S256 header picks the certificate, the signature must verify with its key, iss and sub must be
 * the client id, aud the token endpoint, and the lifetime current. Codes as Entra answers them.
 */
export async function verifyClientAssertion(
  assertion: string,
  app: SimulatedApp,
  audiences: readonly string[],
): Promise<AssertionCheck> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return { ok: false, code: 50027, description: 'JWT token is invalid or malformed.' };
  }
  const certificate = app.findCertificate(header);
  if (!certificate) {
    const used =
      typeof header.x5t === 'string'
        ? Buffer.from(header.x5t, 'base64url').toString('hex').toUpperCase()
        : 'none';
    return {
      ok: false,
      code: 700027,
      description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`,
    };
  }
  const alg = header.alg === 'PS256' ? 'PS256' : header.alg === 'RS256' ? 'RS256' : undefined;
  if (!alg)
    return {
      ok: false,
      code: 5002738,
      description: `The client assertion algorithm '${String(header.alg)}' is not supported.`,
    };
  try {
    const key = await importX509(certificate.pem, alg);
    // Entra tolerates clock skew; MSAL rounds iat/nbf to the nearest second, so nbf may be just ahead.
    const { payload } = await jwtVerify(assertion, key, { algorithms: [alg], clockTolerance: 300 });
    if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
      return {
        ok: false,
        code: 700021,
        description: "Client assertion application identifier doesn't match 'client_id' parameter.",
      };
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) {
      return {
        ok: false,
        code: 700027,
        description:
          'Client assertion failed signature validation. [Reason - The audience claim does not match the token endpoint.]',
      };
    }
    return { ok: true };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      return { ok: false, code: 700024, description: 'Client assertion is not within its valid time range.' };
    }
    return { ok: false, code: 700027, description: 'Client assertion failed signature validation.' };
  }
}
