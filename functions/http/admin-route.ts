import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AdminPrincipal } from '../../shared/auth/admin-auth.js';
import { appContext, type AppContext } from '../app-context.js';
import { errorResponse } from './responses.js';

export type AdminHandler = (
  request: HttpRequest,
  app: AppContext,
  principal: AdminPrincipal,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

const adminHandlers = new WeakSet<HttpHandler>();

/** Whether a handler was made by adminRoute: the registry test checks every non-public route with it. */
export function isAdminRoute(handler: unknown): boolean {
  return typeof handler === 'function' && adminHandlers.has(handler as HttpHandler);
}

/**
 * An admin route: a Microsoft Entra ID bearer token for this app carrying the EntraSync.Admin role is
 * checked in code on every call, then the handler runs, and typed errors become JSON error answers.
 * The token is the whole authentication: a function key would be a shared secret the browser console
 * could not keep, so the host lets requests through and this check refuses them.
 */
export function adminRoute(handler: AdminHandler): HttpHandler {
  const routed: HttpHandler = async (request, context) => {
    try {
      const app = await appContext();
      const principal = await app.admin.authenticate(request.headers.get('authorization'));
      return await handler(request, app, principal, context);
    } catch (error) {
      return errorResponse(error, context);
    }
  };
  adminHandlers.add(routed);
  return routed;
}
