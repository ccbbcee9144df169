import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { fetch, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminAuthenticator, type AdminAuthenticator } from '../../shared/auth/admin-auth.js';
import { ForbiddenError } from '../../shared/auth/errors.js';
import { startSimulator, type Simulator } from './index.js';

/**
 * The authorization code flow with PKCE for a single-page app, done by hand the way a browser and
 * msal-browser do it: /authorize, the account picker's form, the redirect, the token request from the
 * app's origin; then the access token through the admin API's own authenticator.
 */

const ORIGIN = 'http://localhost:5173';
const REDIRECT_URI = `${ORIGIN}/console/`;
const OTHER_ORIGIN = 'http://localhost:6000';
const WEB_REDIRECT_URI = 'https://app.example/api/consent/callback';
const UNKNOWN_CLIENT = '11111111-2222-4333-8444-555555555555';

let sim: Simulator;
let clientId: string;
let v1ClientId: string;
let tenantId: string;
let auth: AdminAuthenticator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({
    tenants: [
      { users: 5, groups: 1 },
      { users: 5, groups: 1, domain: 'second.onmicrosoft.com' },
    ],
    apps: [
      { displayName: 'EntraSync', spaRedirectUris: [REDIRECT_URI] },
      {
        displayName: 'EntraSync (v1 tokens)',
        accessTokenVersion: 1,
        spaRedirectUris: [REDIRECT_URI],
        redirectUris: [WEB_REDIRECT_URI],
      },
      {
        displayName: 'Assignment required',
        spaRedirectUris: [REDIRECT_URI],
        appRoleAssignmentRequired: true,
      },
      { displayName: 'Not consented yet', spaRedirectUris: [REDIRECT_URI], consentedIn: 'none' },
    ],
  });
  clientId = sim.app().clientId;
  v1ClientId = sim.apps[1]?.clientId ?? '';
  tenantId = sim.tenant().tenantId;
  browser = new Browser(sim);
  auth = createAdminAuthenticator({
    tenantId,
    audience: `api://${clientId}`,
    authorityHost: sim.authorityHost,
    ca: sim.ca,
  });
});

afterAll(async () => {
  await auth.close();
  await sim.close();
});

// ---- A browser, by hand ----

interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface RequestInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

interface AuthorizeOptions {
  readonly tenant?: string;
  readonly clientId?: string;
  readonly redirectUri?: string;
  readonly scope?: string;
  readonly pkce?: Pkce | null;
  readonly extra?: Record<string, string>;
}

interface RedeemOptions {
  readonly origin?: string | null;
  readonly redirectUri?: string;
  readonly clientId?: string;
  readonly tenant?: string;
  readonly scope?: string;
}

interface SignedIn {
  readonly params: URLSearchParams;
  readonly code: string;
  readonly cookie: string;
  readonly verifier: string;
}

/** The response parameters of a redirect to the app (fragment or query). */
function redirectParams(response: Response, redirectUri = REDIRECT_URI): URLSearchParams {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  return new URLSearchParams(location.hash !== '' ? location.hash.slice(1) : location.search);
}

/** What a browser running msal-browser sends, one request at a time, without following redirects. */
class Browser {
  constructor(
    private readonly sim: Simulator,
    private readonly tenantId = sim.tenant().tenantId,
    private readonly clientId = sim.app().clientId,
  ) {}

  async send(url: string, init: RequestInit = {}): Promise<Response> {
    return await fetch(url, { ...init, redirect: 'manual', dispatcher: this.sim.dispatcher });
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return await this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The /authorize URL msal-browser navigates to (response_mode=fragment is its default). */
  authorizeUrl(options: AuthorizeOptions = {}): string {
    const client = options.clientId ?? this.clientId;
    const url = new URL(`${this.sim.authorityHost}/${options.tenant ?? this.tenantId}/oauth2/v2.0/authorize`);
    const params: Record<string, string> = {
      client_id: client,
      scope: options.scope ?? `api://${client}/.default openid profile offline_access`,
      redirect_uri: options.redirectUri ?? REDIRECT_URI,
      'client-request-id': 'c0ffee00-0000-4000-8000-000000000000',
      response_mode: 'fragment',
      response_type: 'code',
      client_info: '1',
      nonce: 'nonce-123',
      state: 'state-abc',
      ...options.extra,
    };
    const codes = options.pkce === undefined ? pkce() : options.pkce;
    if (codes) {
      params.code_challenge = codes.challenge;
      params.code_challenge_method = 'S256';
    }
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }

  /** Opens the account picker and presses the named user's button (or Cancel); returns the answer. */
  async pick(authorizeUrl: string, name: string): Promise<Response> {
    const page = await this.send(authorizeUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const form: Record<string, string> = { request: /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '' };
    if (name === 'Cancel') form.cancel = '1';
    else form.user = this.sim.signInUser(name, new URL(authorizeUrl).pathname.split('/')[1]).objectId;
    return await this.post(new URL(action, this.sim.authorityHost).toString(), form);
  }

  async signIn(name: string, options: AuthorizeOptions = {}): Promise<SignedIn> {
    const codes = pkce();
    const answer = await this.pick(this.authorizeUrl({ ...options, pkce: codes }), name);
    const params = redirectParams(answer, options.redirectUri);
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { params, code: params.get('code') ?? '', cookie, verifier: codes.verifier };
  }

  /** What msal-browser posts to the token endpoint for a code, from the app's origin. */
  async redeem(code: string, verifier: string | undefined, options: RedeemOptions = {}): Promise<Response> {
    const client = options.clientId ?? this.clientId;
    const form: Record<string, string> = {
      client_id: client,
      redirect_uri: options.redirectUri ?? REDIRECT_URI,
      scope: options.scope ?? `api://${client}/.default openid profile offline_access`,
      code,
      grant_type: 'authorization_code',
      client_info: '1',
      'x-client-SKU': 'msal.js.browser',
    };
    if (verifier !== undefined) form.code_verifier = verifier;
    const origin = options.origin === undefined ? ORIGIN : options.origin;
    return await this.post(
      `${this.sim.authorityHost}/${options.tenant ?? this.tenantId}/oauth2/v2.0/token`,
      form,
      origin === null ? {} : { origin },
    );
  }

  async refresh(refreshToken: string, origin: string | null = ORIGIN): Promise<Response> {
    return await this.post(
      `${this.sim.authorityHost}/${this.tenantId}/oauth2/v2.0/token`,
      {
        client_id: this.clientId,
        redirect_uri: REDIRECT_URI,
        scope: `api://${this.clientId}/.default openid profile offline_access`,
        grant_type: 'refresh_token',
        client_info: '1',
        refresh_token: refreshToken,
      },
      origin === null ? {} : { origin },
    );
  }
}

async function expectTokenError(
  response: Response,
  status: number,
  error: string,
  code: number,
): Promise<void> {
  expect(response.status).toBe(status);
  const body = await json(response);
  expect({ error: body.error, codes: body.error_codes }).toEqual({ error, codes: [code] });
  expect(String(body.error_description)).toMatch(new RegExp(`^AADSTS${code}: `));
}

async function expectErrorPage(response: Response, code: number): Promise<string> {
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await response.text();
  expect(html).toContain(`AADSTS${code}:`);
  return html;
}

function expectRedirectError(response: Response, error: string, code: number): void {
  const params = redirectParams(response);
  expect(params.get('error')).toBe(error);
  expect(params.get('error_description')).toMatch(new RegExp(`^AADSTS${code}: `));
  expect(params.get('state')).toBe('state-abc');
  expect(params.get('code')).toBeNull();
}

// ---- Tests ----

describe('discovery for a browser app', () => {
  it('names the authorization, token and end-session endpoints, open to any origin with the keys', async () => {
    const response = await browser.send(
      `${sim.authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`,
      { headers: { origin: OTHER_ORIGIN } },
    );
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const metadata = await json(response);
    const base = `${sim.authorityHost}/${tenantId}`;
    expect(metadata).toMatchObject({
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    });
    const keys = await browser.send(String(metadata.jwks_uri), { headers: { origin: OTHER_ORIGIN } });
    expect(keys.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('serves organizations metadata with a {tenantid} issuer, as Entra does', async () => {
    const metadata = await json(
      await browser.send(`${sim.authorityHost}/organizations/v2.0/.well-known/openid-configuration`),
    );
    expect(metadata.issuer).toBe(`${sim.authorityHost}/{tenantid}/v2.0`);
    expect(metadata.authorization_endpoint).toBe(`${sim.authorityHost}/organizations/oauth2/v2.0/authorize`);
  });
});

describe('sign-in with the authorization code flow and PKCE', () => {
  it('shows an accessible account picker listing the sign-in users', async () => {
    const page = await browser.send(browser.authorizeUrl());
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    expect(html).toContain('<title>Sign in to your account</title>');
    expect(html).toContain('<h1>Pick an account</h1>');
    const ada = sim.signInUser('Ada Admin');
    expect(html).toContain(
      `<button type="submit" name="user" value="${ada.objectId}">Ada Admin<span class="upn">${ada.userPrincipalName}</span></button>`,
    );
    expect(html).toContain('>Pat Plain<');
    expect(html).not.toContain('<script');
  });

  it('issues tokens the admin API accepts, with the admin role (v2.0 access token)', async () => {
    const { params, code, verifier } = await browser.signIn('Ada Admin');
    const ada = sim.signInUser('Ada Admin');
    expect(params.get('state')).toBe('state-abc');
    expect(JSON.parse(Buffer.from(params.get('client_info') ?? '', 'base64url').toString())).toEqual({
      uid: ada.objectId,
      utid: tenantId,
    });
    const sessionState = params.get('session_state');
    expect(sessionState).toMatch(/^[0-9a-f-]{36}$/);

    const response = await browser.redeem(code, verifier);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const body = await json(response);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      scope: `api://${clientId}/access_as_admin openid profile offline_access`,
      expires_in: 3599,
      ext_expires_in: 3599,
      client_info: params.get('client_info'),
    });
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.refresh_token_expires_in).toBeGreaterThan(86_000);

    const principal = await auth.authenticate(`Bearer ${String(body.access_token)}`);
    expect(principal).toMatchObject({
      kind: 'user',
      objectId: ada.objectId,
      tenantId,
      name: 'Ada Admin',
      username: ada.userPrincipalName,
      appId: clientId,
      roles: ['EntraSync.Admin'],
      tokenVersion: '2.0',
    });
    expect(decodeJwt(String(body.access_token))).toMatchObject({
      aud: clientId,
      scp: 'access_as_admin',
      azpacr: '0',
    });

    // The ID token: for the client, from the tenant's v2.0 issuer, bound to the nonce and the session.
    const jwks = (await json(
      await browser.send(`${sim.authorityHost}/${tenantId}/discovery/v2.0/keys`),
    )) as unknown as JSONWebKeySet;
    const { payload } = await jwtVerify(String(body.id_token), createLocalJWKSet(jwks), {
      issuer: `${sim.authorityHost}/${tenantId}/v2.0`,
      audience: clientId,
    });
    expect(payload).toMatchObject({
      tid: tenantId,
      oid: ada.objectId,
      name: 'Ada Admin',
      preferred_username: ada.userPrincipalName,
      nonce: 'nonce-123',
      sid: sessionState,
      ver: '2.0',
    });
    expect(payload.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it('gives the plain user a token without roles, which the admin API refuses with 403', async () => {
    const { code, verifier } = await browser.signIn('Pat Plain');
    const body = await json(await browser.redeem(code, verifier));
    const claims = decodeJwt(String(body.access_token));
    expect(claims.roles).toBeUndefined();
    expect(claims.scp).toBe('access_as_admin');
    await expect(auth.authenticate(`Bearer ${String(body.access_token)}`)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('issues v1.0 access tokens for an API that asks for them, accepted too', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin', { clientId: v1ClientId });
    const body = await json(await browser.redeem(code, verifier, { clientId: v1ClientId }));
    expect(decodeJwt(String(body.access_token))).toMatchObject({
      aud: `api://${v1ClientId}`,
      iss: `https://sts.windows.net/${tenantId}/`,
      ver: '1.0',
      appid: v1ClientId,
      roles: ['EntraSync.Admin'],
      given_name: 'Ada',
      family_name: 'Admin',
    });
    const v1Auth = createAdminAuthenticator({
      tenantId,
      audience: `api://${v1ClientId}`,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
    });
    try {
      const principal = await v1Auth.authenticate(`Bearer ${String(body.access_token)}`);
      expect(principal).toMatchObject({ tokenVersion: '1.0', roles: ['EntraSync.Admin'], kind: 'user' });
    } finally {
      await v1Auth.close();
    }
  });

  it('accepts the client id as the resource (`<client id>/.default`), as the console asks', async () => {
    const scope = `${clientId}/.default openid profile offline_access`;
    const { code, verifier } = await browser.signIn('Ada Admin', { scope });
    const body = await json(await browser.redeem(code, verifier, { scope }));
    const principal = await auth.authenticate(`Bearer ${String(body.access_token)}`);
    expect(principal.roles).toEqual(['EntraSync.Admin']);
  });

  it('answers in the query for response_mode=query, and with a posting form for form_post', async () => {
    const query = await browser.signIn('Ada Admin', { extra: { response_mode: 'query' } });
    expect(query.code).not.toBe('');
    const page = await browser.send(
      browser.authorizeUrl({ extra: { response_mode: 'form_post', prompt: 'none' } }),
      {
        headers: { cookie: query.cookie },
      },
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<form method="post" action="${REDIRECT_URI}">`);
    expect(html).toMatch(/<input type="hidden" name="code" value="[^"]+">/);
    expect(html).toContain('<input type="hidden" name="state" value="state-abc">');
  });

  it('sends a cancelled sign-in back with access_denied', async () => {
    const params = redirectParams(await browser.pick(browser.authorizeUrl(), 'Cancel'));
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('state-abc');
  });

  it('blocks an unassigned user when the app requires assignment (AADSTS50105)', async () => {
    const assigned = sim.apps[2]?.clientId ?? '';
    await expectErrorPage(
      await browser.pick(browser.authorizeUrl({ clientId: assigned }), 'Pat Plain'),
      50105,
    );
    const ada = await browser.signIn('Ada Admin', { clientId: assigned });
    expect(ada.code).not.toBe('');
  });

  it('signs an administrator in to an app the tenant has not consented to yet (the consent comes later)', async () => {
    const notConsented = sim.apps[3]?.clientId ?? '';
    expect(sim.tenant().hasConsent(notConsented)).toBe(false);
    const { code, verifier } = await browser.signIn('Ada Admin', { clientId: notConsented });
    expect((await browser.redeem(code, verifier, { clientId: notConsented })).status).toBe(200);
  });

  it('signs a user of the second tenant in there; the code is no good at the first', async () => {
    const second = sim.tenant('second.onmicrosoft.com');
    expect(sim.signInUser('Ada Admin', second.domain).userPrincipalName).toBe(
      'ada.admin@second.onmicrosoft.com',
    );
    const { code, verifier } = await browser.signIn('Ada Admin', { tenant: second.domain });
    await expectTokenError(await browser.redeem(code, verifier), 400, 'invalid_grant', 70000);
  });
});

describe('what the authorization endpoint refuses', () => {
  it('an unknown app: error page AADSTS700016', async () => {
    await expectErrorPage(await browser.send(browser.authorizeUrl({ clientId: UNKNOWN_CLIENT })), 700016);
  });

  it('an unregistered redirect URI: error page AADSTS50011, nothing sent to it', async () => {
    const response = await browser.send(browser.authorizeUrl({ redirectUri: `${ORIGIN}/elsewhere/` }));
    expect(await expectErrorPage(response, 50011)).toContain(`${ORIGIN}/elsewhere/`);
    // Exact match: without the trailing slash it is another URI.
    await expectErrorPage(
      await browser.send(browser.authorizeUrl({ redirectUri: `${ORIGIN}/console` })),
      50011,
    );
  });

  it('an unknown tenant: error page AADSTS90002', async () => {
    await expectErrorPage(
      await browser.send(browser.authorizeUrl({ tenant: 'nowhere.onmicrosoft.com' })),
      90002,
    );
  });

  it('another response type, a missing scope, an unknown API or scope: errors on the redirect URI', async () => {
    const cases: [AuthorizeOptions, string, number][] = [
      [{ extra: { response_type: 'token' } }, 'unsupported_response_type', 700054],
      [{ scope: ' ' }, 'invalid_request', 900144],
      [{ scope: 'api://unknown-api/.default openid' }, 'invalid_resource', 500011],
      [{ scope: `api://${clientId}/nope openid` }, 'invalid_scope', 650053],
      [{ scope: `api://${clientId}/.default https://graph.microsoft.com/User.Read` }, 'invalid_scope', 28000],
      [
        { pkce: null, extra: { code_challenge: pkce().challenge, code_challenge_method: 'S512' } },
        'invalid_request',
        9002313,
      ],
    ];
    for (const [options, error, code] of cases) {
      expectRedirectError(await browser.send(browser.authorizeUrl(options)), error, code);
    }
  });

  it('prompt=none without a session: login_required (AADSTS50058)', async () => {
    expectRedirectError(
      await browser.send(browser.authorizeUrl({ extra: { prompt: 'none' } })),
      'login_required',
      50058,
    );
  });
});

describe('what the token endpoint refuses', () => {
  it('a wrong code_verifier (AADSTS501481); the code still works with the right one, once (AADSTS54005)', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    await expectTokenError(await browser.redeem(code, pkce().verifier), 400, 'invalid_grant', 501481);
    await expectTokenError(await browser.redeem(code, undefined), 400, 'invalid_grant', 501481);
    expect((await browser.redeem(code, verifier)).status).toBe(200);
    const reused = await browser.redeem(code, verifier);
    expect(reused.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await expectTokenError(reused, 400, 'invalid_grant', 54005);
  });

  it('another redirect URI than the code was issued for (AADSTS500112)', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    await expectTokenError(
      await browser.redeem(code, verifier, { redirectUri: `${ORIGIN}/other/` }),
      400,
      'invalid_grant',
      500112,
    );
  });

  it('an unknown client (AADSTS700016), another client than the code’s, a made-up code', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    await expectTokenError(
      await browser.redeem(code, verifier, { clientId: UNKNOWN_CLIENT }),
      400,
      'unauthorized_client',
      700016,
    );
    await expectTokenError(
      await browser.redeem(code, verifier, { clientId: v1ClientId }),
      400,
      'invalid_grant',
      70000,
    );
    await expectTokenError(await browser.redeem('not-a-code', verifier), 400, 'invalid_grant', 9002313);
  });

  it("a SPA's code obtained without a code challenge (AADSTS9002325)", async () => {
    const answer = await browser.pick(browser.authorizeUrl({ pkce: null }), 'Ada Admin');
    const code = redirectParams(answer).get('code') ?? '';
    await expectTokenError(await browser.redeem(code, undefined), 400, 'invalid_request', 9002325);
  });

  it("a SPA's code redeemed without an Origin header, i.e. not by a browser (AADSTS9002327)", async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    await expectTokenError(
      await browser.redeem(code, verifier, { origin: null }),
      400,
      'invalid_request',
      9002327,
    );
  });

  it('a code for a web redirect URI redeemed by a browser (AADSTS9002326), or without the secret', async () => {
    const options = { clientId: v1ClientId, redirectUri: WEB_REDIRECT_URI };
    const { code, verifier } = await browser.signIn('Ada Admin', options);
    await expectTokenError(await browser.redeem(code, verifier, options), 400, 'invalid_request', 9002326);
    await expectTokenError(
      await browser.redeem(code, verifier, { ...options, origin: null }),
      401,
      'invalid_client',
      7000218,
    );
  });
});

describe('refresh tokens', () => {
  it('renew the tokens from the browser, with a new refresh token that keeps the first one’s expiry', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    const first = await json(await browser.redeem(code, verifier));
    const response = await browser.refresh(String(first.refresh_token));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const second = await json(response);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(Number(second.refresh_token_expires_in)).toBeLessThanOrEqual(
      Number(first.refresh_token_expires_in),
    );
    expect((await auth.authenticate(`Bearer ${String(second.access_token)}`)).roles).toEqual([
      'EntraSync.Admin',
    ]);
    // On refresh the ID token carries no nonce.
    expect(decodeJwt(String(second.id_token)).nonce).toBeUndefined();

    // A role removed since the sign-in is gone from the next token.
    const ada = sim.signInUser('Ada Admin');
    ada.removeAppRole('EntraSync.Admin');
    try {
      const third = await json(await browser.refresh(String(second.refresh_token)));
      await expect(auth.authenticate(`Bearer ${String(third.access_token)}`)).rejects.toBeInstanceOf(
        ForbiddenError,
      );
    } finally {
      ada.assignAppRole('EntraSync.Admin');
    }
  });

  it('are refused without an Origin (AADSTS9002327) and when unknown (AADSTS9002313)', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    const body = await json(await browser.redeem(code, verifier));
    await expectTokenError(
      await browser.refresh(String(body.refresh_token), null),
      400,
      'invalid_request',
      9002327,
    );
    await expectTokenError(await browser.refresh('sim.rt.nonsense'), 400, 'invalid_grant', 9002313);
  });

  it('expire after the fixed SPA lifetime (AADSTS700084)', async () => {
    const short = await startSimulator({
      tenants: [{ users: 1, groups: 0 }],
      apps: [{ spaRedirectUris: [REDIRECT_URI] }],
      spaRefreshTokenLifetimeSeconds: 1,
    });
    try {
      const shortBrowser = new Browser(short);
      const { code, verifier } = await shortBrowser.signIn('Ada Admin');
      const tokens = await json(await shortBrowser.redeem(code, verifier));
      expect(tokens.refresh_token_expires_in).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expectTokenError(
        await shortBrowser.refresh(String(tokens.refresh_token)),
        400,
        'invalid_grant',
        700084,
      );
    } finally {
      await short.close();
    }
  });
});

describe('CORS on the token endpoint', () => {
  it('grants the preflight of a registered SPA origin, with the headers asked for, and nothing to others', async () => {
    const preflight = async (origin: string): Promise<Response> =>
      await browser.send(`${sim.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-anchormailbox',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type,x-anchormailbox');
    const refused = await preflight(OTHER_ORIGIN);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('does not let another origin read a token answer', async () => {
    const { code, verifier } = await browser.signIn('Ada Admin');
    const response = await browser.redeem(code, verifier, { origin: OTHER_ORIGIN });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the browser session: single sign-on, silent renewal, logout', () => {
  it('skips the picker when signed in, answers prompt=none, and shows the picker for prompt=login', async () => {
    const { cookie, params } = await browser.signIn('Ada Admin');
    const withCookie = { headers: { cookie } };
    const sso = await browser.send(browser.authorizeUrl(), withCookie);
    expect(redirectParams(sso).get('code')).toEqual(expect.any(String));

    const hints = {
      prompt: 'none',
      sid: params.get('session_state') ?? '',
      login_hint: sim.signInUser('Ada Admin').userPrincipalName,
    };
    const silent = redirectParams(await browser.send(browser.authorizeUrl({ extra: hints }), withCookie));
    expect(silent.get('code')).toEqual(expect.any(String));
    expect(silent.get('session_state')).toBe(params.get('session_state'));

    // Someone else's hint is not this session's user.
    const other = browser.authorizeUrl({ extra: { prompt: 'none', login_hint: 'pat.plain@x.example' } });
    expectRedirectError(await browser.send(other, withCookie), 'login_required', 50058);

    const again = await browser.send(browser.authorizeUrl({ extra: { prompt: 'login' } }), withCookie);
    expect(again.status).toBe(200);
  });

  it('logs out: back to a registered post_logout_redirect_uri with the state, and the session is over', async () => {
    const { cookie } = await browser.signIn('Ada Admin');
    const url = new URL(`${sim.authorityHost}/${tenantId}/oauth2/v2.0/logout`);
    url.searchParams.set('post_logout_redirect_uri', REDIRECT_URI);
    url.searchParams.set('state', 'bye');
    const response = await browser.send(url.toString(), { headers: { cookie } });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${REDIRECT_URI}?state=bye`);
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expectRedirectError(
      await browser.send(browser.authorizeUrl({ extra: { prompt: 'none' } }), { headers: { cookie } }),
      'login_required',
      50058,
    );

    url.searchParams.set('post_logout_redirect_uri', `${OTHER_ORIGIN}/`);
    const page = await browser.send(url.toString());
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('You signed out of your account');
  });
});

describe('the sign-in API', () => {
  it('describes how to configure MSAL and the admin API in info()', () => {
    const info = sim.info().signIn;
    expect(info).toMatchObject({
      clientId,
      tenantId,
      authority: `${sim.authorityHost}/${tenantId}`,
      knownAuthorities: [new URL(sim.authorityHost).host],
      scopes: [`api://${clientId}/.default`],
      apiAudience: `api://${clientId}`,
      spaRedirectUris: [REDIRECT_URI],
    });
    expect(info.users.map((u) => [u.displayName, u.appRoles])).toEqual([
      ['Ada Admin', ['EntraSync.Admin']],
      ['Pat Plain', []],
    ]);
  });

  it('adds SPA redirect URIs and sign-in users at runtime', async () => {
    sim.addSpaRedirectUri(`${OTHER_ORIGIN}/console/`);
    expect(() => {
      sim.addSpaRedirectUri('http://example.com/');
    }).toThrow(/https/);
    const grace = sim.addSignInUser({ displayName: 'Grace Hopper', appRoles: ['EntraSync.Admin'] });
    expect(grace.userPrincipalName).toBe(`grace.hopper@${sim.tenant().domain}`);
    const { code, verifier } = await browser.signIn('Grace Hopper', {
      redirectUri: `${OTHER_ORIGIN}/console/`,
    });
    const response = await browser.redeem(code, verifier, {
      origin: OTHER_ORIGIN,
      redirectUri: `${OTHER_ORIGIN}/console/`,
    });
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_ORIGIN);
    const body = await json(response);
    expect((await auth.authenticate(`Bearer ${String(body.access_token)}`)).name).toBe('Grace Hopper');
  });

  it('gives the same sign-in users the same ids on every run, and takes a list instead of the defaults', async () => {
    const [a, b] = await Promise.all([
      startSimulator({ tenants: [{ users: 1, groups: 0 }] }),
      startSimulator({ tenants: [{ users: 1, groups: 0 }], signInUsers: [{ displayName: 'Zoë Zed' }] }),
    ]);
    try {
      expect(a.signInUser('Ada Admin').objectId).toBe(sim.signInUser('Ada Admin').objectId);
      expect(b.signInUsers().map((u) => u.userPrincipalName)).toEqual([`zoe.zed@${b.tenant().domain}`]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
