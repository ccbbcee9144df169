import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { z } from 'zod';
import { SettingsError } from '../errors.js';
import type { Settings } from '../settings.js';
import { ForbiddenError, UnauthorizedError, type UnauthorizedReason } from './errors.js';

/**
 * Checks the bearer tokens of the admin API: Microsoft Entra ID access tokens issued by the admin
 * tenant for the EntraSync API, carrying the EntraSync.Admin app role.
 *
 * What is checked, in order: an Authorization header with a Bearer JWT; RS256; the signature against
 * the tenant's signing keys (jwks_uri from the tenant's OpenID metadata); exp and nbf with a small clock
 * tolerance; the issuer that matches the token's version (v2.0: the metadata's issuer; v1.0:
 * https://sts.windows.net/<tenant>/); tid; the audience; the role. Entra signs the tokens of every
 * tenant with the same keys, so the signature alone proves nothing about the tenant: the issuer and tid
 * checks are what keep other tenants out.
 * https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 */

export const ADMIN_ROLE = 'EntraSync.Admin';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Seconds of clock difference tolerated on exp and nbf. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;

export type TokenVersion = '1.0' | '2.0';

export interface AdminAuthOptions {
  /** The admin tenant's id (a GUID): the only tenant whose tokens are accepted. */
  readonly tenantId: string;
  /**
   * The EntraSync API's Application ID URI or client id. `api://<client id>` and `<client id>` are the
   * same app: either form accepts both (v1.0 tokens carry the URI, v2.0 tokens the client id). Give a
   * list for a custom Application ID URI and the client id.
   */
  readonly audience: string | readonly string[];
  /** The login authority; default the global cloud. */
  readonly authorityHost?: string;
  readonly requiredRole?: string;
  /** PEM of a CA to trust for the metadata and key requests: a local test authority only. */
  readonly ca?: string;
  readonly clockToleranceSeconds?: number;
  /** Token versions accepted; default both (an app registration issues v1.0 unless its manifest says 2). */
  readonly tokenVersions?: readonly TokenVersion[];
  /** Test hook: the time tokens are checked at. */
  readonly now?: () => Date;
}

export interface AdminPrincipal {
  readonly kind: 'user' | 'application';
  /** The user's (or service principal's) object id in the admin tenant. */
  readonly objectId: string;
  readonly tenantId: string;
  readonly name: string | null;
  /** preferred_username (v2.0) or upn / unique_name (v1.0), for users. */
  readonly username: string | null;
  /** The client application the token was issued to (azp or appid). */
  readonly appId: string | null;
  readonly roles: readonly string[];
  readonly tokenVersion: TokenVersion;
  readonly expiresAt: Date;
}

export interface AdminAuthenticator {
  /** The caller for an Authorization header value; throws UnauthorizedError (401) or ForbiddenError (403). */
  authenticate(authorizationHeader: string | null | undefined): Promise<AdminPrincipal>;
  /** Releases the connection pool kept for a custom CA. */
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Entra access tokens are a few kilobytes; anything far larger is not one. */
const MAX_TOKEN_LENGTH = 16_384;

/** v1.0 tokens name the security token service, not the login host (learn.microsoft.com access-tokens, national clouds). */
const V1_ISSUER_HOSTS: Readonly<Record<string, string>> = {
  'login.chinacloudapi.cn': 'https://sts.chinacloudapi.cn',
  'login.partner.microsoftonline.cn': 'https://sts.chinacloudapi.cn',
};
/** The global cloud and US Government issue v1.0 tokens as sts.windows.net; so does any custom host. */
const DEFAULT_V1_ISSUER_HOST = 'https://sts.windows.net';

const metadataSchema = z.object({
  issuer: z.url({ protocol: /^https$/ }),
  jwks_uri: z.url({ protocol: /^https$/ }),
});

function unauthorized(reason: UnauthorizedReason, message: string, cause?: unknown): UnauthorizedError {
  const nextStep =
    reason === 'missing' || reason === 'malformed'
      ? 'Send "Authorization: Bearer <access token>" with a token for the EntraSync API from the admin tenant.'
      : reason === 'expired' || reason === 'not_yet_valid'
        ? "Get a new token (and check the caller's clock)."
        : 'Get a token from the admin tenant for the EntraSync API (scope "<Application ID URI>/.default" or the API\'s scope).';
  return new UnauthorizedError(message, { reason, nextStep, ...(cause === undefined ? {} : { cause }) });
}

/** A claim value fit to quote in an error: short, printable, and clearly not a token. */
function quote(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? '(none)' : `(${typeof value})`;
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return `"${printable.length > 120 ? `${printable.slice(0, 120)}...` : printable}"`;
}

function normaliseAudience(value: string): string {
  const trimmed = value.trim();
  if (GUID.test(trimmed)) return trimmed.toLowerCase();
  const uri = /^api:\/\/([0-9a-f-]{36})$/i.exec(trimmed);
  if (uri?.[1] && GUID.test(uri[1])) return `api://${uri[1].toLowerCase()}`;
  return trimmed;
}

/** The configured audiences, with `api://<guid>` and `<guid>` standing for each other. */
export function acceptedAudiences(audience: string | readonly string[]): Set<string> {
  const accepted = new Set<string>();
  for (const value of typeof audience === 'string' ? [audience] : audience) {
    const normal = normaliseAudience(value);
    if (normal === '') continue;
    accepted.add(normal);
    if (GUID.test(normal)) accepted.add(`api://${normal}`);
    else if (normal.startsWith('api://') && GUID.test(normal.slice(6))) accepted.add(normal.slice(6));
  }
  return accepted;
}

export function v1Issuer(authorityHost: string, tenantId: string): string {
  const host = new URL(authorityHost).hostname.toLowerCase();
  return `${V1_ISSUER_HOSTS[host] ?? DEFAULT_V1_ISSUER_HOST}/${tenantId}/`;
}

function bearerToken(header: string | null | undefined): string {
  if (header === null || header === undefined || header.trim() === '') {
    throw unauthorized('missing', 'No bearer token: the request has no Authorization header.');
  }
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header.trim());
  if (!match?.[1]) {
    throw unauthorized('malformed', 'The Authorization header is not of the form "Bearer <token>".');
  }
  const token = match[1];
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
    throw unauthorized('malformed', 'The bearer token is not a JSON Web Token.');
  }
  return token;
}

function claimString(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Maps what jose throws for a token to a 401; anything else (keys not loadable) is not the caller's fault. */
function fromJose(error: unknown, header: ProtectedHeaderParameters): Error {
  if (error instanceof joseErrors.JWTExpired) {
    return unauthorized('expired', 'The token has expired.', error);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf')
      return unauthorized('not_yet_valid', 'The token is not valid yet (nbf).', error);
    return unauthorized('malformed', `The token's ${error.claim} claim is missing or invalid.`, error);
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    // Graph's own tokens carry a nonce in their header and cannot be verified by anyone but Graph.
    const hint =
      'nonce' in header
        ? ' It looks like a token for Microsoft Graph; request one for the EntraSync API instead.'
        : '';
    return unauthorized(
      'signature',
      `The token's signature does not verify against the signing keys of the admin tenant.${hint}`,
      error,
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return unauthorized('algorithm', 'The token is not signed with RS256.', error);
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return unauthorized('malformed', 'The bearer token is not a valid signed JSON Web Token.', error);
  }
  return new Error('Could not load the signing keys of the admin tenant to check a token.', { cause: error });
}

interface Transport {
  readonly fetch: FetchImplementation;
  close(): Promise<void>;
}

async function createTransport(ca: string | undefined): Promise<Transport> {
  if (ca === undefined) {
    return {
      fetch: async (url, init) => await fetch(url, init),
      close: async () => {},
    };
  }
  // Only with a CA (a local test authority): an undici Agent trusting it, as the global fetch's
  // dispatcher (Node 20 and 22 accept an undici 7 Agent there). undici is a development dependency,
  // never loaded in production, where no CA is passed.
  const undici = await import('undici');
  const agent = new undici.Agent({ connect: { ca } });
  return {
    // The cast is for the types only: @types/node describes dispatcher with its own copy of undici's types.
    fetch: async (url, init) => await fetch(url, { ...init, dispatcher: agent } as unknown as RequestInit),
    close: async () => {
      await agent.destroy();
    },
  };
}

interface Metadata {
  readonly v2Issuer: string;
  readonly keys: ReturnType<typeof createRemoteJWKSet>;
}

export function createAdminAuthenticator(options: AdminAuthOptions): AdminAuthenticator {
  const tenantId = options.tenantId.trim().toLowerCase();
  if (!GUID.test(tenantId)) {
    throw new SettingsError(`The admin tenant id "${options.tenantId}" is not a GUID.`, {
      nextStep: 'Set ADMIN_TENANT_ID to the tenant id (Entra admin center, Overview), not a domain name.',
    });
  }
  const audiences = acceptedAudiences(options.audience);
  if (audiences.size === 0) {
    throw new SettingsError('The admin API audience is empty.', {
      nextStep: 'Set ADMIN_API_AUDIENCE to the Application ID URI (or client id) of the EntraSync app.',
    });
  }
  const authorityHost = (options.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  const requiredRole = options.requiredRole ?? ADMIN_ROLE;
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const versions = new Set<TokenVersion>(options.tokenVersions ?? ['1.0', '2.0']);
  const now = options.now ?? (() => new Date());
  const expectedV1Issuer = v1Issuer(authorityHost, tenantId);
  const metadataUrl = `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`;

  let transport: Promise<Transport> | undefined;
  let metadata: Promise<Metadata> | undefined;

  const loadMetadata = async (): Promise<Metadata> => {
    transport ??= createTransport(options.ca);
    const { fetch: get } = await transport;
    let response: Response;
    try {
      response = await get(metadataUrl, {
        method: 'GET',
        headers: new Headers({ accept: 'application/json' }),
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new Error(`Could not reach the admin tenant's OpenID metadata at ${metadataUrl}.`, {
        cause: error,
      });
    }
    if (response.status === 400 || response.status === 404) {
      throw new SettingsError(
        `The authority ${authorityHost} does not know the admin tenant ${tenantId} (${response.status}).`,
        { nextStep: 'Check ADMIN_TENANT_ID and ADMIN_AUTHORITY_HOST (the cloud the admins sign in to).' },
      );
    }
    if (response.status !== 200) {
      throw new Error(`The admin tenant's OpenID metadata at ${metadataUrl} answered ${response.status}.`);
    }
    const parsed = metadataSchema.safeParse(await response.json());
    if (!parsed.success) {
      throw new Error(`The OpenID metadata at ${metadataUrl} has no https issuer and jwks_uri.`);
    }
    const issuerTenant = new URL(parsed.data.issuer).pathname.split('/')[1]?.toLowerCase();
    if (issuerTenant !== tenantId) {
      throw new SettingsError(
        `The OpenID metadata at ${metadataUrl} names issuer ${parsed.data.issuer}, not tenant ${tenantId}.`,
        { nextStep: 'Check ADMIN_TENANT_ID and ADMIN_AUTHORITY_HOST.' },
      );
    }
    // jose caches the keys (10 minutes) and fetches again, at most every 30 s, for an unknown kid:
    // how Entra's key rollover reaches us.
    const keys = createRemoteJWKSet(new URL(parsed.data.jwks_uri), {
      [customFetch]: (await transport).fetch,
      timeoutDuration: 10_000,
    });
    return { v2Issuer: parsed.data.issuer, keys };
  };

  const getMetadata = async (): Promise<Metadata> => {
    const current = (metadata ??= loadMetadata());
    try {
      return await current;
    } catch (error) {
      // A failed discovery is not cached: the next request tries again.
      if (metadata === current) metadata = undefined;
      throw error;
    }
  };

  return {
    async authenticate(authorizationHeader) {
      const token = bearerToken(authorizationHeader);
      let header: ProtectedHeaderParameters;
      try {
        header = decodeProtectedHeader(token);
      } catch (error) {
        throw unauthorized('malformed', 'The bearer token is not a valid signed JSON Web Token.', error);
      }
      if (header.alg !== 'RS256') {
        throw unauthorized('algorithm', `The token is signed with ${quote(header.alg)}, not RS256.`);
      }
      const { v2Issuer, keys } = await getMetadata();

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          clockTolerance: tolerance,
          currentDate: now(),
          requiredClaims: ['iss', 'aud', 'exp', 'tid'],
        }));
      } catch (error) {
        throw fromJose(error, header);
      }

      const version = payload.ver === '1.0' || payload.ver === '2.0' ? payload.ver : undefined;
      if (version === undefined || !versions.has(version)) {
        throw unauthorized(
          'issuer',
          `The token's version ${quote(payload.ver)} is not accepted (accepted: ${[...versions].join(', ')}).`,
        );
      }
      const expectedIssuer = version === '2.0' ? v2Issuer : expectedV1Issuer;
      if (payload.iss !== expectedIssuer) {
        throw unauthorized(
          'issuer',
          `The token was issued by ${quote(payload.iss)}, not by the admin tenant (expected "${expectedIssuer}").`,
        );
      }
      if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== tenantId) {
        throw unauthorized(
          'tenant',
          `The token belongs to tenant ${quote(payload.tid)}, not the admin tenant.`,
        );
      }
      const tokenAudiences = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter(
        (value): value is string => typeof value === 'string',
      );
      if (!tokenAudiences.some((value) => audiences.has(normaliseAudience(value)))) {
        throw unauthorized(
          'audience',
          `The token is for ${quote(tokenAudiences[0])}, not for the EntraSync API (expected ${[...audiences].map((a) => `"${a}"`).join(' or ')}).`,
        );
      }
      const objectId = claimString(payload, 'oid');
      if (objectId === null) {
        throw unauthorized('malformed', 'The token has no oid claim.');
      }

      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((role): role is string => typeof role === 'string')
        : [];
      const username =
        claimString(payload, 'preferred_username') ??
        claimString(payload, 'upn') ??
        claimString(payload, 'unique_name');
      const idtyp = claimString(payload, 'idtyp');
      const kind: AdminPrincipal['kind'] =
        idtyp === 'app'
          ? 'application'
          : idtyp === 'user' || claimString(payload, 'scp') !== null || username !== null
            ? 'user'
            : 'application';
      const who = username ?? `${kind} ${objectId}`;
      if (!roles.includes(requiredRole)) {
        throw new ForbiddenError(`${who} does not have the ${requiredRole} app role.`, {
          requiredRole,
          nextStep:
            `In the admin tenant, open Enterprise applications > EntraSync > Users and groups and assign ` +
            `the ${requiredRole} app role to ${who} (or a group it belongs to), then sign in again for a new token.`,
        });
      }
      return {
        kind,
        objectId,
        tenantId,
        name: claimString(payload, 'name'),
        username,
        appId: claimString(payload, 'azp') ?? claimString(payload, 'appid'),
        roles,
        tokenVersion: version,
        expiresAt: new Date((payload.exp ?? 0) * 1000),
      };
    },

    async close() {
      const pending = transport;
      transport = undefined;
      metadata = undefined;
      if (pending) await (await pending).close();
    },
  };
}

/** The authenticator the app's settings describe; names the missing setting when one is. */
export function createAdminAuthenticatorFromSettings(
  settings: Pick<Settings, 'ADMIN_TENANT_ID' | 'ADMIN_API_AUDIENCE' | 'ADMIN_AUTHORITY_HOST'>,
  options: Omit<Partial<AdminAuthOptions>, 'tenantId' | 'audience' | 'authorityHost'> = {},
): AdminAuthenticator {
  const missing = [
    settings.ADMIN_TENANT_ID ? undefined : 'ADMIN_TENANT_ID',
    settings.ADMIN_API_AUDIENCE ? undefined : 'ADMIN_API_AUDIENCE',
  ].filter((name): name is string => name !== undefined);
  if (!settings.ADMIN_TENANT_ID || !settings.ADMIN_API_AUDIENCE) {
    throw new SettingsError(`The admin API needs ${missing.join(' and ')}.`, {
      nextStep:
        'Set ADMIN_TENANT_ID to the tenant id of the administrators and ADMIN_API_AUDIENCE to the ' +
        'Application ID URI of the EntraSync app registration (see docs/security.md).',
    });
  }
  return createAdminAuthenticator({
    ...options,
    tenantId: settings.ADMIN_TENANT_ID,
    audience: settings.ADMIN_API_AUDIENCE,
    authorityHost: settings.ADMIN_AUTHORITY_HOST,
  });
}
