import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminAuthenticator, type AdminAuthenticator } from '../../shared/auth/admin-auth.js';
import { ForbiddenError } from '../../shared/auth/errors.js';
import { startSimulator, type Simulator, type SpaSignInInfo } from './index.js';
import { buildMsalPage, removeMsalPage, serveMsalPage, type ServedMsalPage } from './msal-page.js';

/**
 * The simulator's sign-in driven by the real @azure/msal-browser in Chromium: loginRedirect through the
 * account picker, acquireTokenSilent from the cache and with the refresh token, ssoSilent through a
 * hidden iframe and the session cookie, logoutRedirect; the tokens checked by the admin API's own
 * authenticator. Skipped where Debian's Chromium is not installed (docs/dev/simulator.md).
 */

const CHROMIUM = '/usr/bin/chromium';
const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));

/** What the page puts on window (msal-page.ts). */
interface PageGlobals {
  readonly msal: {
    loginRedirect(request: { scopes: readonly string[] }): Promise<void>;
    logoutRedirect(request?: { account?: unknown }): Promise<void>;
    getActiveAccount(): unknown;
    acquireTokenSilent(request: {
      scopes: readonly string[];
      account: unknown;
      forceRefresh?: boolean;
    }): Promise<TokenResult>;
    ssoSilent(request: {
      scopes: readonly string[];
      loginHint: string;
      redirectUri: string;
    }): Promise<TokenResult>;
  };
  readonly msalConfig: { readonly scopes: readonly string[] };
  readonly __state?: PageState;
}

interface TokenResult {
  readonly accessToken: string;
  readonly fromCache: boolean;
  readonly account: { readonly username: string } | null;
}

interface PageState {
  readonly ready: boolean;
  readonly error?: string;
  readonly account: {
    readonly username: string;
    readonly name: string;
    readonly homeAccountId: string;
  } | null;
  readonly redirect: { readonly accessToken: string; readonly scopes: readonly string[] } | null;
}

let sim: Simulator;
let served: ServedMsalPage;
let signIn: SpaSignInInfo;
let auth: AdminAuthenticator;
/** Releases what beforeAll took, last first: a start that fails half-way still releases its part. */
const cleanups: (() => Promise<void> | void)[] = [];

describe.skipIf(!existsSync(CHROMIUM))('real msal-browser against the simulated tenant', () => {
  beforeAll(async () => {
    sim = await startSimulator({ tenants: [{ users: 3, groups: 0 }] });
    cleanups.push(async () => {
      await sim.close();
    });
    signIn = sim.spaSignIn();
    const dist = await buildMsalPage();
    cleanups.push(() => {
      removeMsalPage(dist);
    });
    served = await serveMsalPage(dist, signIn);
    cleanups.push(async () => {
      await served.close();
    });
    sim.addSpaRedirectUri(served.appUri);
    sim.addSpaRedirectUri(served.bridgeUri);
    auth = createAdminAuthenticator({
      tenantId: signIn.tenantId,
      audience: signIn.apiAudience,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
    });
    cleanups.push(async () => {
      await auth.close();
    });
  }, 120_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /**
   * A browser with a fresh profile, the simulator's certificate accepted, on the app's page. A profile
   * with third-party cookies allowed, not an incognito context (Playwright's newContext), where
   * Chromium blocks them: ssoSilent's iframe on the simulator is third-party to an app served over http.
   */
  async function openApp(): Promise<{ page: Page; close: () => Promise<void> }> {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    mkdirSync(join(profile, 'Default'));
    writeFileSync(
      join(profile, 'Default', 'Preferences'),
      JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
    );
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      ignoreHTTPSErrors: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(served.appUri);
    return {
      page,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  }

  async function state(page: Page): Promise<PageState> {
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__state?.ready === true);
    const current = await page.evaluate(() => (globalThis as unknown as PageGlobals).__state);
    if (!current) throw new Error('the page has no state');
    if (current.error !== undefined) throw new Error(`the page failed: ${current.error}`);
    return current;
  }

  /** loginRedirect, then the person picks their account on the simulator's page. */
  async function signInAs(page: Page, name: string): Promise<PageState> {
    expect((await state(page)).account).toBeNull();
    await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      void g.msal.loginRedirect({ scopes: g.msalConfig.scopes });
    });
    await page.waitForURL((url) => url.href.startsWith(`${sim.authorityHost}/`));
    expect(await page.title()).toBe('Sign in to your account');
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string }[] }> } })
        .axe;
      return (await axe.run()).violations.map((v) => v.id);
    });
    expect(violations).toEqual([]);
    await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
    await page.waitForURL((url) => url.href.startsWith(served.appUri));
    return await state(page);
  }

  it('signs Ada in with loginRedirect; her tokens pass the admin API, silently renewed', async () => {
    const { page, close } = await openApp();
    try {
      const ada = sim.signInUser('Ada Admin');
      const signedIn = await signInAs(page, 'Ada Admin');
      expect(signedIn.account).toMatchObject({
        username: ada.userPrincipalName,
        name: 'Ada Admin',
        homeAccountId: `${ada.objectId}.${ada.tenantId}`,
      });
      const first = signedIn.redirect?.accessToken ?? '';
      expect((await auth.authenticate(`Bearer ${first}`)).roles).toEqual(['EntraSync.Admin']);

      const silent = async (forceRefresh: boolean): Promise<TokenResult> =>
        await page.evaluate(async (force) => {
          const g = globalThis as unknown as PageGlobals;
          const result = await g.msal.acquireTokenSilent({
            scopes: g.msalConfig.scopes,
            account: g.msal.getActiveAccount(),
            forceRefresh: force,
          });
          return { accessToken: result.accessToken, fromCache: result.fromCache, account: null };
        }, forceRefresh);
      // Asked for `.default`, Entra answers with the scopes it expands to (access_as_admin), and MSAL
      // caches by the answer's scopes: every silent call for `.default` uses the refresh token.
      const again = await silent(false);
      expect(again.fromCache).toBe(false);
      expect((await auth.authenticate(`Bearer ${again.accessToken}`)).name).toBe('Ada Admin');
      const renewed = await silent(true);
      expect(renewed.fromCache).toBe(false);
      expect(renewed.accessToken).not.toBe(first);
      expect((await auth.authenticate(`Bearer ${renewed.accessToken}`)).name).toBe('Ada Admin');

      // ssoSilent: a hidden iframe to /authorize with prompt=none, answered from the session cookie and
      // handed back by the redirect bridge page. The cookie is third-party there (http app, https
      // simulator): it takes a browser that allows third-party cookies, as with Entra.
      const sso = await page.evaluate(
        async ({ loginHint, redirectUri }) => {
          const g = globalThis as unknown as PageGlobals;
          const result = await g.msal.ssoSilent({ scopes: g.msalConfig.scopes, loginHint, redirectUri });
          return { accessToken: result.accessToken, fromCache: result.fromCache, account: result.account };
        },
        { loginHint: ada.userPrincipalName, redirectUri: served.bridgeUri },
      );
      expect(sso.account?.username).toBe(ada.userPrincipalName);
      expect((await auth.authenticate(`Bearer ${sso.accessToken}`)).roles).toEqual(['EntraSync.Admin']);

      // logoutRedirect: the simulator ends the session and sends the browser back to the app.
      const logout = page.waitForResponse((r) =>
        r.url().startsWith(`${signIn.authority}/oauth2/v2.0/logout?`),
      );
      const reloaded = page.waitForEvent('load');
      await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        void g.msal.logoutRedirect({ account: g.msal.getActiveAccount() });
      });
      const answer = await logout;
      expect(answer.status()).toBe(302);
      // MSAL sends a state on logout too; it comes back with the browser.
      expect(answer.headers().location).toMatch(new RegExp(`^${served.appUri}\\?state=`));
      await reloaded;
      expect((await state(page)).account).toBeNull();
      const afterLogout = await page.evaluate(
        async ({ loginHint, redirectUri }) => {
          const g = globalThis as unknown as PageGlobals;
          try {
            await g.msal.ssoSilent({ scopes: g.msalConfig.scopes, loginHint, redirectUri });
            return 'signed in';
          } catch (error) {
            return (error as { errorCode?: string }).errorCode ?? String(error);
          }
        },
        { loginHint: ada.userPrincipalName, redirectUri: served.bridgeUri },
      );
      expect(afterLogout).toBe('login_required');
    } finally {
      await close();
    }
  });

  it('signs Pat in too; the admin API refuses his token (403)', async () => {
    const { page, close } = await openApp();
    try {
      const signedIn = await signInAs(page, 'Pat Plain');
      await expect(
        auth.authenticate(`Bearer ${signedIn.redirect?.accessToken ?? ''}`),
      ).rejects.toBeInstanceOf(ForbiddenError);
    } finally {
      await close();
    }
  });
});
