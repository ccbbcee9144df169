import { z } from 'zod';

/**
 * Shapes of what Graph sends, checked at the edge. Object schemas are loose: a property the caller
 * selected but that is not listed here is kept as it came, and an absent property stays absent (absent
 * means "not carried" in a delta response, null means "cleared"), so that the engine can merge partial
 * objects onto what it stored.
 */

/**
 * Ids are non-empty strings. No GUID check: the groups delta walk-through shows a member id with 11
 * hex digits in its last group (https://learn.microsoft.com/graph/delta-query-groups).
 */
export const idSchema = z.string().min(1);

export const removedReasonSchema = z.enum(['changed', 'deleted']);
export type RemovedReason = z.infer<typeof removedReasonSchema>;

/**
 * "changed": soft-deleted, restorable from deletedItems; "deleted": gone for good.
 * https://learn.microsoft.com/graph/delta-query-overview (Resource representation)
 */
export const removedSchema = z.looseObject({ reason: removedReasonSchema });

const str = z.string().nullable().optional();
const bool = z.boolean().nullable().optional();
const strings = z.array(z.string()).nullable().optional();
const objects = z.array(z.looseObject({})).nullable().optional();

export const userSchema = z.looseObject({
  id: idSchema,
  '@odata.type': z.string().optional(),
  accountEnabled: bool,
  businessPhones: strings,
  city: str,
  companyName: str,
  country: str,
  createdDateTime: str,
  deletedDateTime: str,
  department: str,
  displayName: str,
  employeeId: str,
  employeeType: str,
  externalUserState: str,
  givenName: str,
  identities: objects,
  jobTitle: str,
  mail: str,
  mailNickname: str,
  mobilePhone: str,
  officeLocation: str,
  onPremisesImmutableId: str,
  onPremisesSamAccountName: str,
  onPremisesSyncEnabled: bool,
  onPremisesUserPrincipalName: str,
  otherMails: strings,
  preferredLanguage: str,
  proxyAddresses: strings,
  surname: str,
  usageLocation: str,
  userPrincipalName: str,
  userType: str,
});
export type GraphUser = z.infer<typeof userSchema>;

export const groupSchema = z.looseObject({
  id: idSchema,
  '@odata.type': z.string().optional(),
  classification: str,
  createdDateTime: str,
  deletedDateTime: str,
  description: str,
  displayName: str,
  expirationDateTime: str,
  groupTypes: strings,
  isAssignableToRole: bool,
  mail: str,
  mailEnabled: bool,
  mailNickname: str,
  membershipRule: str,
  membershipRuleProcessingState: str,
  onPremisesSecurityIdentifier: str,
  onPremisesSyncEnabled: bool,
  proxyAddresses: strings,
  securityEnabled: bool,
  visibility: str,
});
export type GraphGroup = z.infer<typeof groupSchema>;

/** A directory object reference: members, members@delta entries, transitive members. */
export const memberRefSchema = z.looseObject({
  id: idSchema,
  '@odata.type': z.string().optional(),
  '@removed': removedSchema.optional(),
});

export const organizationSchema = z.looseObject({
  id: idSchema,
  displayName: str,
  tenantType: str,
  verifiedDomains: z
    .array(
      z.looseObject({
        name: z.string(),
        isDefault: bool,
        isInitial: bool,
        type: str,
        capabilities: str,
      }),
    )
    .nullable()
    .optional(),
});
export type GraphOrganization = z.infer<typeof organizationSchema>;

/** A collection page. `value` items are parsed one by one elsewhere, so that one bad item stays one. */
export const collectionEnvelopeSchema = z.looseObject({
  value: z.array(z.unknown()),
  '@odata.context': z.string().optional(),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
  '@odata.count': z.number().int().nonnegative().optional(),
});
export type CollectionEnvelope = z.infer<typeof collectionEnvelopeSchema>;

const innerErrorSchema = z.looseObject({
  'request-id': z.string().optional(),
  // An older revision of concepts/errors.md spells it requestId.
  requestId: z.string().optional(),
  'client-request-id': z.string().optional(),
  date: z.string().optional(),
  // The throttling page shows code and status as strings ("429").
  code: z.string().optional(),
  status: z.union([z.string(), z.number()]).optional(),
});

/** The error envelope: https://learn.microsoft.com/graph/errors. `code` may be "" (JSON batching page). */
export const graphErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string().optional(),
    innerError: innerErrorSchema.optional(),
    innererror: innerErrorSchema.optional(),
  }),
});
export type GraphErrorBody = z.infer<typeof graphErrorBodySchema>;

/** `$count` answers text/plain with a bare integer. */
export const countTextSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .pipe(z.string().regex(/^\d+$/, 'expected a non-negative integer'))
  .transform(Number);
