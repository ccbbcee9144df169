import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import functions, { type InvocationContext, type Timer } from '@azure/functions';
import type { ViteDevServer } from 'vite';
import { buildAppContext, useAppContext, type AppContext } from '../../functions/app-context.js';
import { functionDefinitions } from '../../functions/registry.js';
import { startAzurite, type AzuriteInstance } from '../../test/harness/azurite.js';
import { runQueueWorkers } from '../../test/harness/queue-workers.js';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
  type TenantOptions,
} from '../../test/simulator/index.js';
import { FunctionsHttpAdapter, ROUTE_PREFIX } from './http-adapter.js';

/**
 * `npm run dev`, as a module the browser tests start too: Azurite, a simulated Entra tenant, and one
 * node:http server that plays the Functions host for the registered functions (HTTP routes, the import
 * queue's trigger, the sync timer) and serves the console, from Vite with hot reload or from its build.
 */

export interface DevServerOptions {
  /** 0 picks a free port. */
  readonly port?: number;
  /** 'vite': the console's sources with hot reload; 'built': dist/console, as deployed. */
  readonly console?: 'vite' | 'built';
  /** An Azurite to use (tests share theirs); by default one is started and stopped with the server. */
  readonly azuriteConnectionString?: string;
  readonly tablePrefix?: string;
  readonly queueName?: string;
  /** The simulated tenant; default 2,000 users in 30 groups, nothing consented yet. */
  readonly tenant?: TenantOptions;
  /** More simulator options (latency, quirks). */
  readonly simulator?: Omit<SimulatorOptions, 'tenants' | 'apps'>;
  /** Seconds between sync timer ticks; 0 turns the timer off. Default 60. */
  readonly timerSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface DevServer {
  readonly url: string;
  readonly consoleUrl: string;
  readonly sim: Simulator;
  readonly app: AppContext;
  /** The environment variable that holds the simulated app's client secret (for a connection's clientSecret). */
  readonly secretVariable: string;
  close(): Promise<void>;
}

// CommonJS: under Node's ESM loader its classes come on the default export only.
const { InvocationContext: Invocation } = functions;

export const DEV_SECRET_VARIABLE = 'DEV_CLIENT_SECRET';
/** The application permissions EntraSync's registration asks for (infra/app/app-registration.bicep). */
export const ENTRASYNC_GRAPH_ROLES = ['User.Read.All', 'GroupMember.Read.All', 'Organization.Read.All'];
const CONSOLE_PATH = `${ROUTE_PREFIX}console/`;
const CONSOLE_ROOT = fileURLToPath(new URL('../../console/', import.meta.url));

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cleanup: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    let azurite: AzuriteInstance | undefined;
    if (options.azuriteConnectionString === undefined) {
      azurite = await startAzurite();
      const started = azurite;
      cleanup.push(async () => {
        await started.stop();
      });
    }
    const storage = options.azuriteConnectionString ?? azurite?.connectionString ?? '';

    // One tenant is both the admins' home and the one connected; the app asks for what EntraSync
    // needs, and the tenant has not consented yet: granting it is part of the story.
    const sim = await startSimulator({
      ...options.simulator,
      tenants: [
        options.tenant ?? {
          users: 2_000,
          groups: 30,
          seed: 2026,
          domain: 'contoso.example',
          displayName: 'Contoso',
        },
      ],
      apps: [{ displayName: 'EntraSync (development)', consentedIn: 'none', roles: ENTRASYNC_GRAPH_ROLES }],
    });
    cleanup.push(async () => {
      await sim.close();
    });
    const tenant = sim.tenants[0];
    const entraSync = sim.apps[0];
    if (!tenant || !entraSync) throw new Error('the simulated tenant has no tenant or no app');

    // Listen first: the consent callback and the console's redirect URI need the port.
    const server = createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        resolve();
      });
    });
    cleanup.push(async () => {
      await closeServer(server, sockets);
    });
    const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
    const consoleUrl = `${origin}${CONSOLE_PATH}`;
    entraSync.addRedirectUri(`${origin}${ROUTE_PREFIX}consent/callback`);
    // The console is a single-page app on the EntraSync registration: its page is a redirect URI.
    entraSync.addSpaRedirectUri(consoleUrl);

    const queueName = options.queueName ?? 'entrasync-dev-import';
    const env: Record<string, string> = {
      AzureWebJobsStorage: storage,
      TABLE_PREFIX: options.tablePrefix ?? 'EntraSyncDev',
      IMPORT_QUEUE_NAME: queueName,
      ADMIN_TENANT_ID: tenant.tenantId,
      ADMIN_API_AUDIENCE: entraSync.clientId,
      ADMIN_AUTHORITY_HOST: sim.authorityHost,
      CONSENT_REDIRECT_URI: `${origin}${ROUTE_PREFIX}consent/callback`,
      [DEV_SECRET_VARIABLE]: entraSync.clientSecret,
    };
    const app = await buildAppContext(env, { trustedCa: sim.ca });
    useAppContext(app);
    cleanup.push(async () => {
      useAppContext(undefined);
      await app.admin.close();
    });
    const queue = app.storage.queue(queueName);
    const poison = app.storage.queue(`${queueName}-poison`);
    await queue.createIfNotExists();

    let vite: ViteDevServer | undefined;
    if ((options.console ?? 'vite') === 'vite') {
      const { createServer: createVite } = await import('vite');
      vite = await createVite({
        configFile: `${CONSOLE_ROOT}vite.config.ts`,
        base: CONSOLE_PATH,
        server: { middlewareMode: true, hmr: { server } },
        logLevel: 'warn',
      });
      const started = vite;
      cleanup.push(async () => {
        await started.close();
      });
    }

    const adapter = new FunctionsHttpAdapter(functionDefinitions, { log });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      route(req, res).catch((error: unknown) => {
        log(`dev server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal error (see the dev server log).');
      });
    });
    const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const path = new URL(req.url ?? '/', origin).pathname;
      if (path === '/' || path === '/console' || path === '/console/') {
        res.writeHead(302, { location: CONSOLE_PATH }).end();
        return;
      }
      const viteServes =
        vite !== undefined && path.startsWith(CONSOLE_PATH) && path !== `${CONSOLE_PATH}config`;
      if (viteServes && vite) {
        vite.middlewares(req, res, () => {
          res.writeHead(404).end('Not found');
        });
        return;
      }
      if (await adapter.handle(req, res, origin)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    };

    // The import queue's trigger and the poison queue's, as the Functions host runs them.
    let stopping = false;
    const worker = definition('importWorker');
    const poisoned = definition('importPoison');
    const pump = runQueueWorkers(
      queue,
      poison,
      async (message, dequeueCount) => {
        await worker(message, invocation('importWorker', log, { dequeueCount }));
      },
      async (message, dequeueCount) => {
        await poisoned(message, invocation('importPoison', log, { dequeueCount }));
      },
      {
        workers: 2,
        maxDequeueCount: 5,
        visibilityTimeoutSeconds: 60,
        done: async () => await Promise.resolve(stopping),
        timeoutMs: 365 * 24 * 3600_000,
      },
    ).catch((error: unknown) => {
      if (!stopping) log(`import queue worker stopped: ${String(error)}`);
    });
    cleanup.push(async () => {
      stopping = true;
      await pump;
    });

    const timerSeconds = options.timerSeconds ?? 60;
    if (timerSeconds > 0) {
      const timer = definition('syncTimer');
      const tick = setInterval(() => {
        const info: Timer = {
          isPastDue: false,
          schedule: { adjustForDST: false },
          scheduleStatus: {} as never,
        };
        Promise.resolve(timer(info, invocation('syncTimer', log))).catch((error: unknown) => {
          log(`sync timer: ${String(error)}`);
        });
      }, timerSeconds * 1000);
      cleanup.push(async () => {
        clearInterval(tick);
        await Promise.resolve();
      });
    }

    return { url: origin, consoleUrl, sim, app, secretVariable: DEV_SECRET_VARIABLE, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function definition(name: string): (trigger: unknown, context: InvocationContext) => unknown {
  const found = functionDefinitions.find((candidate) => candidate.name === name);
  if (!found || found.trigger === 'http') throw new Error(`no background function ${name}`);
  return found.handler as (trigger: unknown, context: InvocationContext) => unknown;
}

function invocation(
  name: string,
  log: (line: string) => void,
  triggerMetadata: Record<string, unknown> = {},
): InvocationContext {
  return new Invocation({
    functionName: name,
    invocationId: crypto.randomUUID(),
    triggerMetadata,
    logHandler: (level, ...args) => {
      log(`[${name}] ${level}: ${args.map(String).join(' ')}`);
    },
  });
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  server.closeAllConnections();
  for (const socket of sockets) socket.destroy();
  await closed;
}
