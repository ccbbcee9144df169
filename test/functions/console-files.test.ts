import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSecurityHeaders, serveConsoleFile } from '../../functions/console.js';

/** The console's static files: what is served, how it is cached, and nothing outside the build. */
let root: string;
let outside: string;

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'console-files-'));
  root = join(base, 'console') + sep;
  outside = join(base, 'secret.json');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>EntraSync</title>');
  await writeFile(join(root, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
  await writeFile(outside, '{"secret":true}');
});

afterAll(async () => {
  await rm(join(root, '..'), { recursive: true, force: true });
});

const headers = consoleSecurityHeaders('https://login.microsoftonline.com');

describe('console files', () => {
  it('serves the page uncached and hashed assets for a year', async () => {
    const page = await serveConsoleFile(root, '', headers);
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
    });
    const asset = await serveConsoleFile(root, 'assets/app-1a2b3c.js', headers);
    expect(asset.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });

  it('lets the page reach only itself and the login authority, and no one frame it', () => {
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("connect-src 'self' https://login.microsoftonline.com");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('never serves a file outside the build, and 404s unknown files', async () => {
    for (const path of ['../secret.json', 'assets/../../secret.json', '/etc/passwd', '..%2fsecret.json']) {
      const response = await serveConsoleFile(root, path, headers);
      expect(response.status, path).toBe(404);
      expect(typeof response.body === 'string' ? response.body : '').not.toContain('secret');
    }
    expect((await serveConsoleFile(root, 'assets/missing.js', headers)).status).toBe(404);
    expect((await serveConsoleFile(root, 'index.php', headers)).status).toBe(404);
  });

  it('says how to build the console when it is missing', async () => {
    const response = await serveConsoleFile(join(root, 'nothing') + sep, '', headers);
    expect(response.status).toBe(503);
    expect(typeof response.body === 'string' ? response.body : '').toMatch(/npm run build/);
  });
});
