import { z } from 'zod';
import { SimulatorError } from './errors.js';
import { jsonResponse, type SimRequest, type SimResponse } from './http-types.js';
import { describeIssues, groupPatchSchema, userPatchSchema } from './schemas.js';
import type { Simulator } from './simulator.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * The JSON control API under /_simulator/, for a simulator in another process: the same change API and
 * knobs the in-process Simulator offers. Loopback only and without authentication: it is test tooling.
 * Every route is listed in docs/dev/simulator.md.
 */

const faultSchema = z
  .object({
    status: z.union([z.literal(429), z.literal(503), z.literal(504)]),
    count: z.number().int().positive().optional(),
    method: z.string().optional(),
    path: z.string().optional(),
    retryAfter: z.number().nonnegative().nullable().optional(),
  })
  .strict();
const latencySchema = z.object({ ms: z.number().nonnegative() }).strict();
const quirksSchema = z
  .object({
    replays: z.boolean(),
    shuffle: z.boolean(),
    unevenPages: z.boolean(),
    initialRemovals: z.boolean(),
  })
  .partial()
  .strict();
const randomChangesSchema = z.object({ count: z.number().int().positive(), seed: z.number().int() }).strict();
const memberSchema = z.object({ id: z.string() }).strict();
const consentSchema = z.object({ clientId: z.string(), roles: z.array(z.string()).optional() }).strict();
const decisionSchema = z.object({ decision: z.enum(['grant', 'deny']) }).strict();
const uriSchema = z.object({ uri: z.string() }).strict();
const signInUserSchema = z
  .object({
    displayName: z.string(),
    userPrincipalName: z.string().optional(),
    objectId: z.string().optional(),
    appRoles: z.array(z.string()).optional(),
  })
  .strict();
const createGroupSchema = groupPatchSchema.extend({ members: z.array(z.string()).optional() });

function parse<T>(schema: z.ZodType<T>, req: SimRequest): T {
  let body: unknown = {};
  const text = req.body.toString('utf8').trim();
  if (text !== '') {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new SimulatorError(400, 'The body is not JSON');
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SimulatorError(400, describeIssues(parsed.error));
  return parsed.data;
}

const ok = (body: unknown = { ok: true }): SimResponse => jsonResponse(200, body);

function memory(): Record<string, number> {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

function tenantRoute(req: SimRequest, tenant: SimulatedTenant, rest: readonly string[]): SimResponse {
  const [what, id, sub, subId] = rest;
  const method = req.method;
  switch (`${method} ${rest.join('/')}`) {
    case 'POST random-changes': {
      const { count, seed } = parse(randomChangesSchema, req);
      return ok({ changes: tenant.applyRandomChanges(count, seed) });
    }
    case 'POST delta/expire':
      tenant.expireDeltaTokens();
      return ok();
    case 'POST delta/reset':
      tenant.resetDeltaState();
      return ok();
    case 'POST consent': {
      const { clientId, roles } = parse(consentSchema, req);
      tenant.grantConsent(clientId, roles);
      return ok();
    }
    case 'PUT consent-decision':
      tenant.setConsentDecision(parse(decisionSchema, req).decision);
      return ok();
    default:
      break;
  }
  const route = `${method} ${what ?? ''}${id === undefined ? '' : '/:id'}${sub === undefined ? '' : `/${sub}`}${subId === undefined ? '' : '/:id'}`;
  switch (route) {
    case 'GET ':
    case 'GET stats':
      return ok({ tenantId: tenant.tenantId, domain: tenant.domain, ...tenant.stats() });
    case 'GET users': {
      const offset = Number(req.url.searchParams.get('offset') ?? 0);
      const limit = Number(req.url.searchParams.get('limit') ?? 1000);
      return ok({ ids: tenant.liveUserIds(offset, limit), total: tenant.liveUserCount });
    }
    case 'POST users':
      return jsonResponse(201, tenant.createUser(parse(userPatchSchema, req)));
    case 'GET users/:id': {
      const user = tenant.getUser(id ?? '');
      if (!user) throw new SimulatorError(404, `No live user '${id ?? ''}'`);
      return ok({ ...user, groups: tenant.groupsOf(user.id) });
    }
    case 'PATCH users/:id':
      return ok(tenant.updateUser(id ?? '', parse(userPatchSchema, req)));
    case 'DELETE users/:id':
      tenant.hardDeleteUser(id ?? '');
      return ok();
    case 'POST users/:id/soft-delete':
      tenant.softDeleteUser(id ?? '');
      return ok();
    case 'POST users/:id/restore':
      return ok(tenant.restoreUser(id ?? ''));
    case 'GET groups':
      return ok({ ids: tenant.liveGroupIds() });
    case 'POST groups':
      return jsonResponse(201, tenant.createGroup(parse(createGroupSchema, req)));
    case 'GET groups/:id': {
      const group = tenant.getGroup(id ?? '');
      if (!group) throw new SimulatorError(404, `No live group '${id ?? ''}'`);
      return ok(group);
    }
    case 'PATCH groups/:id':
      return ok(tenant.updateGroup(id ?? '', parse(groupPatchSchema, req)));
    case 'DELETE groups/:id':
      tenant.deleteGroup(id ?? '');
      return ok();
    case 'GET groups/:id/members':
      return ok({ ids: tenant.membersOf(id ?? '') });
    case 'GET groups/:id/transitive-members':
      return ok({ ids: tenant.transitiveMembersOf(id ?? '') });
    case 'POST groups/:id/members':
      return ok({ changed: tenant.addMember(id ?? '', parse(memberSchema, req).id) });
    case 'DELETE groups/:id/members/:id':
      return ok({ changed: tenant.removeMember(id ?? '', subId ?? '') });
    case 'DELETE consent/:id':
      tenant.revokeConsent(id ?? '');
      return ok();
    default:
      throw new SimulatorError(
        404,
        `No control route ${method} /_simulator/tenants/{tenant}/${rest.join('/')}`,
      );
  }
}

/** Answers /_simulator/... requests. */
export async function handleControl(req: SimRequest, sim: Simulator): Promise<SimResponse> {
  await Promise.resolve();
  const rest = req.segments.slice(1).filter((s, i, all) => s !== '' || i < all.length - 1);
  const [first, second, ...more] = rest;
  try {
    switch (`${req.method} ${first ?? ''}`) {
      case 'GET ':
      case 'GET info':
        return ok(sim.info());
      case 'GET requests':
        return ok(sim.requests.snapshot());
      case 'POST requests':
        if (second === 'reset') {
          sim.requests.reset();
          return ok();
        }
        break;
      case 'GET latency':
        return ok({ ms: sim.latencyMs });
      case 'PUT latency':
        sim.setLatency(parse(latencySchema, req).ms);
        return ok({ ms: sim.latencyMs });
      case 'GET faults':
        return ok({ faults: sim.faults.list() });
      case 'POST faults':
        return jsonResponse(201, { id: sim.faults.add(parse(faultSchema, req)) });
      case 'DELETE faults':
        if (second === undefined) sim.faults.clear();
        else sim.faults.remove(Number(second));
        return ok();
      case 'GET quirks':
        return ok(sim.quirks);
      case 'PUT quirks':
        Object.assign(sim.quirks, parse(quirksSchema, req));
        return ok(sim.quirks);
      case 'GET memory':
        return ok(memory());
      case 'GET cpu': {
        const cpu = process.cpuUsage();
        return ok({ userMs: cpu.user / 1000, systemMs: cpu.system / 1000 });
      }
      case 'POST apps':
        if (second !== undefined && more[0] === 'redirect-uris') {
          sim.registerRedirectUri(second, parse(uriSchema, req).uri);
          return ok();
        }
        if (second !== undefined && more[0] === 'spa-redirect-uris') {
          sim.addSpaRedirectUri(parse(uriSchema, req).uri, second);
          return ok();
        }
        break;
      case 'GET tenants':
      case 'POST tenants':
        // Sign-in users live beside the tenant's directory, in the simulator (sign-in-users.ts).
        if (second !== undefined && more.length === 1 && more[0] === 'sign-in-users') {
          if (req.method === 'GET') return ok({ users: sim.signInUsers(second) });
          return jsonResponse(201, sim.addSignInUser({ ...parse(signInUserSchema, req), tenant: second }));
        }
        if (second !== undefined) return tenantRoute(req, sim.tenant(second), more);
        break;
      default:
        if (first === 'tenants' && second !== undefined) return tenantRoute(req, sim.tenant(second), more);
    }
    throw new SimulatorError(404, `No control route ${req.method} ${req.url.pathname}`);
  } catch (error) {
    if (error instanceof SimulatorError) return jsonResponse(error.status, { error: error.message });
    if (error instanceof RangeError) return jsonResponse(400, { error: error.message });
    throw error;
  }
}
