import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConnectionConfig, validateConnectionConfig } from '../../shared/config/connection.js';
import { FILTER_OPERATORS } from '../../shared/config/scope-schema.js';
import { decide } from '../../shared/engine/decide.js';
import { ALLOWED_ACTIONS, SITUATIONS, defaultAction } from '../../shared/engine/policy.js';
import { createRunContext, referencedGroups } from '../../shared/engine/run-context.js';
import { connectionDocument, decisionInput, sourceUser } from '../engine/factories.js';

const configurationDoc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const reconciliationDoc = await readFile(new URL('../../docs/reconciliation.md', import.meta.url), 'utf8');

/** The JSON code blocks that follow a marker comment. */
function jsonBlocksAfter(markdown: string, marker: string): unknown[] {
  const pattern = new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``, 'g');
  return [...markdown.matchAll(pattern)].map((match) => JSON.parse(match[1] ?? '') as unknown);
}

/** Rows of the markdown table that follows a marker comment, as arrays of trimmed cells. */
function tableAfter(markdown: string, marker: string): string[][] {
  const start = markdown.indexOf(`<!-- ${marker}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((line) => line.startsWith('|')));
  const rows = table.slice(
    0,
    table.findIndex((line) => !line.startsWith('|')),
  );
  return rows.slice(2).map((row) =>
    row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
}

describe('docs/configuration.md', () => {
  const [fullExample] = jsonBlocksAfter(configurationDoc, 'full-example');

  it('has a full example that validates against the schema', () => {
    expect(fullExample).toBeDefined();
    const result = validateConnectionConfig(fullExample);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('has a full example whose groups resolve and which decides a user', () => {
    const config = parseConnectionConfig(fullExample);
    const { ids, displayNames } = referencedGroups(config);
    const groups = [
      ...ids.map((id, index) => ({ id, displayName: `Group ${index}` })),
      ...displayNames.map((displayName, index) => ({
        id: `dddddddd-0000-0000-0000-${String(index).padStart(12, '0')}`,
        displayName,
      })),
    ];
    const context = createRunContext(config, groups);
    const staff = groups.find((group) => group.displayName === 'EMEA Staff');
    const user = sourceUser(
      {
        userPrincipalName: 'Ada.L@contoso.com',
        mail: null,
        employeeType: 'Employee',
        businessPhones: ['+44 1', '+44 2'],
      },
      { memberOf: staff === undefined ? [] : [staff.id] },
    );
    const decision = decide(context, decisionInput(user, { freeSeats: { standard: 1 } }));
    expect(decision).toMatchObject({ situation: 'ABSENT', action: 'CREATE' });
    expect(decision.mapped).toMatchObject({
      attributes: {
        mail: 'ada.l@contoso.com',
        company: 'Contoso Ltd',
        department: 'Unassigned',
        phone: '+44 1, +44 2',
      },
      appGroups: ['staff'],
      roles: ['reader'],
      license: 'standard',
    });
  });

  it('has fragments that each validate when added to the minimal document', () => {
    const fragments = jsonBlocksAfter(configurationDoc, 'fragment');
    expect(fragments.length).toBeGreaterThanOrEqual(5);
    for (const fragment of fragments) {
      const result = validateConnectionConfig({ ...connectionDocument(), ...(fragment as object) });
      expect(result.ok ? [] : result.issues, JSON.stringify(fragment)).toEqual([]);
    }
  });

  it('documents every filter operator', () => {
    for (const operator of FILTER_OPERATORS) expect(configurationDoc).toContain(`\`${operator}\``);
  });
});

describe('docs/reconciliation.md', () => {
  it('lists the allowed actions of every situation as the engine has them', () => {
    const rows = tableAfter(reconciliationDoc, 'allowed-actions');
    const documented = Object.fromEntries(
      rows.map(([situation = '', actions = '']) => [
        situation,
        actions.replace(/\s*\(.*\)$/, '').split(/,\s*/),
      ]),
    );
    expect(documented).toEqual(
      Object.fromEntries(SITUATIONS.map((situation) => [situation, [...ALLOWED_ACTIONS[situation]]])),
    );
  });

  it('gives every situation its default action in the situations table', () => {
    const rows = tableAfter(reconciliationDoc, 'situations');
    const defaults = Object.fromEntries(
      rows.map((row): [string, string] => [row[0] ?? '', row.at(-1) ?? '']),
    );
    expect(defaults).toEqual(
      Object.fromEntries(SITUATIONS.map((situation) => [situation, defaultAction(situation)])),
    );
  });
});
