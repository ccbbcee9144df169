import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_APP_ROLE, startSimulator, type SignInUserOptions } from './index.js';

/**
 * The simulator as a process: `npm run simulator -- --users 100000 --groups 200 --latency 50 --port 0`.
 * Prints exactly one JSON line on stdout (authorityHost, graphBaseUrl, caPath, tenants, apps,
 * controlUrl, signIn: what a browser app's MSAL and the admin API are configured with), then serves until SIGTERM/SIGINT or until stdin closes (the parent died). A parent that
 * spawns it must therefore give it a stdin pipe and keep it open, or pass --ignore-stdin.
 */

const usage = `Usage: npm run simulator -- [options]
  --users N            users per tenant (default 1000)
  --groups N           groups per tenant (default 20)
  --tenants N          number of tenants (default 1)
  --seed N             seed of the generated tenants (default 1)
  --max-group-size N   largest generated group (default min(users, 5000))
  --latency MS         added latency per request (default 0)
  --port N             port on 127.0.0.1 (default 0: any free port)
  --delta-page-size N  objects per delta page (default 200)
  --member-budget N    members@delta entries per groups/delta page (default 500)
  --no-quirks          exact behaviour: no replays, id order, full pages
  --spa-redirect-uri U single-page-app redirect URI of the first app (repeatable), e.g. a console's page
  --admin-user NAME    a sign-in user of the first tenant assigned EntraSync.Admin (repeatable)
  --plain-user NAME    a sign-in user of the first tenant without a role (repeatable)
                       (either replaces the default sign-in users, Ada Admin and Pat Plain)
  --access-token-version 1|2  the API's access token version (default 2)
  --ignore-stdin       keep running when stdin closes
  --help`;

function integer(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got '${raw}'\n${usage}\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      groups: { type: 'string' },
      tenants: { type: 'string' },
      seed: { type: 'string' },
      'max-group-size': { type: 'string' },
      latency: { type: 'string' },
      port: { type: 'string' },
      'delta-page-size': { type: 'string' },
      'member-budget': { type: 'string' },
      'no-quirks': { type: 'boolean', default: false },
      'spa-redirect-uri': { type: 'string', multiple: true },
      'admin-user': { type: 'string', multiple: true },
      'plain-user': { type: 'string', multiple: true },
      'access-token-version': { type: 'string' },
      'ignore-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // Signals and a closed stdin are watched from the start: a parent may stop us the moment it reads
  // the startup line, before anything after the write would run.
  const stopping: { stop?: (reason: string) => void; pending?: string } = {};
  const requestStop = (reason: string): void => {
    if (stopping.stop) stopping.stop(reason);
    else stopping.pending ??= reason;
  };
  process.on('SIGTERM', () => {
    requestStop('SIGTERM');
  });
  process.on('SIGINT', () => {
    requestStop('SIGINT');
  });
  if (!values['ignore-stdin']) {
    // The parent holds our stdin; when it dies the pipe closes and we must not linger.
    process.stdin.on('end', () => {
      requestStop('stdin closed');
    });
    process.stdin.on('close', () => {
      requestStop('stdin closed');
    });
    process.stdin.resume();
  }

  const users = integer('users', values.users, 1000);
  const groups = integer('groups', values.groups, 20);
  const tenantCount = Math.max(1, integer('tenants', values.tenants, 1));
  const maxGroupSize =
    values['max-group-size'] === undefined
      ? undefined
      : integer('max-group-size', values['max-group-size'], 5000);

  const tokenVersion = integer('access-token-version', values['access-token-version'], 2);
  if (tokenVersion !== 1 && tokenVersion !== 2) {
    process.stderr.write(`--access-token-version must be 1 or 2, got ${tokenVersion}\n${usage}\n`);
    process.exit(2);
  }
  const admins = values['admin-user'] ?? [];
  const plain = values['plain-user'] ?? [];
  const signInUsers: SignInUserOptions[] | undefined =
    admins.length + plain.length === 0
      ? undefined
      : [
          ...admins.map((displayName) => ({ displayName, appRoles: [ADMIN_APP_ROLE] })),
          ...plain.map((displayName) => ({ displayName })),
        ];

  const sim = await startSimulator({
    apps: [{ spaRedirectUris: values['spa-redirect-uri'] ?? [], accessTokenVersion: tokenVersion }],
    ...(signInUsers === undefined ? {} : { signInUsers }),
    tenants: Array.from({ length: tenantCount }, () => ({
      users,
      groups,
      ...(maxGroupSize === undefined ? {} : { maxGroupSize }),
    })),
    seed: integer('seed', values.seed, 1),
    latencyMs: integer('latency', values.latency, 0),
    port: integer('port', values.port, 0),
    deltaPageSize: Math.max(1, integer('delta-page-size', values['delta-page-size'], 200)),
    memberBudget: Math.max(1, integer('member-budget', values['member-budget'], 500)),
    quirks: !values['no-quirks'],
  });

  const dir = mkdtempSync(join(tmpdir(), 'entra-sim-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, sim.ca);

  let stopped = false;
  stopping.stop = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    process.stderr.write(`[entra-simulator] stopping (${reason})\n`);
    sim
      .close()
      .catch((error: unknown) => {
        process.stderr.write(`[entra-simulator] close failed: ${String(error)}\n`);
      })
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  };
  if (stopping.pending !== undefined) {
    stopping.stop(stopping.pending);
    return;
  }

  const info = sim.info();
  process.stdout.write(
    `${JSON.stringify({
      authorityHost: info.authorityHost,
      graphBaseUrl: info.graphBaseUrl,
      caPath,
      tenants: info.tenants,
      apps: info.apps,
      controlUrl: info.controlUrl,
      signIn: info.signIn,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[entra-simulator] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
