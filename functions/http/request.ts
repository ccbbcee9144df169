import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { BadRequestError } from '../../shared/errors.js';
import { HttpError } from './responses.js';

/** Connection documents are a few KB; anything near this is not one. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Reads and validates a JSON body: malformed JSON, wrong types and oversized bodies write nothing. */
export async function readJson<T>(request: HttpRequest, schema: z.ZodType<T>): Promise<T> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, 'payload_too_large', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  const type = request.headers.get('content-type') ?? 'application/json';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new HttpError(413, 'payload_too_large', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new BadRequestError('The body is not valid JSON.');
  }
  return parseInput(schema, body, 'body');
}

/** Validates query parameters (or any input) with zod, naming every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new BadRequestError(`The request ${where} is not valid.`, {
      details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return parsed.data;
}

export function queryObject(request: HttpRequest): Record<string, string> {
  return Object.fromEntries(request.query.entries());
}
