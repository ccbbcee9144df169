import { header, type SimRequest, type SimResponse } from './http-types.js';

/**
 * Cross-origin access for what a browser app fetches itself: the OpenID metadata and keys are open to
 * any origin, and the token endpoint answers the origins of registered single-page-app redirect URIs
 * only, which is what registering a redirect URI as "spa" rather than "web" changes in Entra.
 */

export function origin(req: SimRequest): string | undefined {
  return header(req, 'origin');
}

export function allowOrigin(value: string): Record<string, string> {
  return { 'access-control-allow-origin': value, vary: 'Origin' };
}

/** The answer to a CORS preflight (OPTIONS); without an allowed origin it grants nothing. */
export function preflight(req: SimRequest, allowed: string | undefined): SimResponse {
  if (allowed === undefined) return { status: 204, headers: { vary: 'Origin' } };
  return {
    status: 204,
    headers: {
      ...allowOrigin(allowed),
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      // MSAL adds X-AnchorMailbox and, for DPoP, a DPoP header: grant what the browser asks for.
      'access-control-allow-headers': header(req, 'access-control-request-headers') ?? 'content-type',
      'access-control-max-age': '86400',
    },
  };
}

export function withHeaders(response: SimResponse, headers: Record<string, string>): SimResponse {
  return { ...response, headers: { ...response.headers, ...headers } };
}
