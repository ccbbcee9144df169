import { randomBytes, randomUUID } from 'node:crypto';
import { thumbprints } from './certificate.js';
import { SimulatorError } from './errors.js';
import { DEFAULT_APP_ROLES } from './model.js';

/**
 * App registrations: the multi-tenant application EntraSync is in the real world. An app has a client
 * id, a client secret, certificate credentials, redirect URIs for the admin-consent callback, and the
 * application permissions it asks for. Whether a tenant consented is the tenant's business
 * (SimulatedTenant.grantConsent).
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
}

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
  readonly certificates: RegisteredCertificate[] = [];

  constructor(options: AppOptions = {}) {
    this.clientId = (options.clientId ?? randomUUID()).toLowerCase();
    // Real secrets are 40 characters with a '~' in them; the shape does not matter to clients.
    this.clientSecret = options.clientSecret ?? `sim~${randomBytes(27).toString('base64url')}`;
    this.displayName = options.displayName ?? 'EntraSync (simulated)';
    this.roles = [...(options.roles ?? DEFAULT_APP_ROLES)];
    for (const uri of options.redirectUris ?? []) this.addRedirectUri(uri);
    for (const pem of options.certificates ?? []) this.addCertificate(pem);
  }

  /** Registers a redirect URI (exact match, as Entra compares them). Test ports are dynamic, hence this. */
  addRedirectUri(uri: string): void {
    try {
      new URL(uri);
    } catch {
      throw new SimulatorError(400, `Not an absolute URI: '${uri}'`);
    }
    this.redirectUris.add(uri);
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
