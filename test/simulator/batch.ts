import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { GraphHttpError, badRequest, graphErrorBody } from './graph-errors.js';
import { jsonResponse, type SimRequest, type SimResponse } from './http-types.js';
import { segmentsOf } from './server.js';

/**
 * JSON batching: POST /v1.0/$batch with up to 20 individual requests, answered 200 with one response
 * per request, each with its own status, headers and body (concepts/json-batching.md). The individual
 * requests go through the same routes as plain requests, with the batch's token; each is counted and
 * can be failed by an injected fault (429 with Retry-After inside a 200 batch, as
 * concepts/throttling.md, "Throttling and batching", describes).
 */

/** concepts/json-batching.md, "Batch size limitations". */
export const MAX_BATCH_REQUESTS = 20;

const batchRequestSchema = z.object({
  id: z.string().min(1),
  method: z.string().min(1),
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  dependsOn: z.array(z.string()).optional(),
});
const batchSchema = z.object({ requests: z.array(batchRequestSchema) });
type BatchRequest = z.infer<typeof batchRequestSchema>;

/** What the simulator does with one individual request, once the batch is accepted. */
export interface BatchDispatch {
  /** Counts it, applies injected faults, and routes it like a plain request. */
  run(req: SimRequest): Promise<SimResponse>;
  /** The simulator's origin, to resolve relative urls: 'https://localhost:PORT'. */
  readonly origin: string;
  /** Answers in another order than asked (the shuffle quirk): clients must match responses by id. */
  readonly shuffle: boolean;
}

/** Parses and checks the batch as a whole: a malformed batch fails whole with 400 (json-batching.md). */
function parseBatch(body: Buffer): BatchRequest[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('Invalid batch payload format.');
  }
  const parsed = batchSchema.safeParse(json);
  if (!parsed.success) throw badRequest('Invalid batch payload format.');
  const requests = parsed.data.requests;
  if (requests.length === 0) throw badRequest('The batch request must contain at least one request.');
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw badRequest(`A batch request can hold at most ${MAX_BATCH_REQUESTS} requests.`);
  }
  // Ids are compared without case (json-batching.md: "Not case-sensitive").
  const seen = new Set<string>();
  for (const request of requests) {
    const id = request.id.toLowerCase();
    if (seen.has(id)) throw badRequest(`The batch request contains the id '${request.id}' twice.`);
    // A request may only wait for one that comes before it: the simulator runs them in order.
    for (const dependency of request.dependsOn ?? []) {
      if (!seen.has(dependency.toLowerCase())) {
        throw badRequest(`Request '${request.id}' depends on '${dependency}', which is not before it.`);
      }
    }
    seen.add(id);
  }
  return requests;
}

function lowerCaseHeaders(headers: Readonly<Record<string, string>> | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/** The individual request as a plain one: the url is relative to /v1.0, the batch's token applies. */
function toSimRequest(outer: SimRequest, request: BatchRequest, origin: string): SimRequest {
  // "users?$select=..." and "/users?$select=..." are both relative (json-batching.md shows both).
  if (/^[a-z][a-z0-9+.-]*:/i.test(request.url)) {
    throw badRequest('The url of a batched request must be relative, like /users.');
  }
  const relative = request.url.startsWith('/') ? request.url : `/${request.url}`;
  const url = new URL(`/v1.0${relative}`, origin);
  const authorization = outer.headers.authorization;
  const body =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(typeof request.body === 'string' ? request.body : JSON.stringify(request.body));
  return {
    method: request.method.toUpperCase(),
    url,
    segments: segmentsOf(url.pathname),
    headers: { ...lowerCaseHeaders(request.headers), ...(authorization ? { authorization } : {}) },
    body,
    requestId: randomUUID(),
    clientRequestId: outer.clientRequestId,
  };
}

function errorResponse(error: GraphHttpError, req: { requestId: string; clientRequestId?: string }) {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
    body: graphErrorBody(error, req.requestId, req.clientRequestId),
  };
}

/**
 * One response object of the batch, as JSON text. A JSON body is spliced in as it is (it is JSON
 * already); any other body is a JSON string (text as is, per the OData JSON batch format).
 */
function responseJson(id: string, response: SimResponse): string {
  const headers = response.headers ?? {};
  const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  const body = response.body ?? '';
  const bodyJson = body === '' ? undefined : /json/i.test(type) ? body : JSON.stringify(body);
  const parts = [
    `"id":${JSON.stringify(id)}`,
    `"status":${response.status}`,
    `"headers":${JSON.stringify(headers)}`,
  ];
  if (bodyJson !== undefined) parts.push(`"body":${bodyJson}`);
  return `{${parts.join(',')}}`;
}

/** Answers POST /v1.0/$batch. The caller has authenticated the batch. */
export async function handleBatch(outer: SimRequest, dispatch: BatchDispatch): Promise<SimResponse> {
  if (outer.method !== 'POST') {
    throw new GraphHttpError(
      405,
      'Request_BadRequest',
      'Specified HTTP method is not allowed for the request target.',
    );
  }
  const requests = parseBatch(outer.body);
  const statusById = new Map<string, number>();
  const answers: string[] = [];
  for (const request of requests) {
    let response: SimResponse;
    const failedDependency = (request.dependsOn ?? []).find(
      (dependency) => (statusById.get(dependency.toLowerCase()) ?? 0) >= 400,
    );
    if (failedDependency !== undefined) {
      // json-batching.md: a request whose dependency failed fails with 424 (Failed Dependency).
      response = errorResponse(
        new GraphHttpError(424, 'FailedDependency', `Request '${failedDependency}' failed.`),
        { requestId: randomUUID(), clientRequestId: outer.clientRequestId },
      );
    } else {
      try {
        const inner = toSimRequest(outer, request, dispatch.origin);
        if (inner.segments[1] === '$batch') throw badRequest('A batch cannot hold another batch.');
        response = await dispatch.run(inner);
      } catch (error) {
        if (!(error instanceof GraphHttpError)) throw error;
        response = errorResponse(error, { requestId: randomUUID(), clientRequestId: outer.clientRequestId });
      }
    }
    statusById.set(request.id.toLowerCase(), response.status);
    answers.push(responseJson(request.id, response));
  }
  // "Individual responses might appear in a different order than the requests" (json-batching.md).
  if (dispatch.shuffle) answers.reverse();
  return jsonResponse(200, `{"responses":[${answers.join(',')}]}`);
}
