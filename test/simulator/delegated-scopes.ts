import type { AadFailure } from './aad-errors.js';
import type { SimulatedApp } from './apps.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE } from './tokens.js';

/**
 * The scopes of a user sign-in, resolved to the one resource an access token is for: an app's exposed
 * API (`api://<client id>/access_as_admin`, `<client id>/.default`, ...) or Microsoft Graph (`User.Read`,
 * `https://graph.microsoft.com/...`, or nothing but OIDC scopes, for which Entra issues a Graph token).
 */

export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'offline_access', 'email']);

export interface ResolvedResource {
  /** The access token's aud. */
  readonly audience: string;
  /** The app whose API it is (the token's roles come from it); undefined for Graph. */
  readonly app: SimulatedApp | undefined;
  readonly version: 1 | 2;
  /** The delegated permissions: the scp claim. */
  readonly scp: readonly string[];
  /** The token response's scope: the permissions granted, in the resource's own form. */
  readonly granted: readonly string[];
}

export type ScopeResolution =
  | { readonly ok: true; readonly oidc: ReadonlySet<string>; readonly resource: ResolvedResource }
  | { readonly ok: false; readonly failure: AadFailure };

export interface ScopeContext {
  readonly graphBaseUrl: string;
  readonly apps: readonly SimulatedApp[];
  readonly clientName: string;
  readonly tenantName: string;
}

function split(scope: string): { resource: string | undefined; value: string } {
  const slash = scope.lastIndexOf('/');
  // A scope without a resource is Graph's, as Entra reads `User.Read`.
  return slash < 0
    ? { resource: undefined, value: scope }
    : { resource: scope.slice(0, slash), value: scope.slice(slash + 1) };
}

function isGraph(ctx: ScopeContext, resource: string | undefined): boolean {
  if (resource === undefined) return true;
  const trimmed = resource.replace(/\/+$/, '').toLowerCase();
  return trimmed === ctx.graphBaseUrl.toLowerCase() || trimmed === GRAPH_RESOURCE || trimmed === GRAPH_APP_ID;
}

function graphResource(values: readonly string[], oidc: ReadonlySet<string>): ResolvedResource {
  const named = values.filter((v) => v !== '.default');
  const scp = named.length > 0 ? named : ['User.Read'];
  const identity = ['openid', 'profile', 'email'].filter((s) => oidc.has(s));
  return { audience: GRAPH_APP_ID, app: undefined, version: 1, scp: [...identity, ...scp], granted: scp };
}

function apiResource(
  ctx: ScopeContext,
  app: SimulatedApp,
  resource: string,
  values: readonly string[],
): ResolvedResource | AadFailure {
  const scp: string[] = [];
  for (const value of values) {
    if (value === '.default') {
      scp.push(...app.apiScopes);
      continue;
    }
    const known = app.apiScopes.find((s) => s.toLowerCase() === value.toLowerCase());
    if (known === undefined) {
      return {
        error: 'invalid_scope',
        code: 650053,
        text: `The application '${ctx.clientName}' asked for scope '${value}' that doesn't exist on the resource '${app.clientId}'. Contact the app vendor.`,
      };
    }
    scp.push(known);
  }
  const unique = [...new Set(scp)];
  return {
    // v2.0 tokens name the API by client id, v1.0 ones by its Application ID URI.
    audience: app.accessTokenVersion === 2 ? app.clientId : app.identifierUri,
    app,
    version: app.accessTokenVersion,
    scp: unique,
    granted: unique.length > 0 ? unique.map((s) => `${app.identifierUri}/${s}`) : [`${resource}/.default`],
  };
}

export function resolveScopes(ctx: ScopeContext, scopes: readonly string[]): ScopeResolution {
  const oidc = new Set(scopes.filter((s) => OIDC_SCOPES.has(s.toLowerCase())).map((s) => s.toLowerCase()));
  const groups = new Map<string, { app: SimulatedApp | undefined; resource: string; values: string[] }>();
  for (const scope of scopes) {
    if (OIDC_SCOPES.has(scope.toLowerCase())) continue;
    const { resource, value } = split(scope);
    let key: string;
    let app: SimulatedApp | undefined;
    if (isGraph(ctx, resource)) {
      key = 'graph';
    } else {
      app = ctx.apps.find((a) => a.isApiResource(resource ?? ''));
      if (!app) {
        return {
          ok: false,
          failure: {
            error: 'invalid_resource',
            code: 500011,
            text: `The resource principal named ${resource ?? ''} was not found in the tenant named ${ctx.tenantName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
          },
        };
      }
      key = app.clientId;
    }
    const group = groups.get(key) ?? { app, resource: resource ?? '', values: [] };
    group.values.push(value);
    groups.set(key, group);
  }
  if (groups.size > 1) {
    return {
      ok: false,
      failure: {
        error: 'invalid_scope',
        code: 28000,
        text: `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scopes.join(' ')} is not valid.`,
      },
    };
  }
  const [group] = groups.values();
  if (!group?.app) return { ok: true, oidc, resource: graphResource(group?.values ?? [], oidc) };
  const resolved = apiResource(ctx, group.app, group.resource, group.values);
  return 'error' in resolved ? { ok: false, failure: resolved } : { ok: true, oidc, resource: resolved };
}
