import { randomBytes, randomUUID } from 'node:crypto';
import { thumbprints } from './certificate.js';
import { SimulatorError } from './errors.js';
import { DEFAULT_APP_ROLES } from './model.js';

/**
 * App registrations: the multi-tenant application EntraSync is in the real world. An app has a client
 * id, a client secret, certificate credentials, redirect URIs for the admin-consent callback, and the
 * application permissions it asks for. Whether a tenant consented is the tenant's business
 * (SimulatedTenant.grantConsent).
 *
 * The same registration is also the admin API and its console, as infra/app/app-registration.bicep
 * declares it: an exposed API (Application ID URI, delegated scopes, app roles users are assigned to,
 * the access token version) and the single-page-app platform's redirect URIs, for the authorization
 * code flow with PKCE.
 */

export interface AppOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly displayName?: string;
  readonly redirectUris?: readonly string[];
  /** PEM certificates whose private keys may sign client assertions. */
  readonly certificates?: readonly string[];
  /** Application permissions requested (and granted on consent). Default User.Read.All, GroupMember.Read.All. */
  readonly roles?: readonly string[];
  /** Tenants (ids or domains) consented at start: 'all' (default), 'none', or a list. */
  readonly consentedIn?: 'all' | 'none' | readonly string[];
  /** Redirect URIs of the single-page-app platform (exact match): code flow with PKCE, tokens over CORS. */
  readonly spaRedirectUris?: readonly string[];
  /** The exposed API's Application ID URI. Default `api://<clientId>`. */
  readonly identifierUri?: string;
  /** Delegated permissions (scope values) the API exposes. Default `access_as_admin`, as infra declares. */
  readonly apiScopes?: readonly string[];
  /** App roles users can be assigned. Default `EntraSync.Admin`. */
  readonly appRoles?: readonly string[];
  /** The API's requestedAccessTokenVersion: 2 (default, as infra declares) or 1. */
  readonly accessTokenVersion?: AccessTokenVersion;
  /** Only users assigned one of the app's roles may sign in (AADSTS50105 otherwise). Default false. */
  readonly appRoleAssignmentRequired?: boolean;
}

export type AccessTokenVersion = 1 | 2;

/** The app role the admin API requires (shared/auth/admin-auth.ts). */
export const ADMIN_APP_ROLE = 'EntraSync.Admin';
export const DEFAULT_API_SCOPES: readonly string[] = ['access_as_admin'];

export interface RegisteredCertificate {
  readonly pem: string;
  readonly x5t: string;
  readonly x5tS256: string;
  readonly sha1Hex: string;
}

export class SimulatedApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly redirectUris = new Set<string>();
  readonly spaRedirectUris = new Set<string>();
  readonly certificates: RegisteredCertificate[] = [];
  readonly identifierUri: string;
  readonly apiScopes: readonly string[];
  readonly appRoles: readonly string[];
  readonly accessTokenVersion: AccessTokenVersion;
  appRoleAssignmentRequired: boolean;

  constructor(options: AppOptions = {}) {
    this.clientId = (options.clientId ?? randomUUID()).toLowerCase();
    // Real secrets are 40 characters with a '~' in them; the shape does not matter to clients.
    this.clientSecret = options.clientSecret ?? `sim~${randomBytes(27).toString('base64url')}`;
    this.displayName = options.displayName ?? 'EntraSync (simulated)';
    this.roles = [...(options.roles ?? DEFAULT_APP_ROLES)];
    this.identifierUri = options.identifierUri ?? `api://${this.clientId}`;
    this.apiScopes = [...(options.apiScopes ?? DEFAULT_API_SCOPES)];
    this.appRoles = [...(options.appRoles ?? [ADMIN_APP_ROLE])];
    this.accessTokenVersion = options.accessTokenVersion ?? 2;
    this.appRoleAssignmentRequired = options.appRoleAssignmentRequired ?? false;
    for (const uri of options.redirectUris ?? []) this.addRedirectUri(uri);
    for (const uri of options.spaRedirectUris ?? []) this.addSpaRedirectUri(uri);
    for (const pem of options.certificates ?? []) this.addCertificate(pem);
  }

  /** Registers a redirect URI (exact match, as Entra compares them). Test ports are dynamic, hence this. */
  addRedirectUri(uri: string): void {
    absoluteUri(uri);
    this.redirectUris.add(uri);
  }

  /**
   * Registers a redirect URI of the single-page-app platform: the browser may redeem codes for it and
   * the token endpoint answers its origin with CORS headers. Entra takes https, or http on localhost.
   */
  addSpaRedirectUri(uri: string): void {
    const url = absoluteUri(uri);
    const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
      throw new SimulatorError(400, `A SPA redirect URI must use https (or http on localhost): '${uri}'`);
    if (url.hash !== '') throw new SimulatorError(400, `A redirect URI cannot have a fragment: '${uri}'`);
    this.spaRedirectUris.add(uri);
  }

  /** Whether a browser origin is that of one of the app's SPA redirect URIs (what CORS is granted to). */
  isSpaOrigin(origin: string): boolean {
    for (const uri of this.spaRedirectUris) if (new URL(uri).origin === origin) return true;
    return false;
  }

  /** Whether a resource in a scope (`<resource>/<scope>`) names this app's API: its URI or client id. */
  isApiResource(resource: string): boolean {
    const key = resource.replace(/\/+$/, '').toLowerCase();
    return (
      key === this.identifierUri.toLowerCase() || key === this.clientId || key === `api://${this.clientId}`
    );
  }

  addCertificate(pem: string): RegisteredCertificate {
    const registered = { pem, ...thumbprints(pem) };
    this.certificates.push(registered);
    return registered;
  }

  findCertificate(header: { x5t?: unknown; 'x5t#S256'?: unknown }): RegisteredCertificate | undefined {
    const sha256 = header['x5t#S256'];
    const sha1 = header.x5t;
    return this.certificates.find(
      (c) =>
        (typeof sha256 === 'string' && c.x5tS256 === sha256) || (typeof sha1 === 'string' && c.x5t === sha1),
    );
  }
}

function absoluteUri(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new SimulatorError(400, `Not an absolute URI: '${uri}'`);
  }
}
