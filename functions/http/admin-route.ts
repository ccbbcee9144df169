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

/**
 * An admin route: a Microsoft Entra ID bearer token for this app carrying the EntraSync.Admin role is
 * checked in code on every call (the function key alone is not enough), then the handler runs, and
 * typed errors become JSON error answers.
 */
export function adminRoute(handler: AdminHandler): HttpHandler {
  return async (request, context) => {
    try {
      const app = await appContext();
      const principal = await app.admin.authenticate(request.headers.get('authorization'));
      return await handler(request, app, principal, context);
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}
