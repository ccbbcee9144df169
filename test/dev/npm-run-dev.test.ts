import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm run dev` as a newcomer runs it: a real process under tsx (not vitest's loader), with Vite's
 * hot-reloading console. It must start, serve the console page and its sign-in settings, and stop on
 * SIGTERM with everything it started.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run dev', () => {
  it('starts, serves the console through Vite and the sign-in settings, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/dev.ts', '--port', '0', '--quiet', '--users', '200'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while (url === undefined && Date.now() < deadline && child.exitCode === null) {
        url = /EntraSync console:\s+(\S+)/.exec(output)?.[1];
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(url, output).toMatch(/^http:\/\/localhost:\d+\/api\/console\/$/);
      const page = await fetch(url ?? '');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/@vite/client');
      const response = await fetch(new URL('config', url));
      const config = (await response.json()) as { scopes: string[] };
      expect(config.scopes).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, output).toBe(0);
    }
  }, 90_000);
});
