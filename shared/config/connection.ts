/**
 * One connection = one Entra tenant and app registration feeding one division of the app's users. This
 * zod schema is the single source of truth: the TypeScript types, schema/connection.schema.json and
 * docs/configuration.md all come from it. Every object is strict, so a misspelt key is an error that
 * names its path instead of a setting silently left at its default.
 */
import { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { attributesSchema } from './attributes-schema.js';
import { cloudSchema } from './cloud.js';
import { describeIssues, type ConfigIssue } from './issues.js';
import { policySchema } from './policy-schema.js';
import { scheduleSchema } from './schedule.js';
import { groupReferenceSchema, scopeSchema } from './scope-schema.js';

/** Lower-case letters, digits and inner dashes: safe as a table key, in URLs and in queue messages. */
const CONNECTION_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const ENVIRONMENT_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Key Vault object names: 1-127 letters, digits and dashes. */
const KEY_VAULT_NAME = /^[A-Za-z0-9-]{1,127}$/;
const LICENSE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

const secretReferenceSchema = z.union(
  [
    z.strictObject({
      env: z.string().regex(ENVIRONMENT_VARIABLE, 'must be an environment variable name').meta({
        description: 'Name of the app setting that holds it (may itself be a Key Vault reference).',
      }),
    }),
    z.strictObject({
      keyVault: z
        .string()
        .regex(KEY_VAULT_NAME, 'must be a Key Vault secret name: letters, digits and dashes')
        .meta({ description: "Name of the secret in the app's Key Vault." }),
    }),
  ],
  {
    error: 'must be a reference, { "env": "NAME" } or { "keyVault": "secret-name" }, never the secret itself',
  },
);

export type SecretReference = z.output<typeof secretReferenceSchema>;

const licenseName = z
  .string()
  .regex(LICENSE_NAME, 'licence names are 1-64 letters, digits, spaces and . _ -');

const groupMappingSchema = z
  .strictObject({
    group: groupReferenceSchema,
    appGroup: z.string().min(1).max(256).optional().meta({ description: 'App group the members join.' }),
    license: licenseName
      .optional()
      .meta({ description: 'Licence for the members; must be listed in licenses.seats.' }),
    roles: z
      .array(z.string().min(1).max(256))
      .default([])
      .meta({ description: 'App roles for the members.' }),
  })
  .refine(
    (mapping) => mapping.appGroup !== undefined || mapping.license !== undefined || mapping.roles.length > 0,
    {
      message: 'a group mapping needs an appGroup, a license or roles',
    },
  );

export type GroupMappingSetting = z.output<typeof groupMappingSchema>;

const licensesSchema = z
  .strictObject({
    seats: z
      .record(licenseName, z.int().min(0))
      .default({})
      .meta({ description: 'Licence name to the number of seats in its pool.' }),
    default: licenseName
      .optional()
      .meta({ description: 'Licence for in-scope users whose groups give none; must be listed in seats.' }),
  })
  .superRefine((licenses, ctx) => {
    if (licenses.default !== undefined && !(licenses.default in licenses.seats)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `"${licenses.default}" is not listed in seats`,
      });
    }
  })
  .prefault({})
  .meta({ description: 'Licence pools. Without it, no licences are assigned.' });

export const connectionConfigSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Lets editors find this schema; ignored.' }),
    id: z
      .string()
      .regex(CONNECTION_ID, 'must be 1-64 lower-case letters, digits and inner dashes')
      .meta({ description: 'Stable id of the connection; links and e-mail claims are kept under it.' }),
    displayName: z.string().min(1).max(256).optional(),
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: 'A disabled connection is skipped by every run.' }),
    tenantId: z
      .union([z.guid(), z.string().regex(DOMAIN_NAME)], {
        error: 'must be the tenant id (a GUID) or one of its verified domains, e.g. contoso.onmicrosoft.com',
      })
      .meta({ description: 'Entra tenant id or verified domain.' }),
    clientId: z
      .guid('must be the application (client) id, a GUID')
      .meta({ description: 'App registration id.' }),
    clientSecret: secretReferenceSchema
      .optional()
      .meta({ description: 'Where to find the client secret. Give this or certificate.' }),
    certificate: secretReferenceSchema.optional().meta({
      description: 'Where to find the client certificate (PEM with key). Give this or clientSecret.',
    }),
    cloud: cloudSchema,
    division: z.string().min(1).max(256).meta({
      description: "Company or division this connection's users belong to; e-mail matching stays within it.",
    }),
    scope: scopeSchema,
    attributes: attributesSchema,
    groupMappings: z.array(groupMappingSchema).default([]).meta({
      description:
        'Entra group to app group, licence and roles. For licences, the first matching mapping wins.',
    }),
    licenses: licensesSchema,
    policy: policySchema,
    schedule: scheduleSchema,
  })
  .superRefine((config, ctx) => {
    if (config.clientSecret === undefined && config.certificate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'give clientSecret or certificate' });
    }
    if (config.clientSecret !== undefined && config.certificate !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificate'],
        message: 'give clientSecret or certificate, not both',
      });
    }
    for (const [index, mapping] of config.groupMappings.entries()) {
      if (mapping.license !== undefined && !(mapping.license in config.licenses.seats)) {
        ctx.addIssue({
          code: 'custom',
          path: ['groupMappings', index, 'license'],
          message: `"${mapping.license}" is not listed in licenses.seats`,
        });
      }
    }
  })
  .meta({
    title: 'EntraSync connection',
    description: 'One Entra tenant feeding one division of app users.',
  });

/** The document as an administrator writes it. */
export type ConnectionConfigDocument = z.input<typeof connectionConfigSchema>;
/** The validated connection with defaults filled in and expressions parsed. */
export type ConnectionConfig = z.output<typeof connectionConfigSchema>;

export type ConnectionValidation =
  | { readonly ok: true; readonly config: ConnectionConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export function validateConnectionConfig(input: unknown): ConnectionValidation {
  const result = connectionConfigSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: describeIssues(result.error.issues) };
}

/** Validates a connection document; throws BadRequestError listing every problem with its path. */
export function parseConnectionConfig(input: unknown): ConnectionConfig {
  const validation = validateConnectionConfig(input);
  if (validation.ok) return validation.config;
  const lines = validation.issues.map(
    (issue) => `${issue.path === '' ? '(document)' : issue.path}: ${issue.message}`,
  );
  throw new BadRequestError(`The connection configuration is invalid:\n${lines.join('\n')}`, {
    nextStep: 'Correct the listed settings; schema/connection.schema.json describes every one.',
    details: { issues: validation.issues },
  });
}
