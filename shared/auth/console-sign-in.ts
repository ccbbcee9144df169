import { SettingsError } from '../errors.js';
import type { Settings } from '../settings.js';

/**
 * How the admin console signs administrators in: MSAL's settings for the EntraSync app registration in
 * the admin tenant. The console is a single-page app on the same registration as the API, so its
 * client id is the API's, and it asks for the API's default scope (the token then carries the app
 * roles assigned to the administrator).
 */
export interface ConsoleSignIn {
  readonly clientId: string;
  readonly authority: string;
  /** MSAL skips instance discovery (a call to the global cloud) for these hosts. */
  readonly knownAuthorities: readonly string[];
  readonly scopes: readonly string[];
}

const CLIENT_ID = /^(?:api:\/\/)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function consoleSignIn(settings: Settings): ConsoleSignIn {
  const clientId = CLIENT_ID.exec(settings.ADMIN_API_AUDIENCE?.trim() ?? '')?.[1]?.toLowerCase();
  if (settings.ADMIN_TENANT_ID === undefined || clientId === undefined) {
    throw new SettingsError('The admin console is not configured.', {
      nextStep:
        'Set ADMIN_TENANT_ID to the admin tenant id and ADMIN_API_AUDIENCE to the client id of the EntraSync app registration (infra does both).',
    });
  }
  const host = settings.ADMIN_AUTHORITY_HOST.replace(/\/+$/, '');
  return {
    clientId,
    authority: `${host}/${settings.ADMIN_TENANT_ID}`,
    knownAuthorities: [new URL(host).host],
    // `<client id>/.default`: Entra accepts the client id as the resource, whatever the Application ID URI.
    scopes: [`${clientId}/.default`],
  };
}
