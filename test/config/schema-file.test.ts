import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderConnectionSchemaFile, SCHEMA_FILE } from '../../scripts/generate-schema.js';
import { ALLOWED_ACTIONS } from '../../shared/engine/policy.js';

describe('schema/connection.schema.json', () => {
  it('is what the zod schema generates (run npx tsx scripts/generate-schema.ts if not)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed).toBe(await renderConnectionSchemaFile());
  });

  it('rejects unknown keys and carries the allowed actions per situation', async () => {
    const schema = JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as {
      additionalProperties: unknown;
      required: string[];
      properties: { policy: { properties: { actions: { properties: Record<string, { enum: string[] }> } } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['id', 'tenantId', 'clientId', 'division']);
    const actions = schema.properties.policy.properties.actions.properties;
    expect(actions['SOURCE_DELETED']?.enum).toEqual([...ALLOWED_ACTIONS.SOURCE_DELETED]);
    expect(actions['SOURCE_DELETED']?.enum).not.toContain('CREATE');
  });
});
