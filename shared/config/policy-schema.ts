/**
 * The `policy` section: an action per situation (only those that make sense for it) and the deletion
 * threshold. Built from the engine's tables so the schema and the engine cannot disagree.
 */
import { z } from 'zod';
import { ALLOWED_ACTIONS, type ConfigurableSituation } from '../engine/policy.js';
import { DEFAULT_DELETION_THRESHOLD } from '../engine/threshold.js';

function actionSchema<S extends ConfigurableSituation>(situation: S) {
  const allowed = ALLOWED_ACTIONS[situation];
  return z
    .enum(allowed, {
      error: (issue) =>
        `${typeof issue.input === 'string' ? issue.input : JSON.stringify(issue.input)} is not an action for ${situation}; allowed: ${allowed.join(', ')}`,
    })
    .optional()
    .meta({ description: `Default ${allowed[0]}. Allowed: ${allowed.join(', ')}.` });
}

// Spelt out rather than built in a loop so that each key keeps its own narrow action type.
const actionSchemas = {
  ABSENT: actionSchema('ABSENT'),
  CONFIRMED: actionSchema('CONFIRMED'),
  FOUND: actionSchema('FOUND'),
  CONFLICT: actionSchema('CONFLICT'),
  AMBIGUOUS: actionSchema('AMBIGUOUS'),
  UNQUALIFIED: actionSchema('UNQUALIFIED'),
  SOURCE_SOFT_DELETED: actionSchema('SOURCE_SOFT_DELETED'),
  SOURCE_DELETED: actionSchema('SOURCE_DELETED'),
  RESTORED: actionSchema('RESTORED'),
  NO_SEAT: actionSchema('NO_SEAT'),
} satisfies { [S in ConfigurableSituation]: unknown };

export const deletionThresholdSchema = z
  .strictObject({
    count: z.int().min(0).optional().meta({ description: 'Most deletions plus suspensions a run may make.' }),
    percent: z.number().min(0).max(100).optional().meta({
      description: 'Most deletions plus suspensions a run may make, as a percentage of the linked users.',
    }),
  })
  .refine((threshold) => threshold.count !== undefined || threshold.percent !== undefined, {
    message: 'give a count, a percent, or both (the smaller limit applies)',
  })
  .default({ ...DEFAULT_DELETION_THRESHOLD })
  .meta({
    description: `A run that would delete or suspend more is held for confirmation. Default: the smaller of ${DEFAULT_DELETION_THRESHOLD.count} and ${DEFAULT_DELETION_THRESHOLD.percent}% of linked users.`,
  });

export const policySchema = z
  .strictObject({
    actions: z
      .strictObject(actionSchemas)
      .default({})
      .meta({ description: 'Overrides of the default action per situation.' }),
    deletionThreshold: deletionThresholdSchema,
  })
  .prefault({})
  .meta({ description: 'What to do in each situation, and when to hold a run.' });

export type PolicySetting = z.output<typeof policySchema>;
