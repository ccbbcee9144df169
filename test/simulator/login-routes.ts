import { randomUUID } from 'node:crypto';
import type { SimulatedApp } from './apps.js';
import { escapeHtml, header, jsonResponse, type SimRequest, type SimResponse } from './http-types.js';
import type { SimulatedTenant } from './tenant-model.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, verifyClientAssertion, type TokenService } from './tokens.js';

/**
 * The Microsoft identity platform endpoints EntraSync uses, per tenant (id or domain in the path):
 * OpenID metadata, keys, the client-credentials token endpoint (secret or certificate) and the
 * admin-consent page. Errors carry the AADSTS codes and the body fields Entra sends.
 */

export interface LoginContext {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly tokens: TokenService;
  readonly tokenLifetimeSeconds: number;
  findTenant(segment: string): SimulatedTenant | undefined;
  /** The tenant whose admin signs in when the consent URL says 'organizations' or 'common'. */
  adminSignInTenant(): SimulatedTenant | undefined;
  findApp(clientId: string): SimulatedApp | undefined;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Scopes MSAL may add to any request; client credentials ignore them. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

function aadTimestamp(now = new Date()): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The JSON error Entra's token endpoint answers with. */
function aadError(
  req: SimRequest,
  ctx: LoginContext,
  status: number,
  error: string,
  code: number,
  text: string,
): SimResponse {
  const traceId = randomUUID();
  const correlationId = req.clientRequestId ?? randomUUID();
  const timestamp = aadTimestamp();
  return jsonResponse(status, {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${ctx.authorityHost}/error?code=${code}`,
  });
}

/** The HTML error page a browser sees on the sign-in and consent pages. */
function aadErrorPage(code: number, text: string): SimResponse {
  const message = `AADSTS${code}: ${text}`;
  return {
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body:
      `<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>` +
      `<h1>Sorry, but we’re having trouble signing you in.</h1><p id="error">${escapeHtml(message)}</p>` +
      `<p>Error code: AADSTS${code}</p></body></html>`,
  };
}

function tenantNotFound(segment: string): string {
  return `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}

function appNotFound(clientId: string, tenant: SimulatedTenant): string {
  return `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`;
}

function openIdConfiguration(ctx: LoginContext, tenant: SimulatedTenant): Record<string, unknown> {
  const base = `${ctx.authorityHost}/${tenant.tenantId}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
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
  const tenant = ctx.findTenant(segment);
  if (!tenant) return aadError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment));
  const form = new URLSearchParams(req.body.toString('utf8'));
  const grantType = form.get('grant_type');
  if (!grantType) {
    return aadError(
      req,
      ctx,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'.",
    );
  }
  if (grantType !== 'client_credentials') {
    return aadError(
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
    return aadError(
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
    return aadError(req, ctx, 400, 'unauthorized_client', 700016, appNotFound(clientId, tenant));
  }

  const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '' && !OIDC_SCOPES.has(s));
  if (scopes.length === 0) {
    return aadError(
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
    return aadError(
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
    return aadError(
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
      return aadError(
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
    if (!check.ok) return aadError(req, ctx, 401, 'invalid_client', check.code, check.description);
    credential = 'certificate';
  } else if (clientSecret !== null) {
    if (clientSecret !== app.clientSecret) {
      return aadError(
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
    return aadError(
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
  if (!app) return aadErrorPage(700016, appNotFound(clientId, tenant));
  const redirectUri = query.get('redirect_uri') ?? [...app.redirectUris][0];
  if (!redirectUri) return aadErrorPage(500113, 'No reply address is registered for the application.');
  if (!app.redirectUris.has(redirectUri)) {
    return aadErrorPage(
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    );
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

/** Answers a login route, or returns undefined when the path is not one. */
export async function handleLogin(req: SimRequest, ctx: LoginContext): Promise<SimResponse | undefined> {
  const [segment, ...rest] = req.segments;
  if (!segment) return undefined;
  const route = rest.join('/').toLowerCase();
  const method = req.method;

  if (
    method === 'GET' &&
    (route === 'v2.0/.well-known/openid-configuration' || route === '.well-known/openid-configuration')
  ) {
    const tenant = ctx.findTenant(segment);
    if (!tenant) return aadError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment));
    return jsonResponse(200, openIdConfiguration(ctx, tenant));
  }
  if (method === 'GET' && route === 'discovery/v2.0/keys') {
    if (!ctx.findTenant(segment))
      return aadError(req, ctx, 400, 'invalid_tenant', 90002, tenantNotFound(segment));
    return jsonResponse(200, ctx.tokens.jwks());
  }
  if (route === 'oauth2/v2.0/token') {
    if (method !== 'POST')
      return aadError(req, ctx, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    return await token(req, ctx, segment);
  }
  if (method === 'GET' && (route === 'v2.0/adminconsent' || route === 'adminconsent'))
    return adminConsent(req, ctx, segment);
  return undefined;
}
