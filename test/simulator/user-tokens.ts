import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { SimulatedApp } from './apps.js';
import type { ResolvedResource } from './delegated-scopes.js';
import type { SignInUser } from './sign-in-users.js';

/**
 * The claims of the tokens a signed-in user gets: a v2.0 ID token for the client, and a v1.0 or v2.0
 * access token for the resource, shaped as Entra issues them (learn.microsoft.com id-token-claims-reference
 * and access-token-claims-reference). Pure: signing is the TokenService's job.
 */

export interface UserTokenSubject {
  readonly authorityHost: string;
  readonly tenantId: string;
  /** The app the user signed in to (the ID token's audience, the access token's azp/appid). */
  readonly client: SimulatedApp;
  readonly user: SignInUser;
  readonly sessionId: string;
  readonly lifetimeSeconds: number;
}

/** ID tokens live an hour in Entra, whatever the access token policy. */
const ID_TOKEN_LIFETIME_SECONDS = 3600;

export function v2Issuer(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/v2.0`;
}

/** `sub` is pairwise: the same user has a different subject in every app. */
function pairwiseSubject(objectId: string, appId: string): string {
  return createHash('sha256').update(`${objectId}:${appId}`).digest('base64url').slice(0, 43);
}

/** Claims Entra puts in every token for internal use; their values mean nothing to clients. */
function opaqueClaims(): { rh: string; uti: string } {
  return { rh: `0.${randomBytes(36).toString('base64url')}.`, uti: randomBytes(16).toString('base64url') };
}

export function idTokenClaims(subject: UserTokenSubject, nonce: string | undefined): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const { user, client } = subject;
  return {
    aud: client.clientId,
    iss: v2Issuer(subject.authorityHost, subject.tenantId),
    iat: now,
    nbf: now,
    exp: now + ID_TOKEN_LIFETIME_SECONDS,
    name: user.displayName,
    ...(nonce === undefined ? {} : { nonce }),
    oid: user.objectId,
    preferred_username: user.userPrincipalName,
    rh: opaqueClaims().rh,
    sid: subject.sessionId,
    sub: pairwiseSubject(user.objectId, client.clientId),
    tid: subject.tenantId,
    uti: opaqueClaims().uti,
    ver: '2.0',
  };
}

export function accessTokenClaims(subject: UserTokenSubject, resource: ResolvedResource): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const { user, client } = subject;
  const roles = resource.app ? user.rolesIn(resource.app) : [];
  const common = {
    aud: resource.audience,
    iat: now,
    nbf: now,
    exp: now + subject.lifetimeSeconds,
    name: user.displayName,
    oid: user.objectId,
    ...opaqueClaims(),
    // Entra leaves out roles and scp when there are none.
    ...(roles.length > 0 ? { roles } : {}),
    ...(resource.scp.length > 0 ? { scp: resource.scp.join(' ') } : {}),
    sid: subject.sessionId,
    sub: pairwiseSubject(user.objectId, resource.app?.clientId ?? resource.audience),
    tid: subject.tenantId,
  };
  if (resource.version === 2) {
    return {
      ...common,
      iss: v2Issuer(subject.authorityHost, subject.tenantId),
      azp: client.clientId,
      // 0: a public client (no secret), as a single-page app is.
      azpacr: '0',
      preferred_username: user.userPrincipalName,
      ver: '2.0',
    };
  }
  return {
    ...common,
    iss: `https://sts.windows.net/${subject.tenantId}/`,
    acr: '1',
    amr: ['pwd'],
    appid: client.clientId,
    appidacr: '0',
    ...(user.surname === undefined ? {} : { family_name: user.surname }),
    ...(user.givenName === undefined ? {} : { given_name: user.givenName }),
    ipaddr: '127.0.0.1',
    unique_name: user.userPrincipalName,
    upn: user.userPrincipalName,
    ver: '1.0',
  };
}
