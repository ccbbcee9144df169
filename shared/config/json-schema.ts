/**
 * The JSON Schema of a connection document, generated from the zod schema so the two cannot drift.
 * Editors use it for completion and checking; it describes the input side (what an administrator
 * writes), with defaults shown.
 */
import { z } from 'zod';
import { connectionConfigSchema } from './connection.js';

export function connectionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(connectionConfigSchema, { io: 'input', target: 'draft-2020-12' });
}
