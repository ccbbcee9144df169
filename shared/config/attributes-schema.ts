/**
 * The `attributes` section: target attribute -> Entra-style expression, or { "constant": value }, or
 * null to drop a default. Expressions are parsed here, once, so a bad one fails validation with its
 * position and runs only evaluate parsed trees.
 */
import { z } from 'zod';
import { parseExpression } from '../engine/expressions.js';
import {
  DEFAULT_ATTRIBUTE_MAPPING,
  REQUIRED_TARGET_ATTRIBUTES,
  type AttributeMapping,
  type AttributeSource,
} from '../engine/mapping.js';

/** Names that are safe as Table Storage property names and as JSON keys for any consumer. */
const TARGET_ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const expressionSchema = z
  .string()
  .max(2000)
  .transform((text, ctx): AttributeSource => {
    const parsed = parseExpression(text);
    if (!parsed.ok) {
      ctx.issues.push({
        code: 'custom',
        input: text,
        message: `expression error at position ${parsed.position}: ${parsed.message}`,
      });
      return z.NEVER;
    }
    return { kind: 'expression', text, expression: parsed.expression };
  })
  .meta({
    description:
      'Entra-style expression: [property], "text", or Function(args). E.g. Coalesce([mail], [userPrincipalName]).',
  });

const constantSchema = z
  .strictObject({
    constant: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  })
  .transform(({ constant }): AttributeSource => ({ kind: 'constant', value: constant }))
  .meta({ description: 'The same value for every user.' });

export const attributesSchema = z
  .record(
    z
      .string()
      .regex(
        TARGET_ATTRIBUTE_NAME,
        'attribute names start with a letter and have only letters, digits and _',
      ),
    z.union(
      [expressionSchema, constantSchema, z.null().meta({ description: 'Drops a default attribute.' })],
      {
        error: 'must be an expression string, { "constant": value }, or null to drop a default',
      },
    ),
  )
  .superRefine((overrides, ctx) => {
    for (const required of REQUIRED_TARGET_ATTRIBUTES) {
      if (overrides[required] === null) {
        ctx.addIssue({
          code: 'custom',
          path: [required],
          message: `${required} is required and cannot be dropped`,
        });
      }
    }
  })
  .optional()
  .transform((overrides): AttributeMapping => {
    const mapping = new Map<string, AttributeSource | null>(Object.entries(DEFAULT_ATTRIBUTE_MAPPING));
    for (const [target, source] of Object.entries(overrides ?? {})) mapping.set(target, source);
    return Object.fromEntries(
      [...mapping].filter((entry): entry is [string, AttributeSource] => entry[1] !== null),
    );
  })
  .meta({
    description:
      'App user attributes, laid over the defaults (userName, mail, givenName, sn, displayName, accountEnabled).',
  });
