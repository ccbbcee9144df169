import { setTimeout as delay } from 'node:timers/promises';
import { Agent } from 'undici';
import { SimulatedApp, type AppOptions } from './apps.js';
import { handleBatch } from './batch.js';
import { createServerCertificate } from './certificate.js';
import { handleControl } from './control-routes.js';
import { SimulatorError } from './errors.js';
import { type FaultRule, FaultInjector } from './faults.js';
import type { GraphSettings } from './graph-context.js';
import { GraphHttpError, graphErrorBody, notSimulated } from './graph-errors.js';
import { handleGraph } from './graph-routes.js';
import { IdCodec } from './ids.js';
import { header, jsonResponse, type SimRequest, type SimResponse } from './http-types.js';
import { handleLogin, type LoginContext } from './login-routes.js';
import { LoginState, SPA_REFRESH_TOKEN_LIFETIME_SECONDS } from './login-state.js';
import { TokenSealer } from './opaque-tokens.js';
import { ALL_QUIRKS, NO_QUIRKS, type Quirks } from './paging.js';
import { hash32 } from './random.js';
import { RequestCounter, normaliseEndpoint } from './request-stats.js';
import { listenHttps, type HttpsListener } from './server.js';
import { SignInDirectory, type SignInUser, type SignInUserOptions } from './sign-in-users.js';
import { SimulatedTenant, type TenantOptions } from './tenant-model.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, TokenService } from './tokens.js';

/**
 * The simulated Entra ID and Microsoft Graph: one HTTPS server for login and Graph, its tenants and
 * apps, and the knobs tests turn (latency, faults, quirks, request counts).
 */

export interface SimulatorOptions {
  /** Tenants to create. Default: one tenant of 100 users and 10 groups. */
  readonly tenants?: readonly TenantOptions[];
  /** App registrations. Default: one app, consented in every tenant. */
  readonly apps?: readonly AppOptions[];
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Seed from which tenants without their own seed derive theirs. Default 1. */
  readonly seed?: number;
  /** Added latency per login and Graph request, in milliseconds. Default 0. */
  readonly latencyMs?: number;
  /** Graph's quirks (replays, shuffled order, uneven pages): true (default), false, or one by one. */
  readonly quirks?: boolean | Partial<Quirks>;
  /** Objects per users/delta and groups/delta page, before uneven pages shorten it. Default 200. */
  readonly deltaPageSize?: number;
  /** members@delta entries per groups/delta page. Default 500. */
  readonly memberBudget?: number;
  /** Lifetime of issued access tokens. Default 3599 seconds. */
  readonly tokenLifetimeSeconds?: number;
  /**
   * Who can sign in interactively (authorization code flow). Default: in every tenant, "Ada Admin"
   * (assigned EntraSync.Admin) and "Pat Plain" (no role). A list replaces the defaults everywhere.
   */
  readonly signInUsers?: readonly SignInUserOptions[];
  /** The fixed lifetime of refresh tokens issued to single-page apps. Default 86400 (24 hours, as Entra). */
  readonly spaRefreshTokenLifetimeSeconds?: number;
}

export const DEFAULT_DELTA_PAGE_SIZE = 200;
export const DEFAULT_MEMBER_BUDGET = 500;

export interface IssueTokenOptions {
  /** Tenant id or domain. Default: the first tenant. */
  readonly tenant?: string;
  /** Default: the first app. */
  readonly clientId?: string;
  /** Default: the roles granted to the app in that tenant. */
  readonly roles?: readonly string[];
  /** Negative for an already-expired token. Default: the simulator's token lifetime. */
  readonly lifetimeSeconds?: number;
  /** Default: the simulator's Graph base URL. */
  readonly audience?: string;
}

export interface AdminConsentUrlOptions {
  readonly redirectUri: string;
  /** Tenant id, domain, 'organizations' or 'common'. Default: the first tenant's id. */
  readonly tenant?: string;
  readonly clientId?: string;
  readonly state?: string;
  readonly scope?: string;
}

export interface SimulatorInfo {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly tenants: readonly { readonly tenantId: string; readonly domain: string }[];
  readonly apps: readonly { readonly clientId: string; readonly clientSecret: string }[];
  readonly controlUrl: string;
  readonly signIn: SpaSignInInfo;
}

/** What a browser app (MSAL) and the admin API need to sign an administrator in against the simulator. */
export interface SpaSignInInfo {
  /** The first app: the EntraSync registration, which is also the console's SPA and the admin API. */
  readonly clientId: string;
  /** The admin tenant: the admin sign-in tenant (default the first). */
  readonly tenantId: string;
  /** MSAL's `auth.authority`. */
  readonly authority: string;
  /** MSAL's `auth.knownAuthorities`: skips instance discovery, which would call the global cloud. */
  readonly knownAuthorities: readonly string[];
  /** What to ask for: the API's default scope. */
  readonly scopes: readonly string[];
  /** ADMIN_API_AUDIENCE: the API's Application ID URI. */
  readonly apiAudience: string;
  readonly spaRedirectUris: readonly string[];
  readonly users: readonly {
    readonly displayName: string;
    readonly userPrincipalName: string;
    readonly objectId: string;
    readonly appRoles: readonly string[];
  }[];
}

function resolveQuirks(option: boolean | Partial<Quirks> | undefined): Quirks {
  if (option === undefined || option === true) return { ...ALL_QUIRKS };
  if (option === false) return { ...NO_QUIRKS };
  return { ...ALL_QUIRKS, ...option };
}

export class Simulator {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  /** PEM of the certificate authority that issued the server's certificate: what a client trusts. */
  readonly ca: string;
  readonly port: number;
  readonly tenants: SimulatedTenant[];
  readonly apps: SimulatedApp[];
  readonly requests = new RequestCounter();
  readonly faults = new FaultInjector();
  /** Switch quirks at runtime: `sim.quirks.replays = false`. */
  readonly quirks: Quirks;
  readonly deltaPageSize: number;
  readonly memberBudget: number;
  readonly tokenLifetimeSeconds: number;
  readonly spaRefreshTokenLifetimeSeconds: number;

  private latency: number;
  private agent: Agent | undefined;
  private signInTenant: SimulatedTenant | undefined;
  private readonly sealer = new TokenSealer();
  private readonly signInDirectory: SignInDirectory;
  private readonly loginState = new LoginState();
  private readonly baseSeed: number;
  /** Each app's consentedIn option, applied to tenants added later. */
  private readonly consentPolicy = new Map<string, AppOptions['consentedIn']>();

  private constructor(
    private readonly listener: HttpsListener,
    private readonly tokenService: TokenService,
    ca: string,
    options: SimulatorOptions,
    tenants: SimulatedTenant[],
    apps: SimulatedApp[],
  ) {
    this.port = listener.port;
    this.authorityHost = `https://localhost:${listener.port}`;
    this.graphBaseUrl = `https://localhost:${listener.port}`;
    this.ca = ca;
    this.tenants = tenants;
    this.apps = apps;
    this.quirks = resolveQuirks(options.quirks);
    this.latency = options.latencyMs ?? 0;
    this.deltaPageSize = options.deltaPageSize ?? DEFAULT_DELTA_PAGE_SIZE;
    this.memberBudget = options.memberBudget ?? DEFAULT_MEMBER_BUDGET;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
    this.spaRefreshTokenLifetimeSeconds =
      options.spaRefreshTokenLifetimeSeconds ?? SPA_REFRESH_TOKEN_LIFETIME_SECONDS;
    this.signInDirectory = new SignInDirectory(options.signInUsers === undefined);
    this.signInTenant = tenants[0];
    this.baseSeed = options.seed ?? 1;
    apps.forEach((app, i) => this.consentPolicy.set(app.clientId, options.apps?.[i]?.consentedIn ?? 'all'));
    for (const user of options.signInUsers ?? []) this.addSignInUser(user);
  }

  /** Starts a simulator; close it when done (in afterAll). */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    for (const [name, value] of [
      ['deltaPageSize', options.deltaPageSize],
      ['memberBudget', options.memberBudget],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1))
        throw new RangeError(`${name} must be a positive integer`);
    }
    const baseSeed = options.seed ?? 1;
    const tenants = (options.tenants ?? [{}]).map(
      (t, i) => new SimulatedTenant({ ...t, seed: t.seed ?? hash32(baseSeed, 0x54454e, i) }),
    );
    const appIds = new IdCodec(hash32(baseSeed, 0x415050));
    const apps = (options.apps ?? [{}]).map(
      (a, i) => new SimulatedApp({ clientId: appIds.encode('app', i), ...a }),
    );
    apps.forEach((app, i) => {
      const consented = options.apps?.[i]?.consentedIn ?? 'all';
      for (const tenant of tenants) {
        if (consentedIn(consented, tenant)) {
          tenant.grantConsent(app.clientId, app.roles);
        }
      }
    });
    const [tls, tokenService] = await Promise.all([createServerCertificate(), TokenService.create()]);
    // The listener needs the simulator and the simulator the listener's port: requests wait on this.
    const started: { simulator?: Simulator } = {};
    const listener = await listenHttps(tls, options.port ?? 0, async (req) => {
      if (!started.simulator) return jsonResponse(503, { error: 'starting' });
      return await started.simulator.handle(req);
    });
    try {
      started.simulator = new Simulator(listener, tokenService, tls.ca, options, tenants, apps);
    } catch (error) {
      // Bad options (a sign-in user's) must not leave the port open.
      await listener.close();
      throw error;
    }
    return started.simulator;
  }

  // ---- Knobs ----

  get latencyMs(): number {
    return this.latency;
  }

  /** Added latency per request (login and Graph; not the control API), settable at runtime. */
  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('latency must be zero or more milliseconds');
    this.latency = ms;
  }

  /** Shortcut for faults.add(). */
  injectFault(rule: FaultRule): number {
    return this.faults.add(rule);
  }

  // ---- Lookups ----

  /** A tenant by id or domain (case-insensitive). */
  tenant(idOrDomain?: string): SimulatedTenant {
    const found = idOrDomain === undefined ? this.tenants[0] : this.findTenant(idOrDomain);
    if (!found) throw new SimulatorError(404, `No simulated tenant '${idOrDomain ?? '(first)'}'`);
    return found;
  }

  findTenant(idOrDomain: string): SimulatedTenant | undefined {
    return this.tenants.find((t) => matchesTenant(t, idOrDomain));
  }

  app(clientId?: string): SimulatedApp {
    const found =
      clientId === undefined ? this.apps[0] : this.apps.find((a) => a.clientId === clientId.toLowerCase());
    if (!found) throw new SimulatorError(404, `No app registration '${clientId ?? '(first)'}'`);
    return found;
  }

  /** Adds a tenant; apps registered with consentedIn 'all' (the default) are consented in it too. */
  addTenant(options: TenantOptions = {}): SimulatedTenant {
    const tenant = new SimulatedTenant({
      ...options,
      seed: options.seed ?? hash32(this.baseSeed, 0x54454e, this.tenants.length),
    });
    if (this.findTenant(tenant.tenantId) || this.findTenant(tenant.domain)) {
      throw new SimulatorError(409, `A tenant with id ${tenant.tenantId} or domain ${tenant.domain} exists`);
    }
    this.tenants.push(tenant);
    for (const app of this.apps) {
      if (this.consentPolicy.get(app.clientId) === 'all') tenant.grantConsent(app.clientId, app.roles);
    }
    return tenant;
  }

  addApp(options: AppOptions = {}): SimulatedApp {
    const app = new SimulatedApp(options);
    if (this.apps.some((a) => a.clientId === app.clientId))
      throw new SimulatorError(409, `App ${app.clientId} exists`);
    this.apps.push(app);
    const consented = options.consentedIn ?? 'all';
    this.consentPolicy.set(app.clientId, consented);
    for (const tenant of this.tenants) {
      if (consentedIn(consented, tenant)) {
        tenant.grantConsent(app.clientId, app.roles);
      }
    }
    return app;
  }

  registerRedirectUri(clientId: string, uri: string): void {
    this.app(clientId).addRedirectUri(uri);
  }

  /** Registers a single-page-app redirect URI (a console's page) on an app. Default: the first app. */
  addSpaRedirectUri(uri: string, clientId?: string): void {
    this.app(clientId).addSpaRedirectUri(uri);
  }

  // ---- Interactive sign-in ----

  /** The people who can sign in to a tenant (default: the first). */
  signInUsers(tenant?: string): readonly SignInUser[] {
    return this.signInDirectory.usersOf(this.tenant(tenant));
  }

  /** A sign-in user by object id, user principal name or display name, e.g. `signInUser('Ada Admin')`. */
  signInUser(key: string, tenant?: string): SignInUser {
    const found = this.signInDirectory.find(this.tenant(tenant), key);
    if (!found) throw new SimulatorError(404, `No sign-in user '${key}'`);
    return found;
  }

  addSignInUser(options: SignInUserOptions): SignInUser {
    return this.signInDirectory.add(this.tenant(options.tenant), options);
  }

  /** How MSAL and the admin API are configured against this simulator; the first app is the SPA. */
  spaSignIn(): SpaSignInInfo {
    const app = this.app();
    const tenant = this.signInTenant ?? this.tenant();
    return {
      clientId: app.clientId,
      tenantId: tenant.tenantId,
      authority: `${this.authorityHost}/${tenant.tenantId}`,
      knownAuthorities: [new URL(this.authorityHost).host],
      scopes: [`${app.identifierUri}/.default`],
      apiAudience: app.identifierUri,
      spaRedirectUris: [...app.spaRedirectUris],
      users: this.signInDirectory.usersOf(tenant).map((u) => ({
        displayName: u.displayName,
        userPrincipalName: u.userPrincipalName,
        objectId: u.objectId,
        appRoles: u.appRoles,
      })),
    };
  }

  /** The tenant whose administrator answers an admin-consent URL addressed to 'organizations'. */
  setAdminSignInTenant(idOrDomain: string): void {
    this.signInTenant = this.tenant(idOrDomain);
  }

  /** The admin-consent URL an app sends an administrator to. */
  adminConsentUrl(options: AdminConsentUrlOptions): string {
    const url = new URL(
      `${this.authorityHost}/${options.tenant ?? this.tenant().tenantId}/v2.0/adminconsent`,
    );
    url.searchParams.set('client_id', options.clientId ?? this.app().clientId);
    url.searchParams.set('redirect_uri', options.redirectUri);
    url.searchParams.set('scope', options.scope ?? `${GRAPH_RESOURCE}/.default`);
    if (options.state !== undefined) url.searchParams.set('state', options.state);
    return url.toString();
  }

  /** An access token as the token endpoint would issue it, or expired, or with other roles. */
  async issueAccessToken(options: IssueTokenOptions = {}): Promise<string> {
    const tenant = this.tenant(options.tenant);
    const app = this.app(options.clientId);
    const issued = await this.tokenService.issue({
      tenantId: tenant.tenantId,
      app,
      roles: options.roles ?? tenant.grantedRoles(app.clientId) ?? [],
      audience: options.audience ?? this.graphBaseUrl,
      credential: 'secret',
      lifetimeSeconds: options.lifetimeSeconds ?? this.tokenLifetimeSeconds,
    });
    return issued.accessToken;
  }

  /**
   * An undici dispatcher that trusts this simulator's CA, for fetch({ dispatcher }) and the Graph
   * client's fetchOptions. Closed with the simulator.
   */
  get dispatcher(): Agent {
    this.agent ??= new Agent({ connect: { ca: this.ca } });
    return this.agent;
  }

  info(): SimulatorInfo {
    return {
      authorityHost: this.authorityHost,
      graphBaseUrl: this.graphBaseUrl,
      tenants: this.tenants.map((t) => ({ tenantId: t.tenantId, domain: t.domain })),
      apps: this.apps.map((a) => ({ clientId: a.clientId, clientSecret: a.clientSecret })),
      controlUrl: `${this.authorityHost}/_simulator/`,
      signIn: this.spaSignIn(),
    };
  }

  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    await this.listener.close();
    // destroy, not close: close() waits for responses whose bodies a test never read.
    if (agent) await agent.destroy();
  }

  // ---- Request handling ----

  private async handle(req: SimRequest): Promise<SimResponse> {
    if (req.segments[0] === '_simulator') return await handleControl(req, this);
    const endpoint = normaliseEndpoint(req.method, req.segments);
    this.requests.record(endpoint);
    if (this.latency > 0) await delay(this.latency);
    try {
      const fault = this.faults.take(req.method, req.url.pathname, endpoint.slice(endpoint.indexOf(' ') + 1));
      if (fault) throw fault;
      if (req.segments[0] === 'v1.0') return await this.graph(req);
      if (req.segments[0] === 'beta') throw notSimulated('the beta endpoint');
      const login = await handleLogin(req, this.loginContext);
      if (login) return login;
      return jsonResponse(404, {
        error: 'not_found',
        error_description: `No simulated endpoint at ${req.url.pathname}`,
      });
    } catch (error) {
      if (error instanceof GraphHttpError) {
        return {
          status: error.status,
          headers: { 'content-type': 'application/json', ...error.headers },
          body: graphErrorBody(error, req.requestId, req.clientRequestId),
        };
      }
      throw error;
    }
  }

  private get loginContext(): LoginContext {
    return {
      authorityHost: this.authorityHost,
      graphBaseUrl: this.graphBaseUrl,
      tokens: this.tokenService,
      tokenLifetimeSeconds: this.tokenLifetimeSeconds,
      spaRefreshTokenLifetimeSeconds: this.spaRefreshTokenLifetimeSeconds,
      state: this.loginState,
      tenants: this.tenants,
      apps: this.apps,
      signInUsers: (tenant) => this.signInDirectory.usersOf(tenant),
      findTenant: (segment) => this.findTenant(segment),
      adminSignInTenant: () => this.signInTenant,
      findApp: (clientId) => this.apps.find((a) => a.clientId === clientId.toLowerCase()),
    };
  }

  private get graphSettings(): GraphSettings {
    return {
      baseUrl: this.graphBaseUrl,
      quirks: this.quirks,
      sealer: this.sealer,
      deltaPageSize: this.deltaPageSize,
      memberBudget: this.memberBudget,
    };
  }

  private async graph(req: SimRequest): Promise<SimResponse> {
    const challenge = {
      'www-authenticate': `Bearer realm="", authorization_uri="${this.authorityHost}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    };
    const unauthorized = (message: string): GraphHttpError =>
      new GraphHttpError(401, 'InvalidAuthenticationToken', message, { headers: challenge });
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    if (!match?.[1]) throw unauthorized('Access token is empty.');
    const check = await this.tokenService.check(match[1], [this.graphBaseUrl, GRAPH_RESOURCE, GRAPH_APP_ID]);
    if (!check.ok) {
      if (check.reason === 'expired') throw unauthorized('Lifetime validation failed, the token is expired.');
      if (check.reason === 'audience')
        throw unauthorized('Access token validation failure. Invalid audience.');
      throw unauthorized('Access token validation failure.');
    }
    const tenant = this.findTenant(check.claims.tid);
    if (!tenant) throw unauthorized('Access token validation failure. Invalid tenant.');
    const roles = check.claims.roles;
    const settings = this.graphSettings;
    if (req.segments[1] === '$batch' && req.segments.length === 2) {
      return await handleBatch(req, {
        origin: this.graphBaseUrl,
        shuffle: this.quirks.shuffle,
        run: async (inner) => {
          await Promise.resolve();
          const endpoint = normaliseEndpoint(inner.method, inner.segments);
          this.requests.recordBatched(endpoint);
          const fault = this.faults.take(
            inner.method,
            inner.url.pathname,
            endpoint.slice(endpoint.indexOf(' ') + 1),
          );
          if (fault) throw fault;
          return handleGraph({ req: inner, tenant, roles, settings, path: inner.segments.slice(1) });
        },
      });
    }
    return handleGraph({ req, tenant, roles, settings, path: req.segments.slice(1) });
  }
}

/** Whether an app's consentedIn option covers a tenant. */
function consentedIn(consented: AppOptions['consentedIn'], tenant: SimulatedTenant): boolean {
  if (consented === undefined || consented === 'all') return true;
  if (consented === 'none') return false;
  return consented.some((t) => matchesTenant(tenant, t));
}

function matchesTenant(tenant: SimulatedTenant, idOrDomain: string): boolean {
  const key = idOrDomain.toLowerCase();
  return tenant.tenantId === key || tenant.domain === key;
}
