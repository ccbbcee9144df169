import { createRunContext, type RunContext } from '../engine/run-context.js';
import { mergeDeltaObject, type DeltaObject } from '../engine/merge.js';
import type { SourceProperties, SourceUser } from '../engine/types.js';
import { DeltaStateLostError } from '../graph/errors.js';
import type { Cursor } from '../storage/cursors.js';
import type { RunReport } from '../storage/runs.js';
import { forEachBounded } from '../storage/batch.js';
import { GroupDirectory } from './group-directory.js';
import { namedGroupIds, reconcileDeps, runFullImport, storedGroupsOf } from './full-import.js';
import { sourcePropertiesOf, userSelect } from './graph-source.js';
import { reconcileUsers } from './reconcile.js';
import type { ActiveRun, SyncStores } from './run.js';

/** Users touched by membership changes but absent from the users delta, reconciled this many at a time. */
const AFFECTED_BATCH = 500;

/**
 * An incremental sync: follows the stored delta links for groups and users and applies only what
 * changed. Falls back to a full import on its own when there is no baseline yet, when the mapping
 * changed since the baseline, when Graph says the delta state expired or was reset, or when the set of
 * groups that matter changed in a way deltas cannot fill in.
 */
export async function runDeltaSync(run: ActiveRun): Promise<RunReport['held']> {
  const { config, stores } = run;
  const usersCursor = await stores.cursors.get(config.id, 'users');
  const groupsCursor = await stores.cursors.get(config.id, 'groups');
  const fallback = fallbackReason(usersCursor, groupsCursor, run.configVersion);
  if (fallback !== null) return await fullImportInstead(run, fallback);
  try {
    return await applyDeltas(run, usersCursor as Cursor, groupsCursor as Cursor);
  } catch (error) {
    if (!(error instanceof DeltaStateLostError)) throw error;
    return await fullImportInstead(
      run,
      error.kind === 'reset'
        ? 'Graph reset the delta state of this tenant (410 Gone); a full import rebuilt it.'
        : 'The stored delta token expired (syncStateNotFound); a full import rebuilt the baseline.',
    );
  }
}

function fallbackReason(
  users: Cursor | undefined,
  groups: Cursor | undefined,
  configVersion: string,
): string | null {
  if (!users || !groups) return 'No delta baseline yet: the first sync is a full import.';
  if (users.configVersion !== configVersion || groups.configVersion !== configVersion) {
    return 'The connection mapping changed since the last baseline: a full import applied it to everyone.';
  }
  return null;
}

async function fullImportInstead(run: ActiveRun, reason: string): Promise<RunReport['held']> {
  run.fallbackReason = reason;
  return await runFullImport(run);
}

/** The groups as the last import or sync stored them, with the user members of those that mattered. */
export async function loadGroupDirectory(
  stores: Pick<SyncStores, 'groups'>,
  connectionId: string,
): Promise<{ directory: GroupDirectory; relevant: Set<string> }> {
  const directory = new GroupDirectory();
  const relevant = new Set<string>();
  for (const group of await stores.groups.load(connectionId)) {
    directory.upsertGroup(group.id, group.displayName);
    for (const child of group.childGroups) directory.addMember(group.id, child, 'group');
    if (group.users !== undefined) {
      relevant.add(group.id);
      directory.setUserMembers(group.id, group.users);
    }
  }
  return { directory, relevant };
}

/** Thrown inside a sync when only a full import can tell who is in scope now. */
class NeedsFullImport extends Error {}

async function applyDeltas(
  run: ActiveRun,
  usersCursor: Cursor,
  groupsCursor: Cursor,
): Promise<RunReport['held']> {
  const { config, stores } = run;

  // 1. Groups as stored, then the changes since.
  const { directory, relevant: relevantBefore } = await loadGroupDirectory(stores, config.id);
  const affected = new Set<string>();
  /** Users whose membership changed, by group: only the groups that matter make them worth a look. */
  const memberChanges = new Map<string, string[]>();
  const changedGroups = new Set<string>();
  const removedGroups = new Set<string>();
  let groupsDeltaLink: string | undefined;
  for await (const page of run.reader.groupsDelta({ deltaLink: groupsCursor.deltaLink })) {
    for (const item of page.items) {
      const groupId = item.id.toLowerCase();
      changedGroups.add(groupId);
      if (item.kind === 'removed') {
        for (const userId of directory.userMembers(groupId)) affected.add(userId);
        directory.removeGroup(groupId);
        removedGroups.add(groupId);
        continue;
      }
      removedGroups.delete(groupId);
      directory.upsertGroup(groupId, item.group.displayName);
      for (const member of item.members ?? []) {
        const memberId = member.id.toLowerCase();
        if (member.type !== 'user' && member.type !== 'group') continue;
        if (member.change === 'removed') directory.removeMember(groupId, memberId);
        else directory.addMember(groupId, memberId, member.type);
        if (member.type === 'user') {
          const changed = memberChanges.get(groupId);
          if (changed) changed.push(memberId);
          else memberChanges.set(groupId, [memberId]);
        }
      }
    }
    groupsDeltaLink = page.deltaLink ?? groupsDeltaLink;
    run.progress('groups');
  }

  let context: RunContext;
  let relevant: Set<string>;
  try {
    context = createRunContext(config, directory.entraGroups());
    relevant = directory.relevantGroups(namedGroupIds(context), config.scope.nestedGroups);
    for (const groupId of relevant) {
      // A group that starts to matter has no stored members: deltas cannot tell who they are.
      if (!relevantBefore.has(groupId)) throw new NeedsFullImport();
    }
  } catch (error) {
    if (!(error instanceof NeedsFullImport)) throw error;
    return await fullImportInstead(
      run,
      'The groups that decide scope or mappings changed (nesting or names): a full import re-read their members.',
    );
  }
  for (const groupId of relevantBefore) {
    if (!relevant.has(groupId)) for (const userId of directory.userMembers(groupId)) affected.add(userId);
  }
  for (const [groupId, userIds] of memberChanges) {
    if (relevant.has(groupId) || relevantBefore.has(groupId))
      for (const userId of userIds) affected.add(userId);
  }
  directory.keepUserMembersOf(relevant);
  const memberships = directory.directMemberships(relevant);
  const deps = reconcileDeps(run, context, undefined);

  // 2. Users changed since the cursor, merged onto what is stored.
  const select = userSelect(config);
  let usersDeltaLink: string | undefined;
  // return=minimal: changed users carry only what changed, which the merge onto the snapshot expects.
  for await (const page of run.reader.usersDelta({ deltaLink: usersCursor.deltaLink, preferMinimal: true })) {
    run.tally.pages += 1;
    run.tally.usersRead += page.items.length;
    for (const rejected of page.rejected)
      run.tally.rejected(rejected.id ?? `item ${rejected.index}`, rejected.reason);
    const ids = page.items.map((item) => item.id.toLowerCase());
    const storedUsers = await stores.users.getMany(config.id, ids);
    const sources: SourceUser[] = [];
    const incomplete: string[] = [];
    for (const item of page.items) {
      const id = item.id.toLowerCase();
      affected.delete(id);
      const stored = storedUsers.get(id);
      const previous = stored && stored.status !== 'deleted' ? stored.source : null;
      if (
        item.kind === 'upsert' &&
        previous === null &&
        select.some((name) => name !== 'id' && !(name in item.user))
      ) {
        // A partial object (return=minimal) of a user we hold no snapshot of: read the whole user.
        incomplete.push(id);
        continue;
      }
      const delta: DeltaObject =
        item.kind === 'removed'
          ? { id, '@removed': { reason: item.reason } }
          : { ...sourcePropertiesOf(item.user), id };
      const merged = mergeDeltaObject(previous === null ? null : { ...previous, id }, delta);
      const { id: _id, ...properties } = merged.properties;
      sources.push({ id, properties, removal: merged.removal, memberOf: memberships.get(id) ?? [] });
    }
    await forEachBounded(incomplete, 8, async (id) => {
      const properties = await readUserFromGraph(run, id, select);
      if (properties !== undefined)
        sources.push({ id, properties, removal: null, memberOf: memberships.get(id) ?? [] });
    });
    await reconcileUsers(deps, sources);
    usersDeltaLink = page.deltaLink ?? usersDeltaLink;
    await run.pageDone('users');
  }

  // 3. Users whose memberships changed but who did not change themselves.
  const remaining = [...affected];
  for (let start = 0; start < remaining.length; start += AFFECTED_BATCH) {
    const ids = remaining.slice(start, start + AFFECTED_BATCH);
    const storedUsers = await stores.users.getMany(config.id, ids);
    const sources: SourceUser[] = [];
    for (const id of ids) {
      const user = storedUsers.get(id);
      const properties =
        user && user.status !== 'deleted' ? user.source : await readUserFromGraph(run, id, select);
      if (properties === undefined) continue;
      sources.push({
        id,
        properties: properties as SourceUser['properties'],
        removal: null,
        memberOf: memberships.get(id) ?? [],
      });
    }
    run.tally.usersRead += sources.length;
    await reconcileUsers(deps, sources);
    await run.pageDone('users');
  }

  run.progress('removals');
  // The count the last run left; counted afresh only when it is unknown or a run died since.
  const linkedBefore =
    usersCursor.linkedUsers !== undefined && !run.recoveredFromInterruption
      ? usersCursor.linkedUsers
      : await countLinked(run);
  const held = await run.settleRemovals(linkedBefore);

  if (!run.preview) {
    const changed = storedGroupsOf(directory, relevant).filter(
      (group) => changedGroups.has(group.id) || relevant.has(group.id) !== relevantBefore.has(group.id),
    );
    await stores.groups.putMany(config.id, changed);
    await stores.groups.deleteMany(config.id, [...removedGroups]);
    if (groupsDeltaLink !== undefined) {
      await stores.cursors.put(
        config.id,
        'groups',
        { deltaLink: groupsDeltaLink, runId: run.runId, configVersion: run.configVersion },
        groupsCursor.etag,
      );
    }
    if (usersDeltaLink !== undefined) {
      await stores.cursors.put(
        config.id,
        'users',
        {
          deltaLink: usersDeltaLink,
          runId: run.runId,
          configVersion: run.configVersion,
          linkedUsers: run.linkedAfter(linkedBefore),
        },
        usersCursor.etag,
      );
    }
  }
  return held;
}

/** A user who joined a group that matters but was never stored (it was out of scope): read it now. */
async function readUserFromGraph(
  run: ActiveRun,
  id: string,
  select: readonly string[],
): Promise<SourceProperties | undefined> {
  try {
    return sourcePropertiesOf(await run.reader.getUser(id, { select }));
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error as { code: unknown }).code === 'not_found')
      return undefined;
    throw error;
  }
}

async function countLinked(run: ActiveRun): Promise<number> {
  const index = await run.stores.users.loadIndex(run.config.id);
  let linked = 0;
  for (const entry of index.values()) if (entry.status !== 'deleted') linked += 1;
  return linked;
}
