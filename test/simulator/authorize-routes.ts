import { decodeJwt } from 'jose';
import {
  aadErrorPage,
  aadRedirectError,
  appNotFound,
  missingParameter,
  redirectMismatch,
  tenantNotFound,
  type AadFailure,
} from './aad-errors.js';
import type { SimulatedApp } from './apps.js';
import { resolveScopes } from './delegated-scopes.js';
import { header, type SimRequest, type SimResponse } from './http-types.js';
import type { LoginContext } from './login-routes.js';
import type { AuthorizationRequest, BrowserSession, ResponseMode } from './login-state.js';
import { formPostPage, messagePage, signInPage, signedOutPage } from './sign-in-page.js';
import type { SignInUser } from './sign-in-users.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * The interactive half of the authorization code flow, as a browser meets it: /authorize (GET, or POST
 * as MSAL can send it) checks the app and redirect URI, shows an account picker, and sends the browser
 * back with a one-time code; /login receives the picker's form; /logout ends the session. A session
 * cookie lets prompt=none (MSAL's silent iframe) and a repeated sign-in go through without the picker.
 * Signing in does not wait for the tenant's admin consent to the app's Graph permissions: a console must
 * sign its administrator in before that administrator can start the consent.
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 */

export const SESSION_COOKIE = 'sim_estsauth';
/** Paths that serve every tenant at once; their metadata names `{tenantid}` in place of one. */
export const MULTI_TENANT_SEGMENTS: ReadonlySet<string> = new Set(['common', 'organizations']);
const RESPONSE_MODES = new Set<string>(['query', 'fragment', 'form_post']);
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PLAIN_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/** The tenants whose users may answer a request addressed to a path segment; undefined if unknown. */
export function tenantsFor(ctx: LoginContext, segment: string): readonly SimulatedTenant[] | undefined {
  if (MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())) return ctx.tenants;
  const tenant = ctx.findTenant(segment);
  return tenant ? [tenant] : undefined;
}

/** Query parameters, overlaid by the form body of a POST (MSAL's POST keeps a few in the query). */
function requestParams(req: SimRequest): URLSearchParams {
  const params = new URLSearchParams(req.url.searchParams);
  if (req.method === 'POST') {
    for (const [name, value] of new URLSearchParams(req.body.toString('utf8'))) params.set(name, value);
  }
  return params;
}

function sessionCookie(req: SimRequest): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === SESSION_COOKIE && value) return value;
  }
  return undefined;
}

/**
 * SameSite=None and Secure: MSAL's silent renewal loads /authorize in an iframe of the app, a
 * cross-site context whenever the app is served over http.
 */
function setSessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=None`;
}

const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0`;

/** Sends the browser back to the app with the response parameters, as the response mode says. */
function respond(
  redirectUri: string,
  mode: ResponseMode,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): SimResponse {
  if (mode === 'form_post') {
    const page = formPostPage(redirectUri, params);
    return { ...page, headers: { ...page.headers, ...headers } };
  }
  let location: string;
  if (mode === 'fragment') {
    location = `${redirectUri.split('#')[0] ?? redirectUri}#${new URLSearchParams(params).toString()}`;
  } else {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    location = url.toString();
  }
  return { status: 302, headers: { location, 'cache-control': 'no-store', ...headers }, body: '' };
}

function registered(app: SimulatedApp, uri: string): boolean {
  return app.spaRedirectUris.has(uri) || app.redirectUris.has(uri);
}

interface Validated {
  readonly request: AuthorizationRequest;
  readonly app: SimulatedApp;
  readonly tenants: readonly SimulatedTenant[];
}

/**
 * Checks an /authorize request. Until the client and redirect URI are known good the answer is an
 * error page (an unchecked redirect URI must not receive anything); after that, errors go back to it.
 */
function validate(ctx: LoginContext, segment: string, params: URLSearchParams): Validated | SimResponse {
  const tenants = tenantsFor(ctx, segment);
  if (!tenants) return aadErrorPage(90002, tenantNotFound(segment));
  const clientId = params.get('client_id');
  if (!clientId) return aadErrorPage(900144, missingParameter('client_id').text);
  const app = ctx.findApp(clientId);
  if (!app) {
    const directory = tenants.length === 1 && tenants[0] ? tenants[0].displayName : segment;
    return aadErrorPage(700016, appNotFound(clientId, directory));
  }
  const redirectUri =
    params.get('redirect_uri') ?? [...app.spaRedirectUris, ...app.redirectUris][0] ?? undefined;
  if (redirectUri === undefined)
    return aadErrorPage(500113, 'No reply address is registered for the application.');
  if (!registered(app, redirectUri)) return aadErrorPage(50011, redirectMismatch(redirectUri, app.clientId));

  const modeParam = params.get('response_mode') ?? 'query';
  const responseMode: ResponseMode = RESPONSE_MODES.has(modeParam) ? (modeParam as ResponseMode) : 'query';
  const state = params.get('state') ?? undefined;
  const fail = (failure: AadFailure): SimResponse =>
    respond(redirectUri, responseMode, {
      ...aadRedirectError(ctx.authorityHost, failure),
      ...(state === undefined ? {} : { state }),
    });
  const malformed: AadFailure = {
    error: 'invalid_request',
    code: 9002313,
    text: 'Invalid request. Request is malformed or invalid.',
  };

  if (!RESPONSE_MODES.has(modeParam)) return fail(malformed);
  const responseType = params.get('response_type');
  if (!responseType) return fail(missingParameter('response_type'));
  if (responseType !== 'code') {
    return fail({
      error: 'unsupported_response_type',
      code: 700054,
      text: `response_type '${responseType}' is not enabled for the application.`,
    });
  }
  const scopes = (params.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
  if (scopes.length === 0) return fail(missingParameter('scope'));
  const resolution = resolveScopes(
    {
      graphBaseUrl: ctx.graphBaseUrl,
      apps: ctx.apps,
      clientName: app.displayName,
      tenantName: tenants[0]?.displayName ?? segment,
    },
    scopes,
  );
  if (!resolution.ok) return fail(resolution.failure);

  // PKCE as RFC 7636 has it: the method defaults to plain. A SPA's code without a challenge is refused
  // at the token endpoint (AADSTS9002325), which is where Entra refuses it too.
  const codeChallenge = params.get('code_challenge') ?? undefined;
  const method = params.get('code_challenge_method') ?? (codeChallenge === undefined ? undefined : 'plain');
  if (method !== undefined) {
    if (codeChallenge === undefined) return fail(missingParameter('code_challenge'));
    if (method !== 'S256' && method !== 'plain') return fail(malformed);
    if (!(method === 'S256' ? S256_CHALLENGE : PLAIN_CHALLENGE).test(codeChallenge)) return fail(malformed);
  }

  return {
    app,
    tenants,
    request: {
      clientId: app.clientId,
      redirectUri,
      responseMode,
      scopes,
      state,
      nonce: params.get('nonce') ?? undefined,
      codeChallenge,
      codeChallengeMethod: method,
      clientInfo: params.get('client_info') === '1',
      tenantIds: tenants.map((t) => t.tenantId),
    },
  };
}

function findUser(
  ctx: LoginContext,
  tenantIds: readonly string[],
  objectId: string,
): { tenant: SimulatedTenant; user: SignInUser } | undefined {
  for (const tenantId of tenantIds) {
    const tenant = ctx.findTenant(tenantId);
    const user = tenant ? ctx.signInUsers(tenant).find((u) => u.objectId === objectId) : undefined;
    if (tenant && user) return { tenant, user };
  }
  return undefined;
}

/** Issues the code for a signed-in user and sends the browser back to the app. */
function complete(
  ctx: LoginContext,
  request: AuthorizationRequest,
  session: BrowserSession,
  user: SignInUser,
  headers: Record<string, string> = {},
): SimResponse {
  const app = ctx.findApp(request.clientId);
  if (app?.appRoleAssignmentRequired && user.rolesIn(app).length === 0) {
    return aadErrorPage(
      50105,
      `Your administrator has configured the application ${app.displayName} ('${app.clientId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '${user.userPrincipalName}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.`,
    );
  }
  const code = ctx.state.issueCode(request, session);
  return respond(
    request.redirectUri,
    request.responseMode,
    {
      code,
      ...(request.clientInfo ? { client_info: user.clientInfo() } : {}),
      ...(request.state === undefined ? {} : { state: request.state }),
      session_state: session.id,
    },
    headers,
  );
}

/** GET or POST /{tenant}/oauth2/v2.0/authorize. */
export function authorize(req: SimRequest, ctx: LoginContext, segment: string): SimResponse {
  const params = requestParams(req);
  const validated = validate(ctx, segment, params);
  if (!('request' in validated)) return validated;
  const { request, app } = validated;

  // The browser's session counts if its user may answer this request and still exists.
  const session = ctx.state.session(sessionCookie(req));
  const signedIn = session ? findUser(ctx, request.tenantIds, session.userObjectId) : undefined;
  const hint = params.get('login_hint')?.toLowerCase();
  const sid = params.get('sid');
  const matches =
    session !== undefined &&
    signedIn !== undefined &&
    (sid === null || sid === session.id) &&
    (hint === undefined || hint === signedIn.user.userPrincipalName);
  const prompt = params.get('prompt');

  if (prompt === 'none') {
    if (!matches) {
      return respond(request.redirectUri, request.responseMode, {
        ...aadRedirectError(ctx.authorityHost, {
          error: 'login_required',
          code: 50058,
          text: "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD.",
        }),
        ...(request.state === undefined ? {} : { state: request.state }),
      });
    }
    return complete(ctx, request, session, signedIn.user);
  }
  // Single sign-on: a signed-in browser is not asked again unless the app wants it to be.
  if (prompt === null && matches) return complete(ctx, request, session, signedIn.user);

  const accounts = request.tenantIds.flatMap((tenantId) => {
    const tenant = ctx.findTenant(tenantId);
    return tenant
      ? ctx.signInUsers(tenant).map((u) => ({
          objectId: u.objectId,
          displayName: u.displayName,
          userPrincipalName: u.userPrincipalName,
          tenantName: tenant.displayName,
        }))
      : [];
  });
  return signInPage({
    action: `/${encodeURIComponent(segment)}/login`,
    requestId: ctx.state.addPending(request),
    appName: app.displayName,
    accounts,
  });
}

/** POST /{tenant}/login: the account picker's answer. */
export function signIn(req: SimRequest, ctx: LoginContext): SimResponse {
  const form = new URLSearchParams(req.body.toString('utf8'));
  const request = ctx.state.takePending(form.get('request') ?? '');
  if (!request) {
    return messagePage(
      'This sign-in request has expired',
      'The request was already answered or is more than 10 minutes old. Start again from the application.',
      400,
    );
  }
  const state: Record<string, string> = request.state === undefined ? {} : { state: request.state };
  if (form.get('cancel') !== null) {
    return respond(request.redirectUri, request.responseMode, {
      error: 'access_denied',
      error_subcode: 'cancel',
      error_description: 'AADSTS65004: User declined to consent to access the app.',
      ...state,
    });
  }
  const found = findUser(ctx, request.tenantIds, (form.get('user') ?? '').toLowerCase());
  if (!found) return messagePage('Account not found', 'Pick one of the accounts listed on the page.', 400);
  const session = ctx.state.startSession(found.tenant.tenantId, found.user.objectId);
  return complete(ctx, request, session, found.user, { 'set-cookie': setSessionCookie(session.id) });
}

/** The app a logout names, by client_id or by the audience of its id_token_hint. */
function logoutClient(ctx: LoginContext, params: URLSearchParams): SimulatedApp | undefined {
  const clientId = params.get('client_id');
  if (clientId) return ctx.findApp(clientId);
  const hint = params.get('id_token_hint');
  if (!hint) return undefined;
  try {
    const { aud } = decodeJwt(hint);
    return typeof aud === 'string' ? ctx.findApp(aud) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GET (or POST) /{tenant}/oauth2/v2.0/logout: ends the browser's session, then returns to
 * post_logout_redirect_uri if the app registered it as a redirect URI, else shows the signed-out page.
 */
export function logout(req: SimRequest, ctx: LoginContext): SimResponse {
  const params = requestParams(req);
  ctx.state.endSession(sessionCookie(req));
  const headers = { 'set-cookie': CLEAR_SESSION_COOKIE };
  const target = params.get('post_logout_redirect_uri');
  const client = logoutClient(ctx, params);
  const candidates = client ? [client] : ctx.apps;
  if (target !== null && candidates.some((app) => registered(app, target))) {
    const state = params.get('state');
    return respond(target, 'query', state === null ? {} : { state }, headers);
  }
  const page = signedOutPage();
  return { ...page, headers: { ...page.headers, ...headers } };
}
