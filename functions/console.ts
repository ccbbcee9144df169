import { readFile } from 'node:fs/promises';
import { extname, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { consoleSignIn } from '../shared/auth/console-sign-in.js';
import { appContext } from './app-context.js';
import { errorResponse, json } from './http/responses.js';

/**
 * The admin console: its sign-in settings (public: they name the tenant and the app, nothing secret)
 * and its static files, built by Vite into dist/console. The page itself holds no secret; every call
 * it makes to the admin API carries the administrator's token.
 */

/** dist/functions/console.js serves dist/console; functions/console.ts (tsx, tests) serves the same build. */
const CONSOLE_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../console/' : '../dist/console/', import.meta.url),
);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export const consoleConfig: HttpHandler = async (_request, context) => {
  try {
    const app = await appContext();
    return json(200, consoleSignIn(app.settings));
  } catch (error) {
    return errorResponse(error, context);
  }
};

/**
 * The page may talk to its own origin and to the login authority (MSAL fetches its metadata and tokens
 * there); nothing else, and no one may frame it.
 */
export function consoleSecurityHeaders(authorityHost: string): Record<string, string> {
  const authority = new URL(authorityHost).origin;
  return {
    'content-security-policy': [
      "default-src 'self'",
      `connect-src 'self' ${authority}`,
      `frame-src ${authority}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

export const consoleFiles: HttpHandler = async (request, context) => {
  try {
    const app = await appContext();
    const url = new URL(request.url);
    // Relative asset paths need the trailing slash: /api/console -> /api/console/
    if (!url.pathname.endsWith('/') && (request.params.path ?? '') === '') {
      return { status: 301, headers: { location: `${url.pathname}/${url.search}` } };
    }
    return await serveConsoleFile(
      CONSOLE_ROOT,
      request.params.path ?? '',
      consoleSecurityHeaders(app.settings.ADMIN_AUTHORITY_HOST),
    );
  } catch (error) {
    return errorResponse(error, context);
  }
};

/** A file of the built console under `root` (a directory path ending in a separator), never outside it. */
export async function serveConsoleFile(
  root: string,
  path: string,
  headers: Record<string, string>,
): Promise<HttpResponseInit> {
  const relative = normalize(path === '' ? 'index.html' : path);
  if (relative.startsWith('..') || relative.includes(`${sep}..`) || relative.startsWith(sep)) {
    return { status: 404, headers, body: 'Not found' };
  }
  const type = CONTENT_TYPES[extname(relative)];
  try {
    if (type === undefined) throw Object.assign(new Error('unknown type'), { code: 'ENOENT' });
    const body = await readFile(`${root}${relative}`);
    // Vite names assets by content hash: they never change. The page itself must be fetched anew.
    const cache = relative.startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return { status: 200, headers: { ...headers, 'content-type': type, 'cache-control': cache }, body };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (path === '' || relative === 'index.html') {
      return {
        status: 503,
        headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
        body: 'The admin console is not built. Run `npm run build`, then deploy again (or use `npm run dev`).',
      };
    }
    return { status: 404, headers, body: 'Not found' };
  }
}
