/**
 * Entra groups to app groups, roles and a licence. App groups and roles are the union over every
 * matching mapping. A user can hold one licence only, so when several matching mappings give different
 * licences the first in document order wins: administrators order the list by priority, as they would
 * firewall rules, and the outcome never depends on seat counts or names. The default licence is for
 * in-scope users whom no mapping gives one.
 */

export interface ResolvedGroupMapping {
  readonly groupId: string;
  /** How the administrator named the group, for reasons in reports. */
  readonly groupLabel: string;
  readonly appGroup: string | null;
  readonly license: string | null;
  readonly roles: readonly string[];
}

export interface GroupMappingResult {
  readonly appGroups: readonly string[];
  readonly roles: readonly string[];
  readonly license: string | null;
  /** Where the licence comes from: the group's label, 'default', or null when there is none. */
  readonly licenseSource: string | null;
}

export function mapGroups(
  mappings: readonly ResolvedGroupMapping[],
  groupIds: ReadonlySet<string>,
  defaultLicense: string | null,
): GroupMappingResult {
  const appGroups = new Set<string>();
  const roles = new Set<string>();
  let license: string | null = null;
  let licenseSource: string | null = null;
  for (const mapping of mappings) {
    if (!groupIds.has(mapping.groupId)) continue;
    if (mapping.appGroup !== null) appGroups.add(mapping.appGroup);
    for (const role of mapping.roles) roles.add(role);
    if (license === null && mapping.license !== null) {
      license = mapping.license;
      licenseSource = mapping.groupLabel;
    }
  }
  if (license === null && defaultLicense !== null) {
    license = defaultLicense;
    licenseSource = 'default';
  }
  // Sorted so that the same memberships always give the same record (and the same hash).
  return { appGroups: [...appGroups].sort(), roles: [...roles].sort(), license, licenseSource };
}
