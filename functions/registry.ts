import type { HttpHandler, StorageQueueHandler, TimerHandler } from '@azure/functions';
import { importPoison, importWorker, syncTimer } from './background.js';
import { consentCallback, startConsent } from './consent.js';
import { getConnection, listConnections, patchConnection, putConnection } from './connections.js';
import { consoleConfig, consoleFiles } from './console.js';
import { jobUsers, startPreview } from './previews.js';
import {
  approveRun,
  getRun,
  heldRemovals,
  jobStatus,
  listRuns,
  preview,
  runUsers,
  startImport,
} from './runs.js';
import { listGroups, listUsers } from './users.js';

/**
 * Every function of the app, as data. functions/index.ts registers this list with @azure/functions;
 * tests read it, because outside the Functions host registration does nothing (routes, methods, auth
 * levels, schedules and queue names are checked here, not in a running host).
 */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

export type FunctionDefinition =
  | {
      readonly name: string;
      readonly trigger: 'http';
      readonly route: string;
      readonly methods: readonly ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[];
      readonly authLevel: AuthLevel;
      readonly handler: HttpHandler;
    }
  | {
      readonly name: string;
      readonly trigger: 'timer';
      readonly schedule: string;
      readonly handler: TimerHandler;
    }
  | {
      readonly name: string;
      readonly trigger: 'queue';
      readonly queueName: string;
      readonly connection: string;
      readonly handler: StorageQueueHandler;
    };

/**
 * Admin routes are anonymous to the host and authenticated in code by adminRoute (an Entra token with
 * the EntraSync.Admin role): see functions/http/admin-route.ts. The public ones are listed in
 * PUBLIC_ROUTES and a test checks that every other route is an admin route.
 */
const admin = 'anonymous' as const;

/** Routes anyone may call: where a consenting administrator lands, and the console's files and sign-in settings. */
export const PUBLIC_ROUTES = ['consent/callback', 'console/config', 'console/{*path}'] as const;

export const functionDefinitions: readonly FunctionDefinition[] = [
  {
    name: 'connectionsList',
    trigger: 'http',
    route: 'connections',
    methods: ['GET'],
    authLevel: admin,
    handler: listConnections,
  },
  {
    name: 'connectionGet',
    trigger: 'http',
    route: 'connections/{id}',
    methods: ['GET'],
    authLevel: admin,
    handler: getConnection,
  },
  {
    name: 'connectionPut',
    trigger: 'http',
    route: 'connections/{id}',
    methods: ['PUT'],
    authLevel: admin,
    handler: putConnection,
  },
  {
    name: 'connectionPatch',
    trigger: 'http',
    route: 'connections/{id}',
    methods: ['PATCH'],
    authLevel: admin,
    handler: patchConnection,
  },
  {
    name: 'consentStart',
    trigger: 'http',
    route: 'connections/{id}/consent',
    methods: ['GET'],
    authLevel: admin,
    handler: startConsent,
  },
  // The tenant administrator's browser lands here from Entra: it carries no key and no token.
  {
    name: 'consentCallback',
    trigger: 'http',
    route: 'consent/callback',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: consentCallback,
  },
  {
    name: 'groupsList',
    trigger: 'http',
    route: 'connections/{id}/groups',
    methods: ['GET'],
    authLevel: admin,
    handler: listGroups,
  },
  {
    name: 'preview',
    trigger: 'http',
    route: 'connections/{id}/preview',
    methods: ['POST'],
    authLevel: admin,
    handler: preview,
  },
  {
    name: 'previewStart',
    trigger: 'http',
    route: 'connections/{id}/previews',
    methods: ['POST'],
    authLevel: admin,
    handler: startPreview,
  },
  {
    name: 'jobUsers',
    trigger: 'http',
    route: 'jobs/{jobId}/users',
    methods: ['GET'],
    authLevel: admin,
    handler: jobUsers,
  },
  {
    name: 'importStart',
    trigger: 'http',
    route: 'connections/{id}/import',
    methods: ['POST'],
    authLevel: admin,
    handler: startImport,
  },
  {
    name: 'jobStatus',
    trigger: 'http',
    route: 'jobs/{jobId}',
    methods: ['GET'],
    authLevel: admin,
    handler: jobStatus,
  },
  {
    name: 'usersList',
    trigger: 'http',
    route: 'connections/{id}/users',
    methods: ['GET'],
    authLevel: admin,
    handler: listUsers,
  },
  {
    name: 'runsList',
    trigger: 'http',
    route: 'connections/{id}/runs',
    methods: ['GET'],
    authLevel: admin,
    handler: listRuns,
  },
  {
    name: 'runGet',
    trigger: 'http',
    route: 'runs/{runId}',
    methods: ['GET'],
    authLevel: admin,
    handler: getRun,
  },
  {
    name: 'runUsers',
    trigger: 'http',
    route: 'runs/{runId}/users',
    methods: ['GET'],
    authLevel: admin,
    handler: runUsers,
  },
  {
    name: 'runHeld',
    trigger: 'http',
    route: 'runs/{runId}/held',
    methods: ['GET'],
    authLevel: admin,
    handler: heldRemovals,
  },
  {
    name: 'runApprove',
    trigger: 'http',
    route: 'runs/{runId}/approve',
    methods: ['POST'],
    authLevel: admin,
    handler: approveRun,
  },
  {
    name: 'consoleConfig',
    trigger: 'http',
    route: 'console/config',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: consoleConfig,
  },
  // The admin console's static files; the page signs in and calls the admin routes with a token.
  {
    name: 'consoleFiles',
    trigger: 'http',
    route: 'console/{*path}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: consoleFiles,
  },
  { name: 'syncTimer', trigger: 'timer', schedule: '%SYNC_SCHEDULE%', handler: syncTimer },
  {
    name: 'importWorker',
    trigger: 'queue',
    queueName: '%IMPORT_QUEUE_NAME%',
    connection: 'AzureWebJobsStorage',
    handler: importWorker,
  },
  {
    name: 'importPoison',
    trigger: 'queue',
    queueName: '%IMPORT_QUEUE_NAME%-poison',
    connection: 'AzureWebJobsStorage',
    handler: importPoison,
  },
];
