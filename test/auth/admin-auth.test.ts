import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, decodeJwt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_ROLE,
  createAdminAuthenticator,
  createAdminAuthenticatorFromSettings,
  type AdminAuthenticator,
} from '../../shared/auth/admin-auth.js';
import { ForbiddenError, UnauthorizedError, type UnauthorizedReason } from '../../shared/auth/errors.js';
import { SettingsError } from '../../shared/errors.js';
import { expectNoSecretLeak } from '../harness/secret-leak.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.js';

/**
 * Admin tokens: v1.0 tokens minted by the simulated tenant (signed with the key at its jwks_uri,
 * discovered from its OpenID metadata), and v2.0 tokens from a small local authority.
 */

const API_CLIENT_ID = randomUUID();
const API_URI = `api://${API_CLIENT_ID}`;

let sim: Simulator;
let adminTenant: string;
let otherTenant: string;
let auth: AdminAuthenticator;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Asserts a 401 with the reason, and that the token appears nowhere in the error. */
async function expectUnauthorized(
  authenticator: AdminAuthenticator,
  header: string | null | undefined,
  reason: UnauthorizedReason,
): Promise<UnauthorizedError> {
  const error = await rejection(authenticator.authenticate(header));
  if (!(error instanceof UnauthorizedError))
    throw new Error(`expected an UnauthorizedError, got ${error.name}`);
  const unauthorized = error;
  expect({ code: unauthorized.code, reason: unauthorized.reason }).toEqual({ code: 'unauthorized', reason });
  const token = header?.replace(/^Bearer\s+/i, '') ?? '';
  if (token.length >= 8) {
    expectNoSecretLeak({ message: error.message, nextStep: unauthorized.nextStep }, token, 'error');
    expect(unauthorized.challenge).not.toContain(token);
  }
  return unauthorized;
}

async function simToken(options: Parameters<Simulator['issueAccessToken']>[0] = {}): Promise<string> {
  return await sim.issueAccessToken({
    tenant: adminTenant,
    audience: API_URI,
    roles: [ADMIN_ROLE],
    ...options,
  });
}

beforeAll(async () => {
  sim = await startSimulator({
    quirks: false,
    tenants: [
      { users: 2, groups: 0 },
      { users: 2, groups: 0 },
    ],
  });
  adminTenant = sim.tenants[0]?.tenantId ?? '';
  otherTenant = sim.tenants[1]?.tenantId ?? '';
  auth = createAdminAuthenticator({
    tenantId: adminTenant,
    audience: API_URI,
    authorityHost: sim.authorityHost,
    ca: sim.ca,
  });
});

afterAll(async () => {
  await auth.close();
  await sim.close();
});

describe('admin tokens from the simulated tenant (v1.0)', () => {
  it('accepts a token with the EntraSync.Admin role and says who it is', async () => {
    const token = await simToken();
    const claims = decodeJwt(token);
    const principal = await auth.authenticate(`Bearer ${token}`);
    expect(principal).toEqual({
      kind: 'application',
      objectId: claims.oid,
      tenantId: adminTenant,
      name: null,
      username: null,
      appId: sim.app().clientId,
      roles: [ADMIN_ROLE],
      tokenVersion: '1.0',
      expiresAt: new Date((claims.exp ?? 0) * 1000),
    });
    // The scheme is case-insensitive.
    await expect(auth.authenticate(`bearer ${token}`)).resolves.toMatchObject({ objectId: claims.oid });
  });

  it('discovers the keys once and keeps them', async () => {
    sim.requests.reset();
    const fresh = createAdminAuthenticator({
      tenantId: adminTenant,
      audience: API_URI,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
    });
    try {
      for (let i = 0; i < 3; i += 1) await fresh.authenticate(`Bearer ${await simToken()}`);
      expect(sim.requests.count('GET /{tenant}/v2.0/.well-known/openid-configuration')).toBe(1);
      expect(sim.requests.count('GET /{tenant}/discovery/v2.0/keys')).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('accepts the client id form of the audience for an api://<client id> setting', async () => {
    const token = await simToken({ audience: API_CLIENT_ID });
    await expect(auth.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ tenantId: adminTenant });
    const byClientId = createAdminAuthenticator({
      tenantId: adminTenant,
      audience: API_CLIENT_ID,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
    });
    try {
      await expect(byClientId.authenticate(`Bearer ${await simToken()}`)).resolves.toMatchObject({
        tenantId: adminTenant,
      });
    } finally {
      await byClientId.close();
    }
  });

  it('refuses a request without a token', async () => {
    for (const header of [undefined, null, '', '   ']) {
      const error = await expectUnauthorized(auth, header, 'missing');
      expect(error.challenge).toBe('Bearer');
    }
  });

  it('refuses what is not a bearer JWT', async () => {
    await expectUnauthorized(auth, 'Basic dXNlcjpwYXNz', 'malformed');
    await expectUnauthorized(auth, 'Bearer', 'malformed');
    await expectUnauthorized(auth, 'Bearer not-a-jwt-at-all', 'malformed');
    await expectUnauthorized(
      auth,
      `Bearer ${'a'.repeat(20)}.${'b'.repeat(20)}.${'c'.repeat(20)}`,
      'malformed',
    );
    const token = await simToken();
    await expectUnauthorized(auth, `Bearer ${token} ${token}`, 'malformed');
  });

  it('refuses a token for another audience (a Graph token)', async () => {
    const header = `Bearer ${await simToken({ audience: sim.graphBaseUrl })}`;
    const error = await expectUnauthorized(auth, header, 'audience');
    expect(error.message).toContain(API_URI);
    expect(error.challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
  });

  it('refuses a token from another tenant', async () => {
    const error = await expectUnauthorized(
      auth,
      `Bearer ${await simToken({ tenant: otherTenant })}`,
      'issuer',
    );
    expect(error.message).toContain(`https://sts.windows.net/${adminTenant}/`);
  });

  it('refuses an expired token, and tolerates a little clock skew', async () => {
    await expectUnauthorized(auth, `Bearer ${await simToken({ lifetimeSeconds: -600 })}`, 'expired');
    await expect(
      auth.authenticate(`Bearer ${await simToken({ lifetimeSeconds: -20 })}`),
    ).resolves.toMatchObject({
      tenantId: adminTenant,
    });
  });

  it('refuses a token signed by another key', async () => {
    const genuine = await simToken();
    const header = decodeProtectedHeader(genuine);
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwt(genuine);
    // Same claims and the tenant's kid, another key.
    const sameKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(header.kid ? { kid: header.kid } : {}) })
      .sign(privateKey);
    await expectUnauthorized(auth, `Bearer ${sameKid}`, 'signature');
    // A kid the tenant does not publish.
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'not-a-tenant-key' })
      .sign(privateKey);
    await expectUnauthorized(auth, `Bearer ${unknownKid}`, 'signature');
    // The genuine header and payload with another signature.
    const [h, p] = genuine.split('.');
    const swapped = `${h ?? ''}.${p ?? ''}.${sameKid.split('.')[2] ?? ''}`;
    await expectUnauthorized(auth, `Bearer ${swapped}`, 'signature');
  });

  it('refuses a token that is not RS256 (alg none, HS256)', async () => {
    const claims = decodeJwt(await simToken());
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.${'x'.repeat(10)}`;
    await expectUnauthorized(auth, `Bearer ${none}`, 'algorithm');
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('k'.repeat(32)));
    await expectUnauthorized(auth, `Bearer ${hs}`, 'algorithm');
  });

  it('answers 403 to a valid token without the role, saying how to assign it', async () => {
    for (const roles of [[], ['EntraSync.Reader'], ['entrasync.admin']]) {
      const error = await rejection(auth.authenticate(`Bearer ${await simToken({ roles })}`));
      if (!(error instanceof ForbiddenError)) throw new Error(`expected a ForbiddenError, got ${error.name}`);
      const forbidden = error;
      expect(forbidden.code).toBe('forbidden');
      expect(forbidden.requiredRole).toBe(ADMIN_ROLE);
      expect(forbidden.message).toContain(ADMIN_ROLE);
      expect(forbidden.nextStep).toMatch(/Enterprise applications/);
      expect(forbidden.nextStep).toContain(ADMIN_ROLE);
    }
  });

  it('can require another role', async () => {
    const readers = createAdminAuthenticator({
      tenantId: adminTenant,
      audience: API_URI,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
      requiredRole: 'EntraSync.Reader',
    });
    try {
      await expect(readers.authenticate(`Bearer ${await simToken()}`)).rejects.toBeInstanceOf(ForbiddenError);
      await expect(
        readers.authenticate(`Bearer ${await simToken({ roles: ['EntraSync.Reader'] })}`),
      ).resolves.toMatchObject({ roles: ['EntraSync.Reader'] });
    } finally {
      await readers.close();
    }
  });

  it('refuses v1.0 tokens when only v2.0 is accepted', async () => {
    const v2Only = createAdminAuthenticator({
      tenantId: adminTenant,
      audience: API_URI,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
      tokenVersions: ['2.0'],
    });
    try {
      await expectUnauthorized(v2Only, `Bearer ${await simToken()}`, 'issuer');
    } finally {
      await v2Only.close();
    }
  });
});

describe('admin tokens from a v2.0 authority', () => {
  let issuer: LocalIssuer;
  let v2: AdminAuthenticator;

  beforeAll(async () => {
    issuer = await startLocalIssuer();
    v2 = createAdminAuthenticator({
      tenantId: issuer.tenantId,
      audience: API_URI,
      authorityHost: issuer.authorityHost,
      ca: issuer.ca,
    });
  });

  afterAll(async () => {
    await v2.close();
    await issuer.close();
  });

  it('accepts a user token whose audience is the client id', async () => {
    const oid = randomUUID();
    const token = await issuer.sign({
      aud: API_CLIENT_ID,
      oid,
      roles: [ADMIN_ROLE],
      scp: 'access_as_user',
      name: 'Ada Lovelace',
      preferred_username: 'ada@contoso.example',
    });
    expect(await v2.authenticate(`Bearer ${token}`)).toMatchObject({
      kind: 'user',
      objectId: oid,
      tenantId: issuer.tenantId,
      name: 'Ada Lovelace',
      username: 'ada@contoso.example',
      tokenVersion: '2.0',
    });
  });

  it('refuses a v2.0 token that names the v1.0 issuer', async () => {
    const token = await issuer.sign({
      aud: API_CLIENT_ID,
      roles: [ADMIN_ROLE],
      iss: `https://sts.windows.net/${issuer.tenantId}/`,
    });
    await expectUnauthorized(v2, `Bearer ${token}`, 'issuer');
  });

  it('refuses a token whose tid is another tenant', async () => {
    const token = await issuer.sign({ aud: API_CLIENT_ID, roles: [ADMIN_ROLE], tid: randomUUID() });
    await expectUnauthorized(v2, `Bearer ${token}`, 'tenant');
  });

  it('refuses a token that is not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.sign({ aud: API_CLIENT_ID, roles: [ADMIN_ROLE], nbf: now + 600, iat: now });
    await expectUnauthorized(v2, `Bearer ${token}`, 'not_yet_valid');
  });

  it('checks expiry against its clock', async () => {
    const token = await issuer.sign({ aud: API_CLIENT_ID, roles: [ADMIN_ROLE] });
    const later = createAdminAuthenticator({
      tenantId: issuer.tenantId,
      audience: API_URI,
      authorityHost: issuer.authorityHost,
      ca: issuer.ca,
      now: () => new Date(Date.now() + 2 * 3_600_000),
    });
    try {
      await expectUnauthorized(later, `Bearer ${token}`, 'expired');
    } finally {
      await later.close();
    }
  });

  it('refuses a token without a tid or an oid', async () => {
    const noTid = await issuer.sign({ aud: API_CLIENT_ID, roles: [ADMIN_ROLE], tid: undefined });
    await expectUnauthorized(v2, `Bearer ${noTid}`, 'malformed');
    const noOid = await issuer.sign({ aud: API_CLIENT_ID, roles: [ADMIN_ROLE], oid: undefined });
    await expectUnauthorized(v2, `Bearer ${noOid}`, 'malformed');
  });
});

describe('configuration', () => {
  it('says when the admin settings are missing', () => {
    expect(() =>
      createAdminAuthenticatorFromSettings({
        ADMIN_TENANT_ID: undefined,
        ADMIN_API_AUDIENCE: undefined,
        ADMIN_AUTHORITY_HOST: 'https://login.microsoftonline.com',
      }),
    ).toThrow(/ADMIN_TENANT_ID and ADMIN_API_AUDIENCE/);
    expect(() =>
      createAdminAuthenticator({ tenantId: 'contoso.onmicrosoft.com', audience: API_URI }),
    ).toThrow(SettingsError);
  });

  it('says when the authority does not know the tenant', async () => {
    const unknown = createAdminAuthenticator({
      tenantId: randomUUID(),
      audience: API_URI,
      authorityHost: sim.authorityHost,
      ca: sim.ca,
    });
    try {
      const error = await rejection(unknown.authenticate(`Bearer ${await simToken()}`));
      expect(error).toBeInstanceOf(SettingsError);
      expect(error.message).toMatch(/does not know the admin tenant/);
    } finally {
      await unknown.close();
    }
  });
});
