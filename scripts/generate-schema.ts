/**
 * Writes schema/connection.schema.json from the zod schema in shared/config/connection.ts.
 *   npx tsx scripts/generate-schema.ts           write the file
 *   npx tsx scripts/generate-schema.ts --check   exit 1 if the committed file is out of date
 * Formatted with the repository's Prettier settings so that `prettier --check .` accepts it as written.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { connectionJsonSchema } from '../shared/config/json-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/connection.schema.json', import.meta.url));

export async function renderConnectionSchemaFile(): Promise<string> {
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return await prettier.format(JSON.stringify(connectionJsonSchema()), { ...options, parser: 'json' });
}

async function main(argv: readonly string[]): Promise<number> {
  const rendered = await renderConnectionSchemaFile();
  if (argv.includes('--check')) {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (committed === rendered) return 0;
    console.error(`${SCHEMA_FILE} is out of date; run npx tsx scripts/generate-schema.ts`);
    return 1;
  }
  await writeFile(SCHEMA_FILE, rendered);
  console.log(`Wrote ${SCHEMA_FILE}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
