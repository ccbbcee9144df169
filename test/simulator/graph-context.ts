import type { z } from 'zod';
import { GraphHttpError } from './graph-errors.js';
import { ODATA_JSON_TYPE, header, type SimRequest, type SimResponse } from './http-types.js';
import type { TokenSealer } from './opaque-tokens.js';
import type { Quirks } from './paging.js';
import type { SimulatedTenant } from './tenant-model.js';

/** What every Graph route needs: the simulator's settings and the authenticated call. */

export interface GraphSettings {
  /** 'https://localhost:PORT', without /v1.0. */
  readonly baseUrl: string;
  readonly quirks: Quirks;
  readonly sealer: TokenSealer;
  /** Objects per delta page (before the uneven-pages quirk). */
  readonly deltaPageSize: number;
  /** members@delta entries per groups/delta page. */
  readonly memberBudget: number;
}

export interface GraphCall {
  readonly req: SimRequest;
  readonly tenant: SimulatedTenant;
  /** Application permissions in the caller's token. */
  readonly roles: readonly string[];
  readonly settings: GraphSettings;
  /** Path segments after /v1.0. */
  readonly path: readonly string[];
}

export function odataResponse(body: string, headers: Record<string, string> = {}): SimResponse {
  return {
    status: 200,
    headers: { 'content-type': ODATA_JSON_TYPE, 'odata-version': '4.0', ...headers },
    body,
  };
}

export function textResponse(text: string): SimResponse {
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text };
}

export function contextUrl(call: GraphCall, fragment: string): string {
  return `${call.settings.baseUrl}/v1.0/$metadata#${fragment}`;
}

/** True when the request asks for Graph's advanced query capabilities (ConsistencyLevel: eventual). */
export function isEventual(call: GraphCall): boolean {
  return header(call.req, 'consistencylevel')?.toLowerCase() === 'eventual';
}

/** Throws 403 Authorization_RequestDenied unless the token holds one of the roles. */
export function requireRole(call: GraphCall, accepted: readonly string[]): void {
  if (call.roles.some((role) => accepted.includes(role))) return;
  throw new GraphHttpError(
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.',
  );
}

/** Opens a sealed token and checks its shape; undefined for anything else. */
export function openToken<T>(call: GraphCall, token: string, schema: z.ZodType<T>): T | undefined {
  const parsed = schema.safeParse(call.settings.sealer.open(token));
  return parsed.success ? parsed.data : undefined;
}

/** Application permissions that allow each kind of read (the permissions tables of the API pages). */
export const USER_READ_ROLES = [
  'User.Read.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
export const GROUP_READ_ROLES = [
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
export const MEMBER_READ_ROLES = ['GroupMember.ReadBasic.All', ...GROUP_READ_ROLES];
export const ORGANIZATION_READ_ROLES = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
