import { createRunContext } from '../engine/run-context.js';
import type { SourceUser } from '../engine/types.js';
import { GraphNotFoundError } from '../graph/errors.js';
import type { RunReport } from '../storage/runs.js';
import { loadGroupDirectory } from './delta-sync.js';
import { namedGroupIds, readAllGroups, reconcileDeps } from './full-import.js';
import { sourcePropertiesOf, userSelect } from './graph-source.js';
import { reconcileUsers } from './reconcile.js';
import type { ActiveRun } from './run.js';

/**
 * Import (or preview) of chosen users, by object id or userPrincipalName. Group memberships come from
 * the groups the last import stored; before any import they are read from Graph. No cursor moves and
 * nobody else is touched.
 */
export async function runSelectedImport(
  run: ActiveRun,
  users: readonly string[],
): Promise<RunReport['held']> {
  const { config } = run;
  const select = userSelect(config);
  const stored = await run.stores.cursors.get(config.id, 'groups');
  let groups;
  if (stored) {
    const { directory } = await loadGroupDirectory(run.stores, config.id);
    const context = createRunContext(config, directory.entraGroups());
    groups = {
      directory,
      context,
      relevant: directory.relevantGroups(namedGroupIds(context), config.scope.nestedGroups),
    };
  } else {
    groups = await readAllGroups(run);
  }
  const memberships = groups.directory.directMemberships(groups.relevant);

  const sources: SourceUser[] = [];
  for (const wanted of users) {
    try {
      const user = await run.reader.getUser(wanted, { select });
      const id = user.id.toLowerCase();
      sources.push({
        id,
        properties: sourcePropertiesOf(user),
        removal: null,
        memberOf: memberships.get(id) ?? [],
      });
    } catch (error) {
      if (!(error instanceof GraphNotFoundError)) throw error;
      run.tally.count('NOT_FOUND', 'EXCEPTION');
      run.tally.exception(
        wanted,
        'NOT_FOUND',
        `No user ${wanted} in the tenant (looked up by id or userPrincipalName).`,
      );
    }
  }
  run.tally.pages += 1;
  run.tally.usersRead += sources.length;
  await reconcileUsers(reconcileDeps(run, groups.context, undefined), sources);
  await run.pageDone('users');

  const linked = run.removals.items.length === 0 ? 0 : (await run.stores.users.loadIndex(config.id)).size;
  const held = await run.settleRemovals(linked);
  // This run links and unlinks users without moving the cursor: the next sync counts them afresh.
  if (!run.preview) await run.stores.cursors.forgetLinkedUsers(config.id);
  return held;
}
