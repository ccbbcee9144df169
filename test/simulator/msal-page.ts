import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A tiny single-page app that signs in with the real @azure/msal-browser, bundled with Vite and served
 * over http://localhost, for driving the simulator's sign-in from a real browser. `/` is the app (and
 * the redirect URI of loginRedirect); `/redirect.html` is MSAL v5's redirect bridge, the page that
 * hands a silent (iframe) or popup response back to the app over a BroadcastChannel.
 *
 * The page's script is kept here as text: the repository's TypeScript project has no DOM types, and
 * the page is a fixture, not product code. It exposes the MSAL instance as `window.msal` and what it
 * saw at start as `window.__state`, for the test to drive with page.evaluate().
 */

export interface MsalPageConfig {
  readonly clientId: string;
  readonly authority: string;
  readonly knownAuthorities: readonly string[];
  readonly scopes: readonly string[];
}

export interface ServedMsalPage {
  /** http://localhost:PORT */
  readonly origin: string;
  /** `${origin}/`: register it, and redirectUri, as SPA redirect URIs. */
  readonly appUri: string;
  /** `${origin}/redirect.html`: the redirect bridge, for ssoSilent and popups. */
  readonly bridgeUri: string;
  close(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const msalBrowser = join(repoRoot, 'node_modules/@azure/msal-browser/dist');

const INDEX_HTML = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>MSAL test page</title></head>
<body><main><h1>MSAL test page</h1><pre id="status">starting</pre></main>
<script type="module" src="./main.js"></script></body></html>`;

const MAIN_JS = `import { PublicClientApplication } from '@azure/msal-browser';

const show = (state) => {
  window.__state = state;
  document.getElementById('status').textContent = JSON.stringify(state, null, 2);
};
const config = await (await fetch('/config.json')).json();
window.__log = [];
const msal = new PublicClientApplication({
  auth: {
    clientId: config.clientId,
    authority: config.authority,
    knownAuthorities: config.knownAuthorities,
    redirectUri: location.origin + '/',
    postLogoutRedirectUri: location.origin + '/',
  },
  cache: { cacheLocation: 'sessionStorage' },
  system: {
    loggerOptions: {
      logLevel: 2,
      piiLoggingEnabled: false,
      loggerCallback: (level, message) => window.__log.push(message),
    },
  },
});
window.msal = msal;
window.msalConfig = config;
try {
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (result) msal.setActiveAccount(result.account);
  const account = msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;
  show({
    ready: true,
    account: account && { username: account.username, name: account.name, homeAccountId: account.homeAccountId, tenantId: account.tenantId },
    redirect: result && { scopes: result.scopes, accessToken: result.accessToken, idTokenClaims: result.idTokenClaims },
  });
} catch (error) {
  show({ ready: true, error: String(error) });
}
`;

const REDIRECT_HTML = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signing in</title></head>
<body><script type="module" src="./redirect.js"></script></body></html>`;

const REDIRECT_JS = `import { broadcastResponseToMainFrame } from '@azure/msal-browser/redirect-bridge';
await broadcastResponseToMainFrame();
`;

/** Bundles the page with Vite into a new temporary directory; returns it. Takes a few seconds. */
export async function buildMsalPage(): Promise<string> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'msal-page-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'index.html'), INDEX_HTML);
  writeFileSync(join(src, 'main.js'), MAIN_JS);
  writeFileSync(join(src, 'redirect.html'), REDIRECT_HTML);
  writeFileSync(join(src, 'redirect.js'), REDIRECT_JS);
  await build({
    configFile: false,
    root: src,
    logLevel: 'warn',
    // The page lives outside the repository: point the imports at the installed package.
    resolve: {
      alias: [
        {
          find: /^@azure\/msal-browser\/redirect-bridge$/,
          replacement: join(msalBrowser, 'redirect_bridge/index.mjs'),
        },
        { find: /^@azure\/msal-browser$/, replacement: join(msalBrowser, 'index.mjs') },
      ],
    },
    build: {
      outDir: join(dir, 'dist'),
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      rollupOptions: { input: { index: join(src, 'index.html'), redirect: join(src, 'redirect.html') } },
    },
  });
  return join(dir, 'dist');
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
};

/** Serves a built page on http://localhost (a secure context, as MSAL's crypto needs) with its config. */
export async function serveMsalPage(dist: string, config: MsalPageConfig): Promise<ServedMsalPage> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': TYPES['.json'] ?? '' }).end(JSON.stringify(config));
      return;
    }
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    appUri: `${origin}/`,
    bridgeUri: `${origin}/redirect.html`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

export function removeMsalPage(dist: string): void {
  rmSync(join(dist, '..'), { recursive: true, force: true });
}
