import { z } from 'zod';
import { BadRequestError } from '../shared/errors.js';
import { MAX_SELECTED_USERS } from '../shared/sync/import-jobs.js';
import type { RunLogEntry } from '../shared/storage/runs.js';
import { adminRoute } from './http/admin-route.js';
import { parseInput, queryObject, readJson } from './http/request.js';
import { json } from './http/responses.js';
import { readOutcomeQuery } from './previews.js';

const selectedUsers = z.strictObject({
  users: z.array(z.string().min(1).max(256)).min(1).max(MAX_SELECTED_USERS).optional(),
});

/** Preview: what an import would do, per user, with nothing written. The per-user lines are paged. */
export const preview = adminRoute(async (request, app) => {
  const { users } = await readJson(request, selectedUsers);
  const { top, skip } = parseInput(
    z.object({
      top: z.coerce.number().int().min(1).max(5000).default(500),
      skip: z.coerce.number().int().min(0).default(0),
    }),
    queryObject(request),
    'query',
  );
  const entries: RunLogEntry[] = [];
  let seen = 0;
  const report = await app.service.preview(request.params.id ?? '', {
    ...(users ? { users } : {}),
    previewLog: {
      write: async (written) => {
        for (const entry of written) {
          if (seen >= skip && entries.length < top) entries.push(entry);
          seen += 1;
        }
        await Promise.resolve();
      },
    },
  });
  return json(200, { report, users: entries, skip, top, total: seen });
});

/** Import of all users in scope (spread over the queue) or of selected users: 202 with the job. */
export const startImport = adminRoute(async (request, app) => {
  const { users } = await readJson(request, selectedUsers);
  const job = await app.jobs.start(request.params.id ?? '', users ? { users } : {});
  const location = `/api/jobs/${job.jobId}`;
  return json(202, { jobId: job.jobId, status: job.status, location }, { location });
});

export const jobStatus = adminRoute(async (request, app) => {
  return json(200, await app.jobs.progress(request.params.jobId ?? ''));
});

export const listRuns = adminRoute(async (request, app) => {
  const { top } = parseInput(
    z.object({ top: z.coerce.number().int().min(1).max(200).default(50) }),
    queryObject(request),
    'query',
  );
  return json(200, { runs: await app.service.runs(request.params.id ?? '', top) });
});

export const approveRun = adminRoute(async (request, app) => {
  const runId = request.params.runId ?? '';
  if (runId === '') throw new BadRequestError('The run id is missing.');
  return json(200, await app.service.approve(runId));
});

/** A run's per-user lines, paged and filtered by status and search. */
export const runUsers = adminRoute(async (request, app) => {
  return json(200, await app.service.runOutcomes(request.params.runId ?? '', readOutcomeQuery(request)));
});

/** What approving a run's held removals would do, user by user (the first 200). */
export const heldRemovals = adminRoute(async (request, app) => {
  return json(200, await app.service.heldRemovals(request.params.runId ?? ''));
});

/** One run's report, by its id alone. */
export const getRun = adminRoute(async (request, app) => {
  return json(200, await app.service.run(request.params.runId ?? ''));
});
