/**
 * The shapes of simulated directory objects and the property sets Graph exposes for them. Names and
 * value types follow microsoft.graph.user and microsoft.graph.group (v1.0).
 */

export interface ObjectIdentity {
  readonly signInType: string;
  readonly issuer: string;
  readonly issuerAssignedId: string;
}

export interface UserRecord {
  id: string;
  accountEnabled: boolean;
  businessPhones: string[];
  city: string | null;
  companyName: string | null;
  country: string | null;
  createdDateTime: string;
  department: string | null;
  displayName: string;
  employeeId: string | null;
  externalUserState: string | null;
  givenName: string | null;
  identities: ObjectIdentity[];
  jobTitle: string | null;
  mail: string | null;
  mailNickname: string;
  mobilePhone: string | null;
  officeLocation: string | null;
  otherMails: string[];
  preferredLanguage: string | null;
  surname: string | null;
  usageLocation: string | null;
  userPrincipalName: string;
  userType: 'Member' | 'Guest';
}

export type UserProperty = keyof UserRecord;

/** Every user property the simulator serves, in Graph's usual order. */
export const USER_PROPERTIES: readonly UserProperty[] = [
  'id',
  'accountEnabled',
  'businessPhones',
  'city',
  'companyName',
  'country',
  'createdDateTime',
  'department',
  'displayName',
  'employeeId',
  'externalUserState',
  'givenName',
  'identities',
  'jobTitle',
  'mail',
  'mailNickname',
  'mobilePhone',
  'officeLocation',
  'otherMails',
  'preferredLanguage',
  'surname',
  'usageLocation',
  'userPrincipalName',
  'userType',
];

/** The properties /users returns without $select (user-list.md, "default properties"). */
export const USER_DEFAULT_PROPERTIES: readonly UserProperty[] = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** Properties a caller may change through the simulator's change API. */
export const USER_MUTABLE_PROPERTIES: ReadonlySet<string> = new Set(
  USER_PROPERTIES.filter((p) => p !== 'id' && p !== 'createdDateTime'),
);

/**
 * User properties stored outside the directory (in SharePoint): Graph answers 501 when a collection
 * request selects them, and delta never tracks them (delta-query-overview.md, "Limitations").
 */
export const USER_PROPERTIES_OUTSIDE_DIRECTORY: ReadonlySet<string> = new Set([
  'aboutme',
  'birthday',
  'hiredate',
  'interests',
  'mysite',
  'pastprojects',
  'preferredname',
  'responsibilities',
  'schools',
  'skills',
]);

export interface GroupRecord {
  id: string;
  classification: string | null;
  createdDateTime: string;
  deletedDateTime: string | null;
  description: string | null;
  displayName: string;
  expirationDateTime: string | null;
  groupTypes: string[];
  isAssignableToRole: boolean | null;
  mail: string | null;
  mailEnabled: boolean;
  mailNickname: string;
  membershipRule: string | null;
  membershipRuleProcessingState: string | null;
  onPremisesLastSyncDateTime: string | null;
  onPremisesSecurityIdentifier: string | null;
  onPremisesSyncEnabled: boolean | null;
  preferredDataLocation: string | null;
  preferredLanguage: string | null;
  proxyAddresses: string[];
  renewedDateTime: string;
  resourceBehaviorOptions: string[];
  resourceProvisioningOptions: string[];
  securityEnabled: boolean;
  securityIdentifier: string;
  theme: string | null;
  visibility: string | null;
  onPremisesProvisioningErrors: unknown[];
}

export type GroupProperty = keyof GroupRecord;

/** Every group property, which is also what /groups returns without $select (group-list.md). */
export const GROUP_PROPERTIES: readonly GroupProperty[] = [
  'id',
  'classification',
  'createdDateTime',
  'deletedDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesLastSyncDateTime',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'visibility',
  'onPremisesProvisioningErrors',
];

export const GROUP_MUTABLE_PROPERTIES: ReadonlySet<string> = new Set([
  'classification',
  'description',
  'displayName',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'securityEnabled',
  'theme',
  'visibility',
]);

/** Application permissions (app roles) the simulator knows; tokens carry the granted ones in `roles`. */
export const DEFAULT_APP_ROLES: readonly string[] = ['User.Read.All', 'GroupMember.Read.All'];

/**
 * A directory member reference: a user index as is, a group index g as -(g + 1). One signed 32-bit
 * integer per membership keeps a million memberships in 4 MB.
 */
export type MemberRef = number;

export function userRef(index: number): MemberRef {
  return index;
}

export function groupRef(index: number): MemberRef {
  return -(index + 1);
}

export function isGroupRef(ref: MemberRef): boolean {
  return ref < 0;
}

export function refIndex(ref: MemberRef): number {
  return ref < 0 ? -ref - 1 : ref;
}
