import { z } from 'zod';

/**
 * Validation for what callers hand the change API (in-process or through /_simulator/): the writable
 * user and group properties with Graph's value types. Unknown properties are rejected so a typo in a
 * test fails loudly instead of changing nothing.
 */

const nullableString = z.string().nullable();

export const userPatchSchema = z
  .object({
    accountEnabled: z.boolean(),
    businessPhones: z.array(z.string()),
    city: nullableString,
    companyName: nullableString,
    country: nullableString,
    department: nullableString,
    displayName: z.string().min(1),
    employeeId: nullableString,
    externalUserState: nullableString,
    givenName: nullableString,
    identities: z.array(
      z.object({ signInType: z.string(), issuer: z.string(), issuerAssignedId: z.string() }),
    ),
    jobTitle: nullableString,
    mail: nullableString,
    mailNickname: z.string().min(1),
    mobilePhone: nullableString,
    officeLocation: nullableString,
    otherMails: z.array(z.string()),
    preferredLanguage: nullableString,
    surname: nullableString,
    usageLocation: nullableString,
    userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'a user principal name looks like name@domain'),
    userType: z.enum(['Member', 'Guest']),
  })
  .partial()
  .strict();

export type UserPatch = z.infer<typeof userPatchSchema>;

export const groupPatchSchema = z
  .object({
    classification: nullableString,
    description: nullableString,
    displayName: z.string().min(1),
    groupTypes: z.array(z.string()),
    isAssignableToRole: z.boolean().nullable(),
    mail: nullableString,
    mailEnabled: z.boolean(),
    mailNickname: z.string().min(1),
    preferredDataLocation: nullableString,
    preferredLanguage: nullableString,
    proxyAddresses: z.array(z.string()),
    securityEnabled: z.boolean(),
    theme: nullableString,
    visibility: nullableString,
  })
  .partial()
  .strict();

export type GroupPatch = z.infer<typeof groupPatchSchema>;

/** Formats a zod failure as one line for an error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}
