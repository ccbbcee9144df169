import { createHash } from 'node:crypto';
import { aadError, appNotFound, missingParameter, tenantNotFound, type AadFailure } from './aad-errors.js';
import type { SimulatedApp } from './apps.js';
import { tenantsFor } from './authorize-routes.js';
import { allowOrigin, origin } from './cors.js';
import { resolveScopes } from './delegated-scopes.js';
import { jsonResponse, type SimRequest, type SimResponse } from './http-types.js';
import type { LoginContext } from './login-routes.js';
import type { RefreshGrant } from './login-state.js';
import type { SignInUser } from './sign-in-users.js';
import { accessTokenClaims, idTokenClaims, type UserTokenSubject } from './user-tokens.js';

/**
 * The token endpoint's user grants: authorization_code (with PKCE) and refresh_token. A code or refresh
 * token issued for a single-page-app redirect URI is redeemable only cross-origin (an Origin header),
 * with no secret; one for a web redirect URI only with the client secret and no Origin. Codes are single
 * use; SPA refresh tokens keep the 24-hour lifetime of the sign-in they came from, however often they
 * are renewed. Error codes and texts as Entra answers.
 */

type Outcome =
  | { readonly ok: true; readonly response: SimResponse }
  | { readonly ok: false; readonly failure: AadFailure };

const invalidGrant = (code: number, text: string): AadFailure => ({ error: 'invalid_grant', code, text });
const MALFORMED_GRANT = invalidGrant(9002313, 'Invalid request. Request is malformed or invalid.');
const FOREIGN_GRANT = invalidGrant(70000, 'Provided grant is invalid or malformed.');

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Entra's rules on where a code or refresh token may be redeemed; undefined when the request may. */
function platformFailure(
  spa: boolean,
  requestOrigin: string | undefined,
  app: SimulatedApp,
  form: URLSearchParams,
): AadFailure | undefined {
  if (spa) {
    if (requestOrigin === undefined) {
      return {
        error: 'invalid_request',
        code: 9002327,
        text: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
      };
    }
    return undefined;
  }
  if (requestOrigin !== undefined) {
    return {
      error: 'invalid_request',
      code: 9002326,
      text: `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${requestOrigin}'.`,
    };
  }
  const secret = form.get('client_secret');
  if (secret === null) {
    return {
      error: 'invalid_client',
      code: 7000218,
      status: 401,
      text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    };
  }
  if (secret !== app.clientSecret) {
    return {
      error: 'invalid_client',
      code: 7000215,
      status: 401,
      text: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    };
  }
  return undefined;
}

interface Issue {
  readonly app: SimulatedApp;
  readonly tenantId: string;
  readonly user: SignInUser;
  readonly sessionId: string;
  /** Scopes of this request (or of the sign-in, when the request names none). */
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly spa: boolean;
  /** A refresh keeps the original expiry; a code starts a new one. */
  readonly refreshExpiresAt: number | undefined;
  readonly clientInfo: boolean;
}

async function issueTokens(ctx: LoginContext, issue: Issue): Promise<Outcome> {
  const tenant = ctx.findTenant(issue.tenantId);
  const resolution = resolveScopes(
    {
      graphBaseUrl: ctx.graphBaseUrl,
      apps: ctx.apps,
      clientName: issue.app.displayName,
      tenantName: tenant?.displayName ?? issue.tenantId,
    },
    issue.scopes,
  );
  if (!resolution.ok) return { ok: false, failure: resolution.failure };
  const { oidc, resource } = resolution;
  const subject: UserTokenSubject = {
    authorityHost: ctx.authorityHost,
    tenantId: issue.tenantId,
    client: issue.app,
    user: issue.user,
    sessionId: issue.sessionId,
    lifetimeSeconds: ctx.tokenLifetimeSeconds,
  };
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [...resource.granted, ...oidc].join(' '),
    expires_in: ctx.tokenLifetimeSeconds,
    ext_expires_in: ctx.tokenLifetimeSeconds,
    access_token: await ctx.tokens.sign(accessTokenClaims(subject, resource)),
  };
  if (oidc.has('offline_access')) {
    const lifetimeMs = ctx.spaRefreshTokenLifetimeSeconds * 1000;
    const grant: RefreshGrant = {
      clientId: issue.app.clientId,
      tenantId: issue.tenantId,
      userObjectId: issue.user.objectId,
      sessionId: issue.sessionId,
      scopes: issue.scopes,
      spa: issue.spa,
      expiresAt: issue.refreshExpiresAt ?? Date.now() + lifetimeMs,
    };
    body.refresh_token = ctx.state.issueRefreshToken(grant);
    if (issue.spa) {
      body.refresh_token_expires_in = Math.max(0, Math.floor((grant.expiresAt - Date.now()) / 1000));
    }
  }
  if (oidc.has('openid')) body.id_token = await ctx.tokens.sign(idTokenClaims(subject, issue.nonce));
  if (issue.clientInfo) body.client_info = issue.user.clientInfo();
  return { ok: true, response: jsonResponse(200, body, { 'cache-control': 'no-store' }) };
}

function userOf(ctx: LoginContext, tenantId: string, objectId: string): SignInUser | undefined {
  const tenant = ctx.findTenant(tenantId);
  return tenant ? ctx.signInUsers(tenant).find((u) => u.objectId === objectId) : undefined;
}

function requestScopes(form: URLSearchParams, fallback: readonly string[]): readonly string[] {
  const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
  return scopes.length > 0 ? scopes : fallback;
}

async function redeemCode(
  req: SimRequest,
  ctx: LoginContext,
  app: SimulatedApp,
  tenantIds: readonly string[],
  form: URLSearchParams,
): Promise<Outcome> {
  const code = form.get('code');
  if (!code) return { ok: false, failure: missingParameter('code') };
  const grant = ctx.state.code(code);
  if (!grant) return { ok: false, failure: MALFORMED_GRANT };
  if (grant.request.clientId !== app.clientId || !tenantIds.includes(grant.tenantId))
    return { ok: false, failure: FOREIGN_GRANT };
  if (grant.redeemed) {
    return {
      ok: false,
      failure: invalidGrant(
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      ),
    };
  }
  if (grant.expiresAt <= Date.now()) {
    return {
      ok: false,
      failure: invalidGrant(
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      ),
    };
  }
  const redirectUri = form.get('redirect_uri');
  if (!redirectUri) return { ok: false, failure: missingParameter('redirect_uri') };
  if (redirectUri !== grant.request.redirectUri) {
    return {
      ok: false,
      failure: invalidGrant(
        500112,
        `The reply address '${redirectUri}' does not match the reply address '${grant.request.redirectUri}' provided when requesting Authorization code.`,
      ),
    };
  }
  const spa = app.spaRedirectUris.has(grant.request.redirectUri);
  const platform = platformFailure(spa, origin(req), app, form);
  if (platform) return { ok: false, failure: platform };

  const { codeChallenge, codeChallengeMethod } = grant.request;
  if (codeChallenge === undefined) {
    if (spa) {
      return {
        ok: false,
        failure: {
          error: 'invalid_request',
          code: 9002325,
          text: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
        },
      };
    }
  } else {
    const verifier = form.get('code_verifier') ?? '';
    const computed = codeChallengeMethod === 'S256' ? s256(verifier) : verifier;
    if (computed !== codeChallenge) {
      return {
        ok: false,
        failure: invalidGrant(
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        ),
      };
    }
  }
  const user = userOf(ctx, grant.tenantId, grant.userObjectId);
  if (!user) return { ok: false, failure: FOREIGN_GRANT };
  // Spent only once every check passed: a request that fails can be corrected and sent again.
  grant.redeemed = true;
  return await issueTokens(ctx, {
    app,
    tenantId: grant.tenantId,
    user,
    sessionId: grant.sessionId,
    scopes: requestScopes(form, grant.request.scopes),
    nonce: grant.request.nonce,
    spa,
    refreshExpiresAt: undefined,
    clientInfo: form.get('client_info') === '1',
  });
}

async function redeemRefreshToken(
  req: SimRequest,
  ctx: LoginContext,
  app: SimulatedApp,
  tenantIds: readonly string[],
  form: URLSearchParams,
): Promise<Outcome> {
  const token = form.get('refresh_token');
  if (!token) return { ok: false, failure: missingParameter('refresh_token') };
  const grant = ctx.state.refreshToken(token);
  if (!grant) return { ok: false, failure: MALFORMED_GRANT };
  if (grant.clientId !== app.clientId || !tenantIds.includes(grant.tenantId))
    return { ok: false, failure: FOREIGN_GRANT };
  const platform = platformFailure(grant.spa, origin(req), app, form);
  if (platform) return { ok: false, failure: platform };
  if (grant.expiresAt <= Date.now()) {
    const hours = ctx.spaRefreshTokenLifetimeSeconds / 3600;
    return {
      ok: false,
      failure: grant.spa
        ? invalidGrant(
            700084,
            `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ${hours} hours, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page.`,
          )
        : invalidGrant(
            70008,
            'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
          ),
    };
  }
  const user = userOf(ctx, grant.tenantId, grant.userObjectId);
  if (!user) return { ok: false, failure: FOREIGN_GRANT };
  return await issueTokens(ctx, {
    app,
    tenantId: grant.tenantId,
    user,
    sessionId: grant.sessionId,
    scopes: requestScopes(form, grant.scopes),
    nonce: undefined,
    spa: grant.spa,
    refreshExpiresAt: grant.expiresAt,
    clientInfo: form.get('client_info') === '1',
  });
}

/**
 * POST /{tenant}/oauth2/v2.0/token with grant_type authorization_code or refresh_token. Answers carry
 * CORS headers when the request comes from the origin of one of the app's SPA redirect URIs.
 */
export async function redeemUserGrant(
  req: SimRequest,
  ctx: LoginContext,
  segment: string,
  form: URLSearchParams,
): Promise<SimResponse> {
  const requestOrigin = origin(req);
  const clientId = form.get('client_id');
  const app = clientId ? ctx.findApp(clientId) : undefined;
  const cors =
    app && requestOrigin !== undefined && app.isSpaOrigin(requestOrigin) ? allowOrigin(requestOrigin) : {};
  const fail = (failure: AadFailure): SimResponse => aadError(req, ctx.authorityHost, failure, cors);

  const tenants = tenantsFor(ctx, segment);
  if (!tenants) return fail({ error: 'invalid_tenant', code: 90002, text: tenantNotFound(segment) });
  if (!clientId) return fail(missingParameter('client_id'));
  if (!app) {
    const directory = tenants.length === 1 && tenants[0] ? tenants[0].displayName : segment;
    return fail({ error: 'unauthorized_client', code: 700016, text: appNotFound(clientId, directory) });
  }
  const tenantIds = tenants.map((t) => t.tenantId);
  const outcome =
    form.get('grant_type') === 'authorization_code'
      ? await redeemCode(req, ctx, app, tenantIds, form)
      : await redeemRefreshToken(req, ctx, app, tenantIds, form);
  if (!outcome.ok) return fail(outcome.failure);
  return { ...outcome.response, headers: { ...outcome.response.headers, ...cors } };
}
