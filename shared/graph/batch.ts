import { z } from 'zod';
import { GraphRequestError } from './errors.js';

/**
 * JSON batching: the envelope of POST /$batch and of its answer, and how a page's absolute nextLink
 * becomes a url a batch can carry. https://learn.microsoft.com/graph/json-batching
 */

/** Graph takes at most 20 requests in one batch (json-batching, "Batch size limitations"). */
export const MAX_BATCH_REQUESTS = 20;

export interface BatchRequestItem {
  readonly id: string;
  readonly method: 'GET';
  /** Relative to the version root: '/groups/{id}/members?$select=id'. */
  readonly url: string;
}

const batchAnswerSchema = z.object({
  responses: z.array(
    z.looseObject({
      // Ids travel as strings; compared without case, as Graph does.
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

export interface BatchAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/**
 * The answers of a batch by request id. Answers may come in any order; one that is missing, or a body
 * that is not a batch answer, fails the whole batch (nothing in it can be trusted).
 */
export function parseBatchAnswer(body: unknown, ids: readonly string[]): Map<string, BatchAnswer> {
  const parsed = batchAnswerSchema.safeParse(body);
  if (!parsed.success) {
    throw new GraphRequestError('Graph answered a $batch with a body that is not a batch answer.', {
      nextStep: 'Retry; if it persists, report it with the request-id.',
    });
  }
  const byId = new Map<string, BatchAnswer>();
  for (const answer of parsed.data.responses) {
    byId.set(answer.id.toLowerCase(), {
      status: answer.status,
      headers: answer.headers ?? {},
      body: answer.body,
    });
  }
  const answers = new Map<string, BatchAnswer>();
  for (const id of ids) {
    const answer = byId.get(id.toLowerCase());
    if (!answer) {
      throw new GraphRequestError(`Graph's $batch answer has no response for request ${id}.`, {
        nextStep: 'Retry; if it persists, report it with the request-id.',
      });
    }
    answers.set(id, answer);
  }
  return answers;
}

/**
 * A nextLink as a url inside a batch: relative to the version root the batch is posted to. Undefined
 * when it is not under that root (another version, say), so that the caller follows it on its own.
 */
export function batchUrlOf(nextLink: string, graphBaseUrl: string, version = 'v1.0'): string | undefined {
  const root = new URL(`${graphBaseUrl.replace(/\/+$/, '')}/${version}/`);
  const link = new URL(nextLink);
  if (link.origin !== root.origin || !link.pathname.startsWith(root.pathname)) return undefined;
  return `/${link.pathname.slice(root.pathname.length)}${link.search}`;
}
