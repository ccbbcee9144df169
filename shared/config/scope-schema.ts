/**
 * The `scope` section and Entra group references. Filter clauses follow Entra's provisioning scoping
 * filters: clauses in one filter are AND-ed, filters are OR-ed, and every operator but IS_NULL is false
 * on an empty value.
 * https://learn.microsoft.com/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts
 */
import { z } from 'zod';
import { checkSourcePath } from '../engine/source-properties.js';

export const groupReferenceSchema = z.union(
  [
    z.strictObject({ id: z.guid().meta({ description: 'Entra group object id.' }) }),
    z.strictObject({
      displayName: z
        .string()
        .min(1)
        .max(256)
        .meta({ description: 'Exact display name, case-sensitive, as shown in Entra.' }),
    }),
  ],
  { error: 'must be { "id": "<group object id>" } or { "displayName": "<exact group name>" }' },
);

export type GroupReference = z.output<typeof groupReferenceSchema>;

const attributePath = z
  .string()
  .superRefine((path, ctx) => {
    const check = checkSourcePath(path);
    if (!check.ok) {
      ctx.addIssue({ code: 'custom', message: check.message });
    } else if (check.kind === 'strings') {
      // Entra's scoping filters do not support multi-valued attributes either; mixing "any" and "all"
      // semantics per operator would surprise someone.
      ctx.addIssue({
        code: 'custom',
        message: `"${path}" is multi-valued; scoping filters take single values`,
      });
    }
  })
  .meta({ description: 'User property, e.g. department or employeeOrgData.division.' });

const noValueClause = z.strictObject({
  attribute: attributePath,
  operator: z.enum(['IS_NULL', 'IS_NOT_NULL', 'IS_TRUE', 'IS_FALSE']),
});

const textClause = z.strictObject({
  attribute: attributePath,
  operator: z.enum(['EQUALS', 'NOT_EQUALS', 'STARTS_WITH', 'ENDS_WITH', 'INCLUDES']),
  value: z.string().min(1),
});

const regexClause = z
  .strictObject({
    attribute: attributePath,
    operator: z.enum(['REGEX_MATCH', 'NOT_REGEX_MATCH']),
    value: z
      .string()
      .min(1)
      .superRefine((pattern, ctx) => {
        const problem = regexProblem(pattern);
        if (problem !== null)
          ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${problem}` });
      })
      .meta({ description: 'Regular expression, matched anywhere in the value, case-sensitive.' }),
  })
  // Compiled once here; without the u flag so that patterns from Entra's docs (`.*\@domain.com`) work.
  .transform((clause) => ({ ...clause, pattern: new RegExp(clause.value) }));

const inClause = z.strictObject({
  attribute: attributePath,
  operator: z.literal('IN'),
  value: z
    .array(z.string())
    .min(1)
    .meta({ description: 'The value must equal one of these (case-sensitive).' }),
});

const integerClause = z.strictObject({
  attribute: attributePath,
  operator: z.enum(['GREATER_THAN', 'GREATER_THAN_OR_EQUALS']),
  value: z.int().meta({ description: 'Integer; the attribute must hold an integer too.' }),
});

export const FILTER_OPERATORS = [
  ...noValueClause.shape.operator.options,
  ...textClause.shape.operator.options,
  'REGEX_MATCH',
  'NOT_REGEX_MATCH',
  'IN',
  ...integerClause.shape.operator.options,
] as const;

export const filterClauseSchema = z.discriminatedUnion(
  'operator',
  [noValueClause, textClause, regexClause, inClause, integerClause],
  {
    error: (issue) =>
      `${describeOperator(issue.input)} is not an operator; use one of ${FILTER_OPERATORS.join(', ')}`,
  },
);

export type FilterClause = z.output<typeof filterClauseSchema>;
export type FilterOperator = FilterClause['operator'];

export const filterSchema = z.strictObject({
  name: z
    .string()
    .max(256)
    .optional()
    .meta({ description: 'A title for reports, like Entra\'s "Scoping Filter Title".' }),
  clauses: z.array(filterClauseSchema).min(1).meta({ description: 'All clauses must hold (AND).' }),
});

export type ScopeFilter = z.output<typeof filterSchema>;

export const scopeSchema = z
  .strictObject({
    groups: z.array(groupReferenceSchema).default([]).meta({
      description: 'Users must be a member of at least one of these groups. Empty: the whole tenant.',
    }),
    nestedGroups: z
      .boolean()
      .default(false)
      .meta({ description: 'Count membership through nested groups, for scope and group mappings alike.' }),
    filters: z.array(filterSchema).default([]).meta({
      description: 'Scoping filters; a user must pass at least one (OR). Empty: no attribute filter.',
    }),
    includeGuests: z.boolean().default(false).meta({ description: 'Import guests (userType Guest).' }),
    includeDisabled: z.boolean().default(false).meta({ description: 'Import accounts disabled in Entra.' }),
  })
  // prefault runs the empty object through the schema, so the defaults above are stated once.
  .prefault({})
  .meta({ description: 'Who is imported. Without it: every enabled member of the tenant.' });

export type ScopeSetting = z.output<typeof scopeSchema>;

function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(
      /^Invalid regular expression: /,
      '',
    );
  }
}

/** The discriminator issue carries the whole clause; the message is about its operator. */
function describeOperator(clause: unknown): string {
  const operator =
    typeof clause === 'object' && clause !== null ? (clause as { operator?: unknown }).operator : clause;
  return operator === undefined ? 'a missing operator' : JSON.stringify(operator);
}
