import { z } from 'zod';
import { BadRequestError } from '../shared/errors.js';
import type { StoredConnection } from '../shared/storage/connections.js';
import { adminRoute } from './http/admin-route.js';
import { readJson } from './http/request.js';
import { json } from './http/responses.js';

/** Connections: list, read, create or replace, enable or disable. */

/** What the API shows of a connection: the document holds secret references only, never values. */
export function connectionView(connection: StoredConnection): Record<string, unknown> {
  return {
    id: connection.id,
    enabled: connection.enabled,
    document: connection.document,
    consent: connection.consent,
    lastRun: connection.lastRunId
      ? { runId: connection.lastRunId, at: connection.lastRunAt, status: connection.lastRunStatus }
      : null,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
  };
}

export const listConnections = adminRoute(async (_request, app) => {
  const connections = await app.service.listConnections();
  return json(200, { connections: connections.map(connectionView) });
});

export const getConnection = adminRoute(async (request, app) => {
  const { stored } = await app.service.getConnection(request.params.id ?? '');
  return json(200, connectionView(stored));
});

export const putConnection = adminRoute(async (request, app) => {
  const id = request.params.id ?? '';
  // The document's own schema is the connection schema, checked by the service; here only its shape.
  const document = await readJson(request, z.record(z.string(), z.unknown()));
  if (document.id !== undefined && document.id !== id) {
    throw new BadRequestError(
      `The document's id (${JSON.stringify(document.id)}) differs from the URL's (${id}).`,
    );
  }
  const existed = (await app.service.listConnections()).some((connection) => connection.id === id);
  const stored = await app.service.applyConnection({ ...document, id });
  return json(existed ? 200 : 201, connectionView(stored));
});

export const patchConnection = adminRoute(async (request, app) => {
  const { enabled } = await readJson(request, z.strictObject({ enabled: z.boolean() }));
  const stored = await app.service.setEnabled(request.params.id ?? '', enabled);
  return json(200, connectionView(stored));
});
