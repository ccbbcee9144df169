import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isAdminRoute } from '../../functions/http/admin-route.js';
import { functionDefinitions, PUBLIC_ROUTES } from '../../functions/registry.js';

/**
 * Registration does nothing outside the Functions host, so the registrations are checked here as
 * data: every route is an admin route (an Entra token with the EntraSync.Admin role, checked in code)
 * except the public ones: where an outside administrator's browser lands after consent, and the
 * console's files and sign-in settings. The test of the admin API calls each admin route without a
 * token and gets 401.
 */
const http = functionDefinitions.flatMap((definition) => (definition.trigger === 'http' ? [definition] : []));

describe('function registrations', () => {
  it('authenticates every HTTP route but the public ones, in code', () => {
    const open = http
      .filter((definition) => !isAdminRoute(definition.handler))
      .map((definition) => definition.route);
    expect(open).toEqual([...PUBLIC_ROUTES]);
    // No function key: the console cannot keep one, and the token is the authentication.
    expect(new Set(http.map((definition) => definition.authLevel))).toEqual(new Set(['anonymous']));
  });

  it('has unique names and unique route-and-method pairs', () => {
    const names = functionDefinitions.map((definition) => definition.name);
    expect(new Set(names).size).toBe(names.length);
    const pairs = http.flatMap((definition) =>
      definition.methods.map((method) => `${method} ${definition.route}`),
    );
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('serves the routes the admin API promises, with these methods', () => {
    const table = Object.fromEntries(
      http.map((definition) => [definition.name, `${definition.methods.join(',')} ${definition.route}`]),
    );
    expect(table).toEqual({
      connectionsList: 'GET connections',
      connectionGet: 'GET connections/{id}',
      connectionPut: 'PUT connections/{id}',
      connectionPatch: 'PATCH connections/{id}',
      consentStart: 'GET connections/{id}/consent',
      consentCallback: 'GET consent/callback',
      groupsList: 'GET connections/{id}/groups',
      preview: 'POST connections/{id}/preview',
      previewStart: 'POST connections/{id}/previews',
      jobUsers: 'GET jobs/{jobId}/users',
      importStart: 'POST connections/{id}/import',
      jobStatus: 'GET jobs/{jobId}',
      usersList: 'GET connections/{id}/users',
      runsList: 'GET connections/{id}/runs',
      runGet: 'GET runs/{runId}',
      runUsers: 'GET runs/{runId}/users',
      runHeld: 'GET runs/{runId}/held',
      runApprove: 'POST runs/{runId}/approve',
      consoleConfig: 'GET console/config',
      consoleFiles: 'GET console/{*path}',
    });
  });

  it('takes the timer schedule and queue names from settings', () => {
    expect(functionDefinitions.find((definition) => definition.trigger === 'timer')).toMatchObject({
      schedule: '%SYNC_SCHEDULE%',
    });
    const queues = functionDefinitions.flatMap((definition) =>
      definition.trigger === 'queue' ? [definition] : [],
    );
    expect(queues.map((definition) => [definition.queueName, definition.connection])).toEqual([
      ['%IMPORT_QUEUE_NAME%', 'AzureWebJobsStorage'],
      ['%IMPORT_QUEUE_NAME%-poison', 'AzureWebJobsStorage'],
    ]);
  });

  it('gives up on a work item after as many deliveries as the poison path expects', async () => {
    const host = JSON.parse(await readFile(new URL('../../host.json', import.meta.url), 'utf8')) as {
      extensions: { queues: { maxDequeueCount: number } };
    };
    expect(host.extensions.queues.maxDequeueCount).toBe(5);
  });

  it('keeps business logic out of the functions: no function file imports the engine internals', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(new URL('../../functions/', import.meta.url), { recursive: true })).filter(
      (file) => file.endsWith('.ts'),
    );
    for (const file of files) {
      const text = await readFile(new URL(`../../functions/${file}`, import.meta.url), 'utf8');
      expect(text, file).not.toMatch(/shared\/(engine|storage\/(users|email-claims|licenses))/);
    }
  });
});
