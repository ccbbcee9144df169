import { createHash } from 'node:crypto';
import { ADMIN_APP_ROLE, type SimulatedApp } from './apps.js';
import { SimulatorError } from './errors.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * The people who can sign in interactively (the authorization code flow), per tenant. They are kept
 * apart from the generated directory that Graph serves, so that adding a test administrator changes no
 * user count, page or delta round a sync test relies on. App role assignments are held by the user and
 * apply in every app that defines the role: one EntraSync registration is what the simulator models.
 */

export interface SignInUserOptions {
  /** Tenant id or domain. Default: the first tenant. */
  readonly tenant?: string;
  readonly displayName: string;
  /** Default: the display name as `given.surname@<tenant domain>`, lower case, without diacritics. */
  readonly userPrincipalName?: string;
  /** Default: a GUID derived from the tenant id and the user principal name, the same on every run. */
  readonly objectId?: string;
  /** App roles assigned to the user (a token for an app carries those the app defines). Default none. */
  readonly appRoles?: readonly string[];
}

/** Who signs in when the options name no one: an administrator and a user without a role (the 403 path). */
export const DEFAULT_SIGN_IN_USERS: readonly Omit<SignInUserOptions, 'tenant'>[] = [
  { displayName: 'Ada Admin', appRoles: [ADMIN_APP_ROLE] },
  { displayName: 'Pat Plain' },
];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A version-4-shaped GUID that is a pure function of its input, so runs with the same options agree. */
export function derivedGuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function upnFromName(displayName: string, domain: string): string {
  const local = displayName
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return `${local === '' ? 'user' : local}@${domain}`;
}

export class SignInUser {
  readonly tenantId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly userPrincipalName: string;
  readonly givenName: string | undefined;
  readonly surname: string | undefined;
  private readonly roles: Set<string>;

  constructor(tenant: SimulatedTenant, options: SignInUserOptions) {
    const displayName = options.displayName.trim();
    if (displayName === '') throw new SimulatorError(400, 'A sign-in user needs a display name');
    this.tenantId = tenant.tenantId;
    this.displayName = displayName;
    this.userPrincipalName = (
      options.userPrincipalName ?? upnFromName(displayName, tenant.domain)
    ).toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(this.userPrincipalName))
      throw new SimulatorError(400, `Not a user principal name: '${this.userPrincipalName}'`);
    this.objectId = (
      options.objectId ?? derivedGuid(`${tenant.tenantId}:${this.userPrincipalName}`)
    ).toLowerCase();
    if (!GUID.test(this.objectId)) throw new SimulatorError(400, `Not a GUID: '${this.objectId}'`);
    const [given, ...rest] = displayName.split(/\s+/);
    this.givenName = rest.length > 0 ? given : undefined;
    this.surname = rest.length > 0 ? rest.join(' ') : undefined;
    this.roles = new Set(options.appRoles ?? []);
  }

  /** The app roles assigned to the user, in every app that defines them. */
  get appRoles(): readonly string[] {
    return [...this.roles];
  }

  assignAppRole(role: string): void {
    this.roles.add(role);
  }

  removeAppRole(role: string): void {
    this.roles.delete(role);
  }

  /** The roles a token for `app` carries: those assigned to the user that the app defines. */
  rolesIn(app: SimulatedApp): string[] {
    return app.appRoles.filter((role) => this.roles.has(role));
  }

  /** The identity MSAL keys its cache by: base64url JSON `{ uid, utid }` (the client_info parameter). */
  clientInfo(): string {
    return Buffer.from(JSON.stringify({ uid: this.objectId, utid: this.tenantId })).toString('base64url');
  }

  toJSON(): Record<string, unknown> {
    return {
      tenantId: this.tenantId,
      objectId: this.objectId,
      displayName: this.displayName,
      userPrincipalName: this.userPrincipalName,
      appRoles: this.appRoles,
    };
  }
}

/**
 * The sign-in users of every tenant. Tenants get the default users the first time they are asked for,
 * unless the simulator was given its own list, so tenants added later need no extra step.
 */
export class SignInDirectory {
  private readonly byTenant = new Map<string, SignInUser[]>();

  constructor(private readonly withDefaults: boolean) {}

  usersOf(tenant: SimulatedTenant): readonly SignInUser[] {
    return this.listOf(tenant);
  }

  add(tenant: SimulatedTenant, options: SignInUserOptions): SignInUser {
    const user = new SignInUser(tenant, options);
    const list = this.listOf(tenant);
    if (list.some((u) => u.objectId === user.objectId || u.userPrincipalName === user.userPrincipalName))
      throw new SimulatorError(409, `A sign-in user ${user.userPrincipalName} or ${user.objectId} exists`);
    list.push(user);
    return user;
  }

  /** A user by object id, user principal name or display name (case-insensitive). */
  find(tenant: SimulatedTenant, key: string): SignInUser | undefined {
    const k = key.toLowerCase();
    return this.listOf(tenant).find(
      (u) => u.objectId === k || u.userPrincipalName === k || u.displayName.toLowerCase() === k,
    );
  }

  private listOf(tenant: SimulatedTenant): SignInUser[] {
    let list = this.byTenant.get(tenant.tenantId);
    if (!list) {
      list = this.withDefaults ? DEFAULT_SIGN_IN_USERS.map((options) => new SignInUser(tenant, options)) : [];
      this.byTenant.set(tenant.tenantId, list);
    }
    return list;
  }
}
