import {
  AuthError,
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AccountInfo,
} from '@azure/msal-browser';
import type { ConsoleConfig } from './console-config.js';

/**
 * The administrator's sign-in: authorization code with PKCE through MSAL, tokens kept in
 * sessionStorage (gone with the tab, never shared with other sites' scripts through localStorage).
 */
export class Session {
  readonly #msal: PublicClientApplication;
  readonly #config: ConsoleConfig;
  readonly redirectUri: string;

  private constructor(msal: PublicClientApplication, config: ConsoleConfig, redirectUri: string) {
    this.#msal = msal;
    this.#config = config;
    this.redirectUri = redirectUri;
  }

  /** Creates the client and completes a sign-in that has just come back from the authority. */
  static async start(config: ConsoleConfig): Promise<Session> {
    const redirectUri = location.origin + location.pathname;
    const msal = new PublicClientApplication({
      auth: {
        clientId: config.clientId,
        authority: config.authority,
        knownAuthorities: config.knownAuthorities,
        redirectUri,
        postLogoutRedirectUri: redirectUri,
      },
      cache: { cacheLocation: 'sessionStorage' },
    });
    await msal.initialize();
    const result = await msal.handleRedirectPromise();
    // Back from signing out, the authority hands back a state the page has no use for.
    if (new URLSearchParams(location.search).has('state')) {
      history.replaceState(history.state, '', location.pathname + location.hash);
    }
    if (result?.account) msal.setActiveAccount(result.account);
    else if (!msal.getActiveAccount()) {
      const [first] = msal.getAllAccounts();
      if (first) msal.setActiveAccount(first);
    }
    return new Session(msal, config, redirectUri);
  }

  get authority(): string {
    return this.#config.authority;
  }

  get account(): AccountInfo | null {
    return this.#msal.getActiveAccount();
  }

  async signIn(): Promise<void> {
    await this.#msal.loginRedirect({ scopes: this.#config.scopes, prompt: 'select_account' });
  }

  async signOut(): Promise<void> {
    const account = this.account;
    await this.#msal.logoutRedirect(account ? { account } : {});
  }

  /** A token for the admin API: from the cache or a silent refresh, else by redirecting to sign in again. */
  async accessToken(): Promise<string> {
    const account = this.account;
    if (!account) return await this.#redirect();
    try {
      const result = await this.#msal.acquireTokenSilent({ scopes: this.#config.scopes, account });
      return result.accessToken;
    } catch (error) {
      if (error instanceof InteractionRequiredAuthError) return await this.#redirect();
      throw error;
    }
  }

  async #redirect(): Promise<never> {
    await this.#msal.acquireTokenRedirect({ scopes: this.#config.scopes });
    // The page is navigating away; nothing after this should run.
    return await new Promise<never>(() => undefined);
  }
}

/**
 * Whether a sign-in failure means the authority could not be reached at all (no network, or in
 * development a self-signed certificate the browser has not accepted yet), checked by fetching its
 * metadata directly: MSAL's own error codes for this vary by the step that failed.
 */
export async function authorityUnreachable(authority: string): Promise<boolean> {
  try {
    await fetch(`${authority.replace(/\/+$/, '')}/v2.0/.well-known/openid-configuration`, {
      cache: 'no-store',
    });
    return false;
  } catch {
    return true;
  }
}

export function describeAuthError(error: unknown): string {
  if (error instanceof AuthError) return `${error.errorMessage || error.message} (${error.errorCode})`;
  return error instanceof Error ? error.message : String(error);
}
