import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientCertificate, startSimulator, type ClientCertificate, type Simulator } from './index.js';
import {
  certificateCredential,
  get,
  graphClient,
  graphScope,
  jsonOf,
  secretCredential,
} from './test-clients.js';

/** Login against the simulator with the real @azure/identity credentials, and the Graph token checks. */

let sim: Simulator;
let cert: ClientCertificate;

beforeAll(async () => {
  cert = await createClientCertificate();
  sim = await startSimulator({
    tenants: [
      { users: 20, groups: 3 },
      { users: 10, groups: 2, domain: 'second.onmicrosoft.com' },
    ],
    apps: [
      { displayName: 'EntraSync', certificates: [cert.certificate] },
      { displayName: 'Not consented anywhere', consentedIn: 'none' },
      {
        displayName: 'Reads organizations',
        roles: ['User.Read.All', 'GroupMember.Read.All', 'Organization.Read.All'],
      },
    ],
  });
});

afterAll(async () => {
  await sim.close();
});

async function postToken(
  tenant: string,
  form: Record<string, string>,
): Promise<Record<string, unknown> & { status: number }> {
  const response = await fetch(`${sim.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    dispatcher: sim.dispatcher,
  });
  return { status: response.status, ...(await jsonOf(response)) };
}

describe('discovery', () => {
  it('serves OpenID metadata by tenant id and by domain, pointing at the tenant id', async () => {
    const tenant = sim.tenant('second.onmicrosoft.com');
    for (const segment of [tenant.tenantId, tenant.domain]) {
      const response = await get(
        sim,
        `${sim.authorityHost}/${segment}/v2.0/.well-known/openid-configuration`,
      );
      expect(response.status).toBe(200);
      const body = await jsonOf(response);
      expect(body.token_endpoint).toBe(`${sim.authorityHost}/${tenant.tenantId}/oauth2/v2.0/token`);
      expect(body.issuer).toBe(`${sim.authorityHost}/${tenant.tenantId}/v2.0`);
      expect(body.authorization_endpoint).toBe(
        `${sim.authorityHost}/${tenant.tenantId}/oauth2/v2.0/authorize`,
      );
      const jwks = await jsonOf(await get(sim, String(body.jwks_uri)));
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', use: 'sig', alg: 'RS256' })]);
    }
  });

  it('answers AADSTS90002 for an unknown tenant', async () => {
    const response = await get(
      sim,
      `${sim.authorityHost}/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
    );
    expect(response.status).toBe(400);
    const body = await jsonOf(response);
    expect(body.error).toBe('invalid_tenant');
    expect(body.error_codes).toEqual([90002]);
    expect(String(body.error_description)).toMatch(
      /^AADSTS90002: Tenant 'nowhere.onmicrosoft.com' not found/,
    );
  });
});

describe('client credentials with the real ClientSecretCredential', () => {
  it('issues a Graph token with tid, appid, azp, aud, roles and exp', async () => {
    const tenant = sim.tenant();
    const before = Math.floor(Date.now() / 1000);
    const token = await secretCredential(sim).getToken(graphScope(sim));
    const claims = decodeJwt(token.token);
    expect(claims).toMatchObject({
      tid: tenant.tenantId,
      appid: sim.app().clientId,
      azp: sim.app().clientId,
      aud: sim.graphBaseUrl,
      roles: ['User.Read.All', 'GroupMember.Read.All'],
      idtyp: 'app',
    });
    expect(claims.exp).toBeGreaterThanOrEqual(before + 3500);
  });

  it('accepts the domain as the tenant and the real Graph resource as the scope', async () => {
    const tenant = sim.tenant('second.onmicrosoft.com');
    const token = await secretCredential(sim, { tenant: tenant.domain }).getToken(
      'https://graph.microsoft.com/.default',
    );
    expect(decodeJwt(token.token)).toMatchObject({
      tid: tenant.tenantId,
      aud: 'https://graph.microsoft.com',
    });
  });

  it('refuses a wrong secret with AADSTS7000215, as Entra does', async () => {
    await expect(
      secretCredential(sim, { clientSecret: 'not-the-secret' }).getToken(graphScope(sim)),
    ).rejects.toThrow(/AADSTS7000215/);
    const body = await postToken(sim.tenant().tenantId, {
      grant_type: 'client_credentials',
      client_id: sim.app().clientId,
      client_secret: 'not-the-secret',
      scope: graphScope(sim),
    });
    expect(body.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000215]);
    expect(String(body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    for (const field of ['timestamp', 'trace_id', 'correlation_id'])
      expect(typeof body[field]).toBe('string');
  });

  it('answers AADSTS700016 for an app the tenant has not consented to', async () => {
    const app = sim.apps[1];
    if (!app) throw new Error('fixture');
    await expect(secretCredential(sim, { clientId: app.clientId }).getToken(graphScope(sim))).rejects.toThrow(
      /AADSTS700016/,
    );
    const body = await postToken(sim.tenant().tenantId, {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: graphScope(sim),
    });
    expect(body.status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
    expect(String(body.error_description)).toContain(
      `AADSTS700016: Application with identifier '${app.clientId}' was not found in the directory '${sim.tenant().displayName}'`,
    );
  });

  it('fails the credential for an unknown tenant at discovery, as against Entra', async () => {
    // MSAL reads the tenant's metadata first; Entra's 400 AADSTS90002 there (asserted above) surfaces
    // from MSAL as endpoints_resolution_error.
    await expect(secretCredential(sim, { tenant: randomUUID() }).getToken(graphScope(sim))).rejects.toThrow(
      /endpoints_resolution_error|AADSTS90002/,
    );
  });

  it('requires a /.default scope for a known resource', async () => {
    const base = {
      grant_type: 'client_credentials',
      client_id: sim.app().clientId,
      client_secret: sim.app().clientSecret,
    };
    const notDefault = await postToken(sim.tenant().tenantId, {
      ...base,
      scope: `${sim.graphBaseUrl}/User.Read.All`,
    });
    expect(notDefault).toMatchObject({ status: 400, error: 'invalid_scope', error_codes: [1002012] });
    const unknown = await postToken(sim.tenant().tenantId, {
      ...base,
      scope: 'https://vault.azure.net/.default',
    });
    expect(unknown).toMatchObject({ status: 400, error: 'invalid_resource', error_codes: [500011] });
  });
});

describe('client credentials with a certificate', () => {
  it('issues a token to the real ClientCertificateCredential (PS256, x5t#S256)', async () => {
    const token = await certificateCredential(sim, cert.pem).getToken(graphScope(sim));
    expect(decodeJwt(token.token)).toMatchObject({ appid: sim.app().clientId, appidacr: '2' });
  });

  it('verifies an RS256 assertion with an x5t header, and refuses an unregistered certificate', async () => {
    const tenant = sim.tenant();
    const audience = `${sim.authorityHost}/${tenant.tenantId}/oauth2/v2.0/token`;
    const sign = async (pem: ClientCertificate, x5t: string): Promise<string> =>
      await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', x5t })
        .setIssuer(sim.app().clientId)
        .setSubject(sim.app().clientId)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(createPrivateKey(pem.privateKey));
    const form = (assertion: string): Record<string, string> => ({
      grant_type: 'client_credentials',
      client_id: sim.app().clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: graphScope(sim),
    });
    const x5t = Buffer.from(cert.thumbprint, 'hex').toString('base64url');
    const good = await postToken(tenant.tenantId, form(await sign(cert, x5t)));
    expect(good.status).toBe(200);
    expect(typeof good.access_token).toBe('string');

    const stranger = await createClientCertificate('CN=stranger');
    const unknown = await postToken(
      tenant.tenantId,
      form(await sign(stranger, Buffer.from(stranger.thumbprint, 'hex').toString('base64url'))),
    );
    expect(unknown).toMatchObject({ status: 401, error: 'invalid_client', error_codes: [700027] });

    // Signed by another key but claiming the registered certificate's thumbprint.
    const forged = await postToken(tenant.tenantId, form(await sign(stranger, x5t)));
    expect(forged).toMatchObject({ status: 401, error: 'invalid_client', error_codes: [700027] });
    expect(String(forged.error_description)).toContain('signature validation');
  });
});

describe('Graph checks the bearer token', () => {
  it('answers 401 InvalidAuthenticationToken for a missing, forged or expired token', async () => {
    const missing = await get(sim, '/v1.0/users');
    expect(missing.status).toBe(401);
    const body = await jsonOf(missing);
    expect(body).toMatchObject({
      error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' },
    });
    expect(Object.keys((body.error as Record<string, unknown>).innerError as object).sort()).toEqual([
      'client-request-id',
      'date',
      'request-id',
    ]);

    const forged = await get(sim, '/v1.0/users', { token: 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.' });
    expect(forged.status).toBe(401);

    const expired = await sim.issueAccessToken({ lifetimeSeconds: -60 });
    const expiredResponse = await get(sim, '/v1.0/users', { token: expired });
    expect(expiredResponse.status).toBe(401);
    expect(await jsonOf(expiredResponse)).toMatchObject({
      error: { message: 'Lifetime validation failed, the token is expired.' },
    });
  });

  it('uses the token tenant (tid) to pick the tenant', async () => {
    const second = sim.tenant('second.onmicrosoft.com');
    const token = await sim.issueAccessToken({ tenant: second.tenantId });
    const body = await jsonOf(await get(sim, '/v1.0/users?$select=id&$top=999', { token }));
    expect((body.value as unknown[]).length).toBe(second.liveUserCount);
  });

  it('answers 403 Authorization_RequestDenied without the needed application permission', async () => {
    const token = await sim.issueAccessToken({ roles: ['GroupMember.Read.All'] });
    const users = await get(sim, '/v1.0/users', { token });
    expect(users.status).toBe(403);
    expect(await jsonOf(users)).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
    expect((await get(sim, '/v1.0/groups', { token })).status).toBe(200);
    // /organization needs Organization.Read.All for apps (organization-get permissions table).
    const defaultApp: unknown = await graphClient(sim)
      .api('/organization')
      .get()
      .catch((error: unknown) => error);
    expect(defaultApp).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
  });

  it('serves /organization to an app that holds Organization.Read.All', async () => {
    const app = sim.apps[2];
    if (!app) throw new Error('fixture');
    const client = graphClient(sim, secretCredential(sim, { clientId: app.clientId }));
    const body = (await client.api('/organization').get()) as {
      value: { id: string; verifiedDomains: { name: string }[] }[];
    };
    expect(body.value[0]?.id).toBe(sim.tenant().tenantId);
    expect(body.value[0]?.verifiedDomains[0]?.name).toBe(sim.tenant().domain);
  });
});

describe('admin consent', () => {
  const redirectUri = 'https://localhost:7071/api/consent/callback';

  it('grants consent by default and redirects with admin_consent, tenant, scope and state', async () => {
    const app = sim.addApp({ displayName: 'Fresh app', consentedIn: 'none' });
    sim.registerRedirectUri(app.clientId, redirectUri);
    const tenant = sim.tenant();
    await expect(secretCredential(sim, { clientId: app.clientId }).getToken(graphScope(sim))).rejects.toThrow(
      /AADSTS700016/,
    );

    const response = await get(
      sim,
      sim.adminConsentUrl({ clientId: app.clientId, redirectUri, state: 'xyz 1' }),
    );
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('admin_consent')).toBe('True');
    expect(location.searchParams.get('tenant')).toBe(tenant.tenantId);
    expect(location.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');
    expect(location.searchParams.get('state')).toBe('xyz 1');
    expect(tenant.hasConsent(app.clientId)).toBe(true);
    await expect(
      secretCredential(sim, { clientId: app.clientId }).getToken(graphScope(sim)),
    ).resolves.toBeTruthy();

    tenant.revokeConsent(app.clientId);
    await expect(
      secretCredential(sim, { clientId: app.clientId, tenant: tenant.domain }).getToken(graphScope(sim)),
    ).rejects.toThrow(/AADSTS700016/);
  });

  it('redirects with error=access_denied when the admin declines', async () => {
    const tenant = sim.tenant('second.onmicrosoft.com');
    const app = sim.addApp({ displayName: 'Declined app', consentedIn: 'none', redirectUris: [redirectUri] });
    tenant.setConsentDecision('deny');
    try {
      const response = await get(
        sim,
        sim.adminConsentUrl({ tenant: tenant.domain, clientId: app.clientId, redirectUri, state: 's1' }),
      );
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location') ?? '');
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
      expect(location.searchParams.get('state')).toBe('s1');
      expect(location.searchParams.has('admin_consent')).toBe(false);
      expect(tenant.hasConsent(app.clientId)).toBe(false);
    } finally {
      tenant.setConsentDecision('grant');
    }
  });

  it('shows an HTML error page (AADSTS50011) for an unregistered redirect URI', async () => {
    const response = await get(sim, sim.adminConsentUrl({ redirectUri: 'https://evil.example/callback' }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('AADSTS50011');
    expect(html).toContain('https://evil.example/callback');
  });

  it('lets the signed-in admin tenant answer a consent URL for organizations', async () => {
    const app = sim.addApp({ displayName: 'Multi', consentedIn: 'none', redirectUris: [redirectUri] });
    sim.setAdminSignInTenant('second.onmicrosoft.com');
    const response = await get(
      sim,
      sim.adminConsentUrl({ tenant: 'organizations', clientId: app.clientId, redirectUri }),
    );
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('tenant')).toBe(sim.tenant('second.onmicrosoft.com').tenantId);
    expect(sim.tenant('second.onmicrosoft.com').hasConsent(app.clientId)).toBe(true);
    expect(sim.tenant().hasConsent(app.clientId)).toBe(false);
  });
});
