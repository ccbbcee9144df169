import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { appContext } from './app-context.js';

/** Timer: sync every enabled connection that is due; a past-due tick is just a tick. */
export const syncTimer: TimerHandler = async (timer, context) => {
  const app = await appContext();
  if (timer.isPastDue) context.log('The sync timer is past due (the host missed a tick); syncing now.');
  const outcomes = await app.service.syncDue();
  // Housekeeping: spent consent states are only needed until they expire (10 minutes).
  const cleared = await app.consentNonces.deleteExpired();
  if (cleared > 0) context.log(`Cleared ${cleared} expired consent states.`);
  for (const outcome of outcomes) {
    if (outcome.outcome === 'skipped_busy')
      context.warn(`${outcome.connectionId}: skipped, ${outcome.reason}`);
    else if (outcome.outcome === 'failed')
      context.error(`${outcome.connectionId}: sync failed: ${outcome.reason}`);
    else
      context.log(
        `${outcome.connectionId}: ${outcome.outcome}${'runId' in outcome ? ` (run ${outcome.runId}, ${outcome.status})` : ''}`,
      );
  }
};

/** Queue: one import work item. A failure throws, so the host delivers it again and finally poisons it. */
export const importWorker: StorageQueueHandler = async (message, context) => {
  const app = await appContext();
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  await app.jobs.handle(message, { dequeueCount });
};

/** Poison queue: an item that kept failing fails its job, with the reason, where people look. */
export const importPoison: StorageQueueHandler = async (message, context) => {
  const app = await appContext();
  context.error(
    `An import work item failed ${JSON.stringify(context.triggerMetadata?.dequeueCount ?? 'many')} times and was poisoned.`,
  );
  await app.jobs.fail(message, 'it failed on every delivery (see the function logs for the error)');
};
