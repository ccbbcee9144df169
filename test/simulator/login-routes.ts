import {
  aadError as aadErrorResponse,
  aadErrorPage,
  appNotFound,
  redirectMismatch,
  tenantNotFound,
} from './aad-errors.js';
import type { SimulatedApp } from './apps.js';
import { MULTI_TENANT_SEGMENTS, authorize, logout, signIn } from './authorize-routes.js';
import { origin, preflight, withHeaders } from './cors.js';
import { OIDC_SCOPES } from './delegated-scopes.js';
import { jsonResponse, header, type SimRequest, type SimResponse } from './http-types.js';
import type { LoginState } from './login-state.js';
import type { SignInUser } from './sign-in-users.js';
import type { SimulatedTenant } from './tenant-model.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, verifyClientAssertion, type TokenService } from './tokens.js';
import { redeemUserGrant } from './user-grants.js';

/**
 * The Microsoft identity platform endpoints EntraSync uses, per tenant (id or domain in the path):
 * OpenID metadata, keys, the token endpoint (client credentials with a secret or certificate; a user's
 * authorization code or refresh token: user-grants.ts), the authorization, sign-in and logout pages
 * (authorize-routes.ts) and the admin-consent page. Errors carry the AADSTS codes and the body fields
 * Entra sends.
 */

export interface LoginContext {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly tokens: TokenService;
  readonly tokenLifetimeSeconds: number;
  readonly spaRefreshTokenLifetimeSeconds: number;
  readonly state: LoginState;
  readonly tenants: readonly SimulatedTenant[];
  readonly apps: readonly SimulatedApp[];
  findTenant(segment: string): SimulatedTenant | undefined;
  /** The tenant whose admin signs in when the consent URL says 'organizations' or 'common'. */
  adminSignInTenant(): SimulatedTenant | undefined;
  findApp(clientId: string): SimulatedApp | undefined;
  signInUsers(tenant: SimulatedTenant): readonly SignInUser[];
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Discovery documents are public: any origin may read them, as a browser app does. */
const PUBLIC_CORS = { 'access-control-allow-origin': '*' };

function tokenError(
  req: SimRequest,
  ctx: LoginContext,
  status: number,
  error: string,
  code: number,
  text: string,
): SimResponse {
  return aadErrorResponse(req, ctx.authorityHost, { status, error, code, text });
}

function openIdConfiguration(ctx: LoginContext, segment: string): Record<string, unknown> {
  const base = `${ctx.authorityHost}/${segment}`;
  const issuerTenant = MULTI_TENANT_SEGMENTS.has(segment) ? '{tenantid}' : segment;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${ctx.authorityHost}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.graphBaseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver', 'email'],
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(ctx.authorityHost).host,
    cloud_graph_host_name: new URL(ctx.graphBaseUrl).host,
    msgraph_host: new URL(ctx.graphBaseUrl).host,
  };
}

/** The Graph resource a `.default` scope names, or undefined when it names something else. */
function graphResource(ctx: LoginContext, resource: string): string | undefined {
  const trimmed = resource.replace(/\/+$/, '');
  if (trimmed === ctx.graphBaseUrl || trimmed === GRAPH_RESOURCE || trimmed === GRAPH_APP_ID) return trimmed;
  return undefined;
}

async function token(req: SimRequest, ctx: LoginContext, segment: string): Promise<SimResponse> {
  const form = new URLSearchParams(req.body.toString('utf8'));
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code' || grantType === 'refresh_token')
    return await redeemUserGrant(req, ctx, segment, form);
  const tenant = ctx.findTenant(segment);
  if (!tenant) return tokenError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment));
  if (!grantType) {
    return tokenError(
      req,
      ctx,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'.",
    );
  }
  if (grantType !== 'client_credentials') {
    return tokenError(
      req,
      ctx,
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    );
  }

  let clientId = form.get('client_id');
  let clientSecret = form.get('client_secret');
  const basic = /^Basic\s+(.+)$/i.exec(header(req, 'authorization') ?? '');
  if (basic?.[1]) {
    const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    clientId ??= id ? decodeURIComponent(id) : null;
    clientSecret ??= secret ? decodeURIComponent(secret) : null;
  }
  if (!clientId) {
    return tokenError(
      req,
      ctx,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  }
  const app = ctx.findApp(clientId);
  // Entra looks the app up in the tenant first: an app not consented there has no service principal,
  // so the answer is "not found in the directory" whatever the credential.
  if (!app || !tenant.hasConsent(app.clientId)) {
    return tokenError(
      req,
      ctx,
      400,
      'unauthorized_client',
      700016,
      appNotFound(clientId, tenant.displayName),
    );
  }

  const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '' && !OIDC_SCOPES.has(s));
  if (scopes.length === 0) {
    return tokenError(
      req,
      ctx,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  }
  const scope = scopes[0] ?? '';
  if (scopes.length > 1 || !scope.endsWith('/.default')) {
    return tokenError(
      req,
      ctx,
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const resource = graphResource(ctx, scope.slice(0, -'/.default'.length));
  if (!resource) {
    return tokenError(
      req,
      ctx,
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${scope.slice(0, -'/.default'.length)} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }

  let credential: 'secret' | 'certificate';
  const assertion = form.get('client_assertion');
  if (assertion) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      return tokenError(
        req,
        ctx,
        400,
        'invalid_request',
        50027,
        'Invalid client_assertion_type; expected jwt-bearer.',
      );
    }
    const endpoints = [tenant.tenantId, tenant.domain, segment].map(
      (t) => `${ctx.authorityHost}/${t}/oauth2/v2.0/token`,
    );
    const check = await verifyClientAssertion(assertion, app, endpoints);
    if (!check.ok) return tokenError(req, ctx, 401, 'invalid_client', check.code, check.description);
    credential = 'certificate';
  } else if (clientSecret !== null) {
    if (clientSecret !== app.clientSecret) {
      return tokenError(
        req,
        ctx,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
    credential = 'secret';
  } else {
    return tokenError(
      req,
      ctx,
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }

  const issued = await ctx.tokens.issue({
    tenantId: tenant.tenantId,
    app,
    roles: tenant.grantedRoles(app.clientId) ?? [],
    audience: resource === ctx.graphBaseUrl ? ctx.graphBaseUrl : resource,
    credential,
    lifetimeSeconds: ctx.tokenLifetimeSeconds,
  });
  return jsonResponse(200, {
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ext_expires_in: issued.expiresIn,
    access_token: issued.accessToken,
  });
}

function redirect(location: string): SimResponse {
  return { status: 302, headers: { location, 'content-type': 'text/html; charset=utf-8' }, body: '' };
}

/**
 * GET /{tenant}/v2.0/adminconsent: an administrator of the tenant answers the consent prompt at once
 * with the tenant's configured decision, and the browser is sent back to the app's redirect URI.
 */
function adminConsent(req: SimRequest, ctx: LoginContext, segment: string): SimResponse {
  const lower = segment.toLowerCase();
  const tenant =
    lower === 'organizations' || lower === 'common' ? ctx.adminSignInTenant() : ctx.findTenant(segment);
  if (!tenant) return aadErrorPage(90002, tenantNotFound(segment));
  const query = req.url.searchParams;
  const clientId = query.get('client_id');
  if (!clientId)
    return aadErrorPage(900144, "The request body must contain the following parameter: 'client_id'.");
  const app = ctx.findApp(clientId);
  if (!app) return aadErrorPage(700016, appNotFound(clientId, tenant.displayName));
  const redirectUri = query.get('redirect_uri') ?? [...app.redirectUris][0];
  if (!redirectUri) return aadErrorPage(500113, 'No reply address is registered for the application.');
  if (!app.redirectUris.has(redirectUri)) {
    return aadErrorPage(50011, redirectMismatch(redirectUri, app.clientId));
  }
  const target = new URL(redirectUri);
  const state = query.get('state');
  if (tenant.consentDecision === 'grant') {
    tenant.grantConsent(app.clientId, app.roles);
    target.searchParams.set('admin_consent', 'True');
    target.searchParams.set('tenant', tenant.tenantId);
    target.searchParams.set('scope', query.get('scope') ?? `${GRAPH_RESOURCE}/.default`);
  } else {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_subcode', 'cancel');
    target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
  }
  if (state !== null) target.searchParams.set('state', state);
  return redirect(target.toString());
}

/** The tenant a metadata or keys path names, or the multi-tenant segment; undefined when unknown. */
function discoverySegment(ctx: LoginContext, segment: string): string | undefined {
  const lower = segment.toLowerCase();
  return MULTI_TENANT_SEGMENTS.has(lower) ? lower : ctx.findTenant(segment)?.tenantId;
}

/** The origin a token-endpoint preflight may be granted: that of any app's SPA redirect URI. */
function spaOrigin(req: SimRequest, ctx: LoginContext): string | undefined {
  const from = origin(req);
  return from !== undefined && ctx.apps.some((app) => app.isSpaOrigin(from)) ? from : undefined;
}

/** Answers a login route, or returns undefined when the path is not one. */
export async function handleLogin(req: SimRequest, ctx: LoginContext): Promise<SimResponse | undefined> {
  const [segment, ...rest] = req.segments;
  if (!segment) return undefined;
  const route = rest.join('/').toLowerCase();
  const method = req.method;

  if (route === 'v2.0/.well-known/openid-configuration' || route === '.well-known/openid-configuration') {
    if (method === 'OPTIONS') return preflight(req, '*');
    if (method !== 'GET') return undefined;
    const tenant = discoverySegment(ctx, segment);
    if (!tenant)
      return withHeaders(
        tokenError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment)),
        PUBLIC_CORS,
      );
    return jsonResponse(200, openIdConfiguration(ctx, tenant), PUBLIC_CORS);
  }
  if (route === 'discovery/v2.0/keys') {
    if (method === 'OPTIONS') return preflight(req, '*');
    if (method !== 'GET') return undefined;
    if (!discoverySegment(ctx, segment))
      return withHeaders(
        tokenError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment)),
        PUBLIC_CORS,
      );
    return jsonResponse(200, ctx.tokens.jwks(), PUBLIC_CORS);
  }
  if (route === 'oauth2/v2.0/token') {
    if (method === 'OPTIONS') return preflight(req, spaOrigin(req, ctx));
    if (method !== 'POST')
      return tokenError(req, ctx, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    return await token(req, ctx, segment);
  }
  if (route === 'oauth2/v2.0/authorize' && (method === 'GET' || method === 'POST'))
    return authorize(req, ctx, segment);
  if (route === 'login' && method === 'POST') return signIn(req, ctx);
  if (route === 'oauth2/v2.0/logout' && (method === 'GET' || method === 'POST')) return logout(req, ctx);
  if (method === 'GET' && (route === 'v2.0/adminconsent' || route === 'adminconsent'))
    return adminConsent(req, ctx, segment);
  return undefined;
}
