import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/** The standalone simulator's sign-in flags, its startup line's `signIn`, and the control routes for it. */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const CONSOLE = 'http://localhost:5174/console/';

const startupLine = z.object({
  authorityHost: z.url(),
  caPath: z.string(),
  controlUrl: z.url(),
  signIn: z.object({
    clientId: z.string(),
    tenantId: z.string(),
    authority: z.url(),
    knownAuthorities: z.array(z.string()),
    scopes: z.array(z.string()),
    apiAudience: z.string(),
    spaRedirectUris: z.array(z.string()),
    users: z.array(
      z.object({
        displayName: z.string(),
        userPrincipalName: z.string(),
        objectId: z.string(),
        appRoles: z.array(z.string()),
      }),
    ),
  }),
});

let child: ChildProcessWithoutNullStreams;
let info: z.infer<typeof startupLine>;
let agent: Agent;

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/simulator/main.ts',
      ...['--users', '3', '--groups', '0', '--spa-redirect-uri', CONSOLE],
      ...['--admin-user', 'Grace Hopper', '--plain-user', 'Ned Noaccess', '--access-token-version', '1'],
    ],
    { cwd: repoRoot, stdio: 'pipe' },
  );
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const end = buffer.indexOf('\n');
      if (end >= 0) resolve(buffer.slice(0, end));
    });
    child.once('exit', (code) => {
      reject(new Error(`simulator exited with ${String(code)}: ${stderr}`));
    });
  });
  info = startupLine.parse(JSON.parse(line));
  agent = new Agent({ connect: { ca: readFileSync(info.caPath, 'utf8') } });
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await agent.destroy();
});

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: 'manual',
    dispatcher: agent,
  });
  return { status: response.status, text: await response.text() };
}

describe('standalone sign-in', () => {
  it('prints what MSAL and the admin API need, with the users the flags name', () => {
    const { signIn } = info;
    expect(signIn.authority).toBe(`${info.authorityHost}/${signIn.tenantId}`);
    expect(signIn.knownAuthorities).toEqual([new URL(info.authorityHost).host]);
    expect(signIn.scopes).toEqual([`api://${signIn.clientId}/.default`]);
    expect(signIn.apiAudience).toBe(`api://${signIn.clientId}`);
    expect(signIn.spaRedirectUris).toEqual([CONSOLE]);
    expect(signIn.users.map((u) => [u.displayName, u.appRoles])).toEqual([
      ['Grace Hopper', ['EntraSync.Admin']],
      ['Ned Noaccess', []],
    ]);
  });

  it('registers SPA redirect URIs and sign-in users through the control API', async () => {
    const { signIn } = info;
    const other = 'http://localhost:5175/';
    expect(
      (await call('POST', `${info.controlUrl}apps/${signIn.clientId}/spa-redirect-uris`, { uri: other }))
        .status,
    ).toBe(200);
    const added = await call('POST', `${info.controlUrl}tenants/${signIn.tenantId}/sign-in-users`, {
      displayName: 'Ada Lovelace',
      appRoles: ['EntraSync.Admin'],
    });
    expect(added.status).toBe(201);
    const listed = z
      .object({ users: z.array(z.object({ displayName: z.string() })) })
      .parse(
        JSON.parse((await call('GET', `${info.controlUrl}tenants/${signIn.tenantId}/sign-in-users`)).text),
      );
    expect(listed.users.map((u) => u.displayName)).toEqual(['Grace Hopper', 'Ned Noaccess', 'Ada Lovelace']);

    const authorize = new URL(`${signIn.authority}/oauth2/v2.0/authorize`);
    for (const [name, value] of Object.entries({
      client_id: signIn.clientId,
      redirect_uri: other,
      response_type: 'code',
      scope: `${signIn.scopes.join(' ')} openid`,
    }))
      authorize.searchParams.set(name, value);
    const page = await call('GET', authorize.toString());
    expect(page.status).toBe(200);
    expect(page.text).toContain('>Ada Lovelace<');
  });
});
