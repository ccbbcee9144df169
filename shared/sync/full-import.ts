import { createRunContext, type RunContext } from '../engine/run-context.js';
import type { SourceUser } from '../engine/types.js';
import type { RunReport } from '../storage/runs.js';
import type { StoredGroup } from '../storage/groups.js';
import { UserWriteBuffer } from '../storage/users.js';
import { GroupDirectory } from './group-directory.js';
import { sourcePropertiesOf, userSelect } from './graph-source.js';
import { reconcileUsers, type ReconcileDeps } from './reconcile.js';
import type { ActiveRun } from './run.js';

/** How many users of the sweep (linked users no longer in Entra) are reconciled at a time. */
const SWEEP_BATCH = 500;

/** Ids of the groups the connection names (scope and mappings), resolved by the run context. */
export function namedGroupIds(context: RunContext): Set<string> {
  const named = new Set<string>(context.scope.groupIds ?? []);
  for (const mapping of context.groupMappings) named.add(mapping.groupId);
  return named;
}

export interface GroupSnapshot {
  readonly directory: GroupDirectory;
  readonly context: RunContext;
  readonly relevant: Set<string>;
  readonly deltaLink: string | undefined;
}

/**
 * Reads what a run needs of the tenant's groups: every group's name (to resolve the connection's
 * references and to offer mappings), and the members of the groups the scope and mappings use, with
 * nesting the groups below them. Members of other groups decide nothing and are not read: a tenant with
 * thousands of groups costs a handful of requests. The groups delta baseline is taken first, so changes
 * made during the read are seen again by the next sync.
 */
export async function readAllGroups(run: ActiveRun): Promise<GroupSnapshot> {
  const directory = new GroupDirectory();
  const deltaLink = run.preview
    ? undefined
    : await run.reader.latestDeltaLink('groups', { select: ['displayName'], includeMembers: true });
  for await (const page of run.reader.listGroups({ select: ['displayName'] })) {
    for (const group of page.items) directory.upsertGroup(group.id.toLowerCase(), group.displayName);
    run.progress('groups');
  }
  // Names resolve against every group; nesting is known only below the named groups, which is all it needs.
  // Level by level: the member lists of one level go out together, 20 to a JSON batch.
  const read = new Set<string>();
  let level = [...namedGroupIds(createRunContext(run.config, directory.entraGroups()))];
  while (level.length > 0) {
    const toRead = level.filter((groupId) => !read.has(groupId) && directory.groups.has(groupId));
    for (const groupId of toRead) read.add(groupId);
    const below = new Set<string>();
    for await (const page of run.reader.membersOfGroups(toRead, { select: ['id'] })) {
      for (const member of page.items) {
        if (member.type !== 'user' && member.type !== 'group') continue;
        directory.addMember(page.groupId, member.id.toLowerCase(), member.type);
        if (member.type === 'group' && run.config.scope.nestedGroups) below.add(member.id.toLowerCase());
      }
      run.progress('groups');
    }
    level = [...below];
  }
  const context = createRunContext(run.config, directory.entraGroups());
  const relevant = directory.relevantGroups(namedGroupIds(context), run.config.scope.nestedGroups);
  return { directory, context, relevant, deltaLink };
}

export function storedGroupsOf(directory: GroupDirectory, relevant: ReadonlySet<string>): StoredGroup[] {
  return [...directory.groups.values()].map((group) => {
    const users = relevant.has(group.id) ? [...directory.userMembers(group.id)] : undefined;
    return {
      id: group.id,
      displayName: group.displayName,
      usersStored: users !== undefined,
      userMemberCount: users?.length ?? 0,
      childGroups: [...directory.childGroups(group.id)],
      users,
    };
  });
}

/**
 * A full import: every user in scope is reconciled; linked users no longer returned are found (mark
 * and sweep) and handled per policy; the run leaves fresh delta baselines for users and groups.
 */
export async function runFullImport(run: ActiveRun): Promise<RunReport['held']> {
  const { config, stores } = run;
  const select = userSelect(config);
  const usersCursor = run.preview ? undefined : await stores.cursors.get(config.id, 'users');
  const groupsCursor = run.preview ? undefined : await stores.cursors.get(config.id, 'groups');
  // Taken before the read: whatever changes during the read is seen again by the next sync.
  const usersBaseline = run.preview ? undefined : await run.reader.latestDeltaLink('users', { select });

  const groups = await readAllGroups(run);
  const memberships = groups.directory.directMemberships(groups.relevant);
  const index = await stores.users.loadIndex(config.id);
  const writeBuffer = new UserWriteBuffer(stores.users);
  const deps = { ...reconcileDeps(run, groups.context, index), writeBuffer };

  // Only linked users can be swept, so only they are remembered as seen: a first import of a million
  // users keeps no million ids.
  const seen = new Set<string>();
  // The next page is read while this one is reconciled, so Graph's latency hides behind storage.
  for await (const page of run.reader.listUsers({ select, readAhead: true })) {
    run.tally.pages += 1;
    run.tally.usersRead += page.items.length;
    for (const rejected of page.rejected)
      run.tally.rejected(rejected.id ?? `item ${rejected.index}`, rejected.reason);
    const sources: SourceUser[] = page.items.map((user) => {
      const id = user.id.toLowerCase();
      if (index.has(id)) seen.add(id);
      return { id, properties: sourcePropertiesOf(user), removal: null, memberOf: memberships.get(id) ?? [] };
    });
    await reconcileUsers(deps, sources);
    await run.pageDone('users');
  }

  await writeBuffer.flush();

  // Sweep: linked users the full read did not return are gone from Entra.
  const gone: SourceUser[] = [];
  for (const [id, entry] of index) {
    if (seen.has(id) || entry.status === 'deleted') continue;
    gone.push({ id, properties: {}, removal: 'missingFromFullImport', memberOf: [] });
  }
  for (let start = 0; start < gone.length; start += SWEEP_BATCH) {
    await reconcileUsers(deps, gone.slice(start, start + SWEEP_BATCH));
    await run.pageDone('sweep');
  }

  const linkedUsers = [...index.values()].filter((entry) => entry.status !== 'deleted').length;
  run.progress('removals');
  const held = await run.settleRemovals(linkedUsers);

  if (!run.preview) {
    await stores.groups.replaceAll(config.id, storedGroupsOf(groups.directory, groups.relevant));
    // The cursors move last: everything they cover is stored by now.
    if (usersBaseline !== undefined) {
      await stores.cursors.put(
        config.id,
        'users',
        {
          deltaLink: usersBaseline,
          runId: run.runId,
          configVersion: run.configVersion,
          linkedUsers: run.linkedAfter(linkedUsers),
        },
        usersCursor?.etag,
      );
    }
    if (groups.deltaLink !== undefined) {
      await stores.cursors.put(
        config.id,
        'groups',
        { deltaLink: groups.deltaLink, runId: run.runId, configVersion: run.configVersion },
        groupsCursor?.etag,
      );
    }
  }
  return held;
}

export function reconcileDeps(
  run: ActiveRun,
  context: RunContext,
  index: ReconcileDeps['index'],
): ReconcileDeps {
  return {
    config: run.config,
    context,
    runId: run.runId,
    preview: run.preview,
    configVersion: run.configVersion,
    users: run.stores.users,
    claims: run.stores.claims,
    seats: run.seats,
    tally: run.tally,
    removals: run.removals,
    ...(index ? { index } : {}),
  };
}
