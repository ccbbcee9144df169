/**
 * `npm run dev`: the admin console and the admin API on http://localhost:7071, against Azurite and a
 * simulated Entra tenant, without the Functions host. Options: --port N, --built (serve dist/console
 * as deployed instead of Vite's hot-reloading sources), --users N, --groups N.
 */
import { parseArgs } from 'node:util';
import { startDevServer } from './dev/dev-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7071' },
    built: { type: 'boolean', default: false },
    users: { type: 'string', default: '2000' },
    groups: { type: 'string', default: '30' },
    quiet: { type: 'boolean', default: false },
  },
  strict: true,
});

const server = await startDevServer({
  port: Number(values.port),
  console: values.built ? 'built' : 'vite',
  tenant: {
    users: Number(values.users),
    groups: Number(values.groups),
    seed: 2026,
    domain: 'contoso.example',
    displayName: 'Contoso',
  },
  ...(values.quiet ? { log: () => undefined } : {}),
});
const tenant = server.sim.tenants[0];
const app = server.sim.apps[0];
process.stdout.write(
  [
    '',
    `  EntraSync console:  ${server.consoleUrl}`,
    `  Simulated tenant:   ${server.sim.authorityHost} (tenant ${tenant?.tenantId ?? '?'}, ${tenant?.domain ?? ''})`,
    '',
    "  Your browser must trust the simulated tenant's development certificate once: open",
    `  ${server.sim.authorityHost}/${tenant?.tenantId ?? ''}/v2.0/.well-known/openid-configuration and accept it.`,
    '',
    '  To connect the simulated tenant, create a connection with:',
    `    Tenant ID or domain  ${tenant?.domain ?? ''}`,
    `    Client ID            ${app?.clientId ?? ''}`,
    `    Client secret        environment variable ${server.secretVariable}`,
    `    Cloud                custom: ${server.sim.authorityHost} and ${server.sim.graphBaseUrl}`,
    '',
    '  Ctrl+C stops everything.',
    '',
  ].join('\n'),
);

const stop = (): void => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
