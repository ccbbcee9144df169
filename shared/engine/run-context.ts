/**
 * What a run works out once before deciding user by user: group names resolved to ids, and how to
 * expand a user's direct memberships through nested groups. Group names are resolved here, not in the
 * reader, so that a group that does not exist (or whose name two groups share) stops the run with a
 * clear message instead of quietly putting everyone out of scope.
 */
import type { ConnectionConfig } from '../config/connection.js';
import type { GroupReference } from '../config/scope-schema.js';
import { SettingsError } from '../errors.js';
import type { ResolvedGroupMapping } from './group-mapping.js';
import type { ResolvedScope } from './scope.js';
import type { SourceUser } from './types.js';

/** An Entra group as the storage layer knows it. */
export interface EntraGroup {
  readonly id: string;
  readonly displayName: string;
  /** Groups this group is a direct member of; needed only for nested membership. */
  readonly memberOfGroupIds?: readonly string[];
}

export interface GroupReferenceProblem {
  /** Where the reference is, e.g. scope.groups[1] or groupMappings[0].group. */
  readonly path: string;
  readonly reference: GroupReference;
  readonly problem: 'not_found' | 'ambiguous';
  /** For an ambiguous name: the ids of the groups that share it. */
  readonly candidateIds: readonly string[];
}

export interface RunContext {
  readonly config: ConnectionConfig;
  readonly scope: ResolvedScope;
  readonly groupMappings: readonly ResolvedGroupMapping[];
  /** The user's group ids: direct, or expanded through nesting when the connection asks for it. */
  groupIdsOf(user: Pick<SourceUser, 'memberOf'>): ReadonlySet<string>;
}

/** The groups a connection names, so the reader can fetch just those (ids) and look up the names. */
export function referencedGroups(config: ConnectionConfig): { ids: string[]; displayNames: string[] } {
  const ids = new Set<string>();
  const displayNames = new Set<string>();
  for (const { reference } of groupReferences(config)) {
    if ('id' in reference) ids.add(reference.id.toLowerCase());
    else displayNames.add(reference.displayName);
  }
  return { ids: [...ids], displayNames: [...displayNames] };
}

export function resolveGroupReferences(
  config: ConnectionConfig,
  groups: Iterable<EntraGroup>,
): { resolved: ReadonlyMap<string, string>; problems: GroupReferenceProblem[] } {
  const idsByName = new Map<string, string[]>();
  const knownIds = new Set<string>();
  for (const group of groups) {
    const id = group.id.toLowerCase();
    knownIds.add(id);
    const sameName = idsByName.get(group.displayName);
    if (sameName === undefined) idsByName.set(group.displayName, [id]);
    else sameName.push(id);
  }
  const resolved = new Map<string, string>();
  const problems: GroupReferenceProblem[] = [];
  for (const { path, reference } of groupReferences(config)) {
    if ('id' in reference) {
      const id = reference.id.toLowerCase();
      if (knownIds.has(id)) resolved.set(path, id);
      else problems.push({ path, reference, problem: 'not_found', candidateIds: [] });
      continue;
    }
    // Exact and case-sensitive, as the administrator typed it: "Sales" and "sales" can be two groups.
    const candidates = idsByName.get(reference.displayName) ?? [];
    const [only] = candidates;
    if (candidates.length === 1 && only !== undefined) resolved.set(path, only);
    else {
      problems.push({
        path,
        reference,
        problem: candidates.length === 0 ? 'not_found' : 'ambiguous',
        candidateIds: candidates,
      });
    }
  }
  return { resolved, problems };
}

/**
 * Builds the run context; throws SettingsError when a referenced group is missing or its name is
 * ambiguous, listing every such reference.
 */
export function createRunContext(config: ConnectionConfig, groups: Iterable<EntraGroup>): RunContext {
  const groupList = [...groups];
  const { resolved, problems } = resolveGroupReferences(config, groupList);
  if (problems.length > 0) {
    const lines = problems.map((problem) => `${problem.path}: ${describeProblem(problem)}`);
    throw new SettingsError(
      `Connection ${config.id} names groups that cannot be resolved:\n${lines.join('\n')}`,
      {
        nextStep: 'Correct the group names (exact, case-sensitive) or refer to the groups by id.',
        details: { problems },
      },
    );
  }
  const idAt = (path: string): string => {
    const id = resolved.get(path);
    if (id === undefined) throw new Error(`Group reference ${path} was not resolved`);
    return id;
  };

  const scopeGroupIds =
    config.scope.groups.length === 0
      ? null
      : new Set(config.scope.groups.map((_, index) => idAt(`scope.groups[${index}]`)));
  const groupMappings: ResolvedGroupMapping[] = config.groupMappings.map((mapping, index) => ({
    groupId: idAt(`groupMappings[${index}].group`),
    groupLabel: describeReference(mapping.group),
    appGroup: mapping.appGroup ?? null,
    license: mapping.license ?? null,
    roles: mapping.roles,
  }));

  const expand = config.scope.nestedGroups ? nestingExpander(groupList) : null;
  return {
    config,
    scope: { setting: config.scope, groupIds: scopeGroupIds },
    groupMappings,
    groupIdsOf(user) {
      const direct = user.memberOf.map((id) => id.toLowerCase());
      return expand === null ? new Set(direct) : expand(direct);
    },
  };
}

export function describeReference(reference: GroupReference): string {
  return 'id' in reference ? reference.id : `"${reference.displayName}"`;
}

function groupReferences(config: ConnectionConfig): { path: string; reference: GroupReference }[] {
  return [
    ...config.scope.groups.map((reference, index) => ({ path: `scope.groups[${index}]`, reference })),
    ...config.groupMappings.map((mapping, index) => ({
      path: `groupMappings[${index}].group`,
      reference: mapping.group,
    })),
  ];
}

function describeProblem(problem: GroupReferenceProblem): string {
  const label = describeReference(problem.reference);
  if (problem.problem === 'not_found') return `no group ${label} in the tenant`;
  return `${problem.candidateIds.length} groups are named ${label} (${problem.candidateIds.join(', ')}); refer to one by id`;
}

/**
 * Expands direct memberships to every ancestor group. Ancestors are computed once per group and
 * memoised for the run; a cycle (which Entra should not allow, but data can be wrong) ends the walk.
 */
function nestingExpander(groups: readonly EntraGroup[]): (direct: readonly string[]) => ReadonlySet<string> {
  const parents = new Map<string, readonly string[]>();
  for (const group of groups) {
    parents.set(
      group.id.toLowerCase(),
      (group.memberOfGroupIds ?? []).map((id) => id.toLowerCase()),
    );
  }
  const ancestorsMemo = new Map<string, ReadonlySet<string>>();
  const ancestorsOf = (groupId: string): ReadonlySet<string> => {
    const known = ancestorsMemo.get(groupId);
    if (known !== undefined) return known;
    const seen = new Set<string>([groupId]);
    const queue = [groupId];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const parent of parents.get(next) ?? []) {
        if (!seen.has(parent)) {
          seen.add(parent);
          queue.push(parent);
        }
      }
    }
    ancestorsMemo.set(groupId, seen);
    return seen;
  };
  return (direct) => {
    const all = new Set<string>();
    for (const id of direct) for (const ancestor of ancestorsOf(id)) all.add(ancestor);
    return all;
  };
}
