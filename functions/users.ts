import { z } from 'zod';
import { adminRoute } from './http/admin-route.js';
import { parseInput, queryObject } from './http/request.js';
import { json } from './http/responses.js';

/** App users of a connection, paged, with the fields downstream applications read. */
export const listUsers = adminRoute(async (request, app) => {
  const { top, skip } = parseInput(
    z.object({
      top: z.coerce.number().int().min(1).max(1000).default(100),
      skip: z.coerce.number().int().min(0).default(0),
    }),
    queryObject(request),
    'query',
  );
  const users: Record<string, unknown>[] = [];
  let index = 0;
  for await (const user of app.service.users(request.params.id ?? '')) {
    if (index >= skip && users.length < top) {
      users.push({
        sourceId: user.sourceId,
        appUserId: user.appUserId,
        ...user.attributes,
        status: user.status,
        suspendedBy: user.suspendedBy || null,
        appGroups: user.appGroups,
        roles: user.roles,
        license: user.license || null,
        division: user.division,
        updatedAt: user.updatedAt,
      });
    }
    index += 1;
  }
  return json(200, { users, skip, top, total: index });
});

/** The tenant's Entra groups (live from Graph), to choose scope and mappings from. */
export const listGroups = adminRoute(async (request, app) => {
  const { search, top } = parseInput(
    z.object({
      search: z.string().max(256).optional(),
      top: z.coerce.number().int().min(1).max(999).default(100),
    }),
    queryObject(request),
    'query',
  );
  const groups = await app.service.listEntraGroups(request.params.id ?? '', {
    ...(search ? { search } : {}),
    limit: top,
  });
  return json(200, { groups });
});
