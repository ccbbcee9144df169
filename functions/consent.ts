import type { HttpHandler } from '@azure/functions';
import { CONSENT_PAGE_HEADERS, renderConsentPage } from '../shared/consent/consent-service.js';
import { CONSENT_STATE_LIFETIME_MS } from '../shared/consent/state.js';
import { appContext } from './app-context.js';
import { adminRoute } from './http/admin-route.js';
import { errorResponse, json } from './http/responses.js';

/**
 * Starts admin consent: 302 to the connection's cloud, with signed, expiring, single-use state. A
 * caller that asks for JSON (the console, which must open the page in a new tab without its token)
 * gets the URL instead.
 */
export const startConsent = adminRoute(async (request, app) => {
  const url = await app.consent.startUrl(request.params.id ?? '');
  if ((request.headers.get('accept') ?? '').includes('application/json')) {
    return json(200, {
      consentUrl: url,
      expiresAt: new Date(Date.now() + CONSENT_STATE_LIFETIME_MS).toISOString(),
    });
  }
  return { status: 302, headers: { location: url, 'cache-control': 'no-store' } };
});

/**
 * Where the tenant administrator's browser lands after consenting: anonymous by necessity. The state
 * is verified before anything else; the page says what happened and what to do next.
 */
export const consentCallback: HttpHandler = async (request, context) => {
  try {
    const app = await appContext();
    const outcome = await app.consent.complete(request.query);
    if (!outcome.ok) context.warn(`consent callback refused: ${outcome.code}`);
    return {
      status: outcome.ok ? 200 : outcome.status,
      headers: { ...CONSENT_PAGE_HEADERS },
      body: renderConsentPage(outcome),
    };
  } catch (error) {
    return errorResponse(error, context);
  }
};
