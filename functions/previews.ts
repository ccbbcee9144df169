import { z } from 'zod';

import { MAX_SELECTED_USERS } from '../shared/sync/import-jobs.js';
import { OUTCOME_STATUSES, type OutcomeQuery } from '../shared/sync/outcomes.js';
import { adminRoute } from './http/admin-route.js';
import { parseInput, queryObject, readJson } from './http/request.js';
import { json } from './http/responses.js';
import type { HttpRequest } from '@azure/functions';

const selectedUsers = z.strictObject({
  users: z.array(z.string().min(1).max(256)).min(1).max(MAX_SELECTED_USERS).optional(),
});

const outcomeQuery = z.object({
  status: z.enum(OUTCOME_STATUSES).optional(),
  search: z.string().max(256).optional(),
  top: z.coerce.number().int().min(1).max(1000).default(50),
  skip: z.coerce.number().int().min(0).default(0),
});

/** The status, search and paging of a per-user listing, from the query string. */
export function readOutcomeQuery(request: HttpRequest): OutcomeQuery {
  return parseInput(outcomeQuery, queryObject(request), 'query');
}

/** A preview as a background job (for the console and large tenants): 202 with the job to poll. */
export const startPreview = adminRoute(async (request, app) => {
  const { users } = await readJson(request, selectedUsers);
  const job = await app.jobs.startPreview(request.params.id ?? '', users ? { users } : {});
  const location = `/api/jobs/${job.jobId}`;
  return json(202, { jobId: job.jobId, status: job.status, location }, { location });
});

/** The per-user lines of a job (a preview's outcomes, or an import's run log), paged and filtered. */
export const jobUsers = adminRoute(async (request, app) => {
  const query = readOutcomeQuery(request);
  return json(200, await app.jobs.outcomes(request.params.jobId ?? '', query));
});
