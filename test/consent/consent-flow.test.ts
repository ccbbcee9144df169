import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { fetch } from 'undici';
import {
  ConsentService,
  createConsentService,
  renderConsentPage,
  type ConsentOutcome,
} from '../../shared/consent/consent-service.js';
import { CONSENT_NONCES_TABLE, ConsentNonceStore, ConsentStateCodec } from '../../shared/consent/state.js';
import { NotFoundError } from '../../shared/errors.js';
import { KeyVaultSecretStore } from '../../shared/secrets/key-vault-store.js';
import { createStorageClients } from '../../shared/storage/clients.js';
import { expectNoSecretLeak } from '../harness/secret-leak.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';
import { simulatorVaultCredential } from '../keyvault/credentials.js';
import { startFakeKeyVault, type FakeKeyVault } from '../keyvault/fake-key-vault.js';
import { DEFAULT_APP_ROLES, type SimulatedApp, type SimulatedTenant } from '../simulator/index.js';

/**
 * Admin consent end to end: the real SyncService and tables in Azurite, the simulated tenant's
 * adminconsent page and token endpoint, the connection's client secret and the state-signing key in
 * the local Key Vault (real SecretClient), and the consent confirmed with the real Graph reader.
 */

const REDIRECT_URI = 'https://entrasync.example.test/api/consent/callback';
const STATE_KEY_NAME = 'consent-state-key';
const CLIENT_SECRET_NAME = 'contoso-client-secret';

const storage = createStorageClients({
  kind: 'connectionString',
  connectionString: inject('azuriteConnectionString'),
});

let fixture: SyncFixture;
let vault: FakeKeyVault;
let secrets: KeyVaultSecretStore;
let tenant: SimulatedTenant;
let otherTenant: SimulatedTenant;
let app: SimulatedApp;
const clock = { now: new Date('2026-03-01T10:00:00Z') };
let nextId = 0;

function newConsentService(): { service: ConsentService; codec: ConsentStateCodec } {
  const codec = new ConsentStateCodec({
    keys: secrets,
    keyName: STATE_KEY_NAME,
    nonces: new ConsentNonceStore(storage.table(`${fixture.tablePrefix}${CONSENT_NONCES_TABLE}`)),
    now: () => clock.now,
  });
  const service = new ConsentService({
    connections: fixture.service,
    secrets,
    graph: { retryBudgetSeconds: 5, trustedCa: fixture.sim.ca },
    state: codec,
    redirectUri: REDIRECT_URI,
    confirm: { attempts: 2, delayMs: 20 },
    now: () => clock.now,
  });
  return { service, codec };
}

/** Applies a new connection to the fixture's tenant whose client secret is in Key Vault. */
async function newConnection(
  overrides: { clientId?: string; secretName?: string; tenantId?: string } = {},
): Promise<string> {
  nextId += 1;
  const id = `consent-${nextId}`;
  await fixture.service.applyConnection(
    fixture.connection({
      id,
      clientSecret: { keyVault: overrides.secretName ?? CLIENT_SECRET_NAME },
      ...(overrides.clientId ? { clientId: overrides.clientId } : {}),
      ...(overrides.tenantId ? { tenantId: overrides.tenantId } : {}),
    }),
  );
  return id;
}

/** What the administrator's browser does: open the URL, and take the redirect back (not followed). */
async function visit(url: string): Promise<URLSearchParams> {
  const response = await fetch(url, { redirect: 'manual', dispatcher: fixture.sim.dispatcher });
  await response.text();
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  return location.searchParams;
}

async function consentOf(id: string): Promise<unknown> {
  return (await fixture.service.stores.connections.get(id))?.consent;
}

async function spentNonces(connectionId: string): Promise<number> {
  const table = storage.table(`${fixture.tablePrefix}${CONSENT_NONCES_TABLE}`);
  let count = 0;
  try {
    for await (const entity of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${connectionId}'` },
    })) {
      if (entity.rowKey) count += 1;
    }
  } catch {
    return 0;
  }
  return count;
}

function expectFailure(
  outcome: ConsentOutcome,
  code: string,
): asserts outcome is Extract<ConsentOutcome, { ok: false }> {
  expect(outcome).toMatchObject({ ok: false, code });
}

beforeAll(async () => {
  fixture = await startSyncFixture({
    users: 5,
    groups: 1,
    simulator: {
      apps: [{ roles: [...DEFAULT_APP_ROLES, 'Organization.Read.All'], consentedIn: 'none' }],
    },
  });
  tenant = fixture.tenant;
  app = fixture.sim.app();
  otherTenant = fixture.sim.addTenant({ users: 1, groups: 0 });
  fixture.sim.registerRedirectUri(app.clientId, REDIRECT_URI);
  const tenantId = tenant.tenantId;
  vault = await startFakeKeyVault({
    tenantId,
    authorityHost: fixture.sim.authorityHost,
    trust: { jwksUri: `${fixture.sim.authorityHost}/${tenantId}/discovery/v2.0/keys`, ca: fixture.sim.ca },
  });
  vault.setSecret(CLIENT_SECRET_NAME, app.clientSecret);
  secrets = new KeyVaultSecretStore(vault.url, simulatorVaultCredential(fixture.sim), {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: vault.ca ?? '' },
    retryOptions: { maxRetries: 0 },
    createSettleMs: 50,
  });
});

afterAll(async () => {
  await vault.close();
  await fixture.close();
});

beforeEach(() => {
  tenant.revokeConsent(app.clientId);
  otherTenant.revokeConsent(app.clientId);
  tenant.setConsentDecision('grant');
  clock.now = new Date('2026-03-01T10:00:00Z');
});

describe('admin consent', () => {
  it('round trip: the link, the tenant grants, the callback confirms and records consent', async () => {
    const id = await newConnection();
    const service = createConsentService({
      connections: fixture.service,
      secrets,
      storage,
      settings: {
        TABLE_PREFIX: fixture.tablePrefix,
        CONSENT_STATE_SECRET_NAME: STATE_KEY_NAME,
        CONSENT_REDIRECT_URI: REDIRECT_URI,
        WEBSITE_HOSTNAME: undefined,
        GRAPH_RETRY_BUDGET_SECONDS: 5,
      },
      trustedCa: fixture.sim.ca,
      confirm: { attempts: 2, delayMs: 20 },
      now: () => clock.now,
    });

    const url = new URL(await service.startUrl(id));
    expect(`${url.origin}${url.pathname}`).toBe(
      `${fixture.sim.authorityHost}/${tenant.tenantId}/v2.0/adminconsent`,
    );
    expect(url.searchParams.get('client_id')).toBe(app.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    // The signing key was created in Key Vault on first use.
    expect(vault.versions(STATE_KEY_NAME)).toHaveLength(1);

    expect(tenant.hasConsent(app.clientId)).toBe(false);
    const callback = await visit(url.toString());
    expect(tenant.hasConsent(app.clientId)).toBe(true);
    expect(callback.get('admin_consent')).toBe('True');
    expect(await consentOf(id)).toBeNull();

    const outcome = await service.complete(callback);
    expect(outcome).toEqual({
      ok: true,
      connectionId: id,
      tenantId: tenant.tenantId,
      organizationName: tenant.displayName,
    });
    expect(await consentOf(id)).toEqual({
      grantedAt: '2026-03-01T10:00:00.000Z',
      tenantId: tenant.tenantId,
      organizationName: tenant.displayName,
    });

    const page = renderConsentPage(outcome);
    expect(page).toContain('Consent granted');
    expect(page).toContain(tenant.displayName);

    // Neither the client secret nor the signing key is anywhere a person or a log could see.
    const stateKey = vault.versions(STATE_KEY_NAME)[0]?.value ?? '';
    const entities = [];
    for await (const entity of storage.table(`${fixture.tablePrefix}Connections`).listEntities()) {
      entities.push(entity);
    }
    for (const [what, haystack] of Object.entries({ outcome, page, entities, vaultLog: vault.requests })) {
      expectNoSecretLeak(haystack, [app.clientSecret, stateKey], what);
    }
  });

  it('records nothing when the administrator refuses', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    tenant.setConsentDecision('deny');
    const callback = await visit(await service.startUrl(id));
    expect(callback.get('error')).toBe('access_denied');

    const outcome = await service.complete(callback);
    expectFailure(outcome, 'consent_refused');
    expect(outcome.status).toBe(400);
    expect(outcome.message).toMatch(/did not grant consent/);
    expect(outcome.message).toContain('AADSTS65004');
    expect(outcome.message).not.toMatch(/Trace ID/);
    expect(outcome.nextStep).toMatch(/Organization\.Read\.All/);
    expect(await consentOf(id)).toBeNull();
    expect(tenant.hasConsent(app.clientId)).toBe(false);
    expect(renderConsentPage(outcome)).toContain('Consent not granted');
  });

  it('refuses a forged state, records nothing, and does not spend the real one', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const callback = await visit(await service.startUrl(id));
    const state = callback.get('state') ?? '';
    const forged = new URLSearchParams(callback);
    forged.set('state', `${state.slice(0, -3)}${state.at(-3) === 'x' ? 'y' : 'x'}${state.slice(-2)}`);

    const outcome = await service.complete(forged);
    expectFailure(outcome, 'state_invalid');
    expect(outcome.status).toBe(400);
    expect(await consentOf(id)).toBeNull();
    expect(await spentNonces(id)).toBe(0);

    // The genuine callback still works.
    expect(await service.complete(callback)).toMatchObject({ ok: true, connectionId: id });
  });

  it('refuses an expired state and records nothing', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const callback = await visit(await service.startUrl(id));
    clock.now = new Date('2026-03-01T10:10:01Z');

    const outcome = await service.complete(callback);
    expectFailure(outcome, 'state_expired');
    expect(await consentOf(id)).toBeNull();
    expect(await spentNonces(id)).toBe(0);
  });

  it('refuses a replayed state and changes nothing the second time', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const callback = await visit(await service.startUrl(id));
    expect(await service.complete(callback)).toMatchObject({ ok: true });
    const first = await fixture.service.stores.connections.get(id);

    clock.now = new Date('2026-03-01T10:05:00Z');
    const outcome = await service.complete(callback);
    expectFailure(outcome, 'state_replayed');
    const after = await fixture.service.stores.connections.get(id);
    expect(after?.consent).toEqual(first?.consent);
    expect(after?.updatedAt).toBe(first?.updatedAt);
    expect(after?.etag).toBe(first?.etag);
  });

  it('refuses a state for a connection that does not exist, spending nothing', async () => {
    const { service, codec } = newConsentService();
    await expect(service.startUrl('ghost')).rejects.toBeInstanceOf(NotFoundError);
    const state = await codec.issue('ghost');
    const outcome = await service.complete({ state, admin_consent: 'True', tenant: tenant.tenantId });
    expectFailure(outcome, 'connection_unknown');
    expect(outcome.status).toBe(404);
    expect(await spentNonces('ghost')).toBe(0);
  });

  it('ignores a tenant parameter that names another tenant', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const callback = await visit(await service.startUrl(id));
    callback.set('tenant', otherTenant.tenantId);

    const outcome = await service.complete(callback);
    expect(outcome).toMatchObject({ ok: true, tenantId: tenant.tenantId });
    expect(await consentOf(id)).toMatchObject({ tenantId: tenant.tenantId });
  });

  it("does not take another tenant's consent for the connection's", async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const state = new URL(await service.startUrl(id)).searchParams.get('state') ?? '';
    // The state is genuine, but the consent is given in another tenant than the connection's.
    const callback = await visit(
      fixture.sim.adminConsentUrl({
        tenant: otherTenant.tenantId,
        clientId: app.clientId,
        redirectUri: REDIRECT_URI,
        state,
      }),
    );
    expect(callback.get('tenant')).toBe(otherTenant.tenantId);
    expect(otherTenant.hasConsent(app.clientId)).toBe(true);

    const outcome = await service.complete(callback);
    expectFailure(outcome, 'consent_not_confirmed');
    expect(outcome.status).toBe(409);
    expect(outcome.message).toContain(tenant.tenantId);
    expect(await consentOf(id)).toBeNull();
  });

  it('does not confirm consent when the app cannot read the organization (no Organization.Read.All)', async () => {
    const narrow = fixture.sim.addApp({ roles: DEFAULT_APP_ROLES, consentedIn: 'none' });
    fixture.sim.registerRedirectUri(narrow.clientId, REDIRECT_URI);
    vault.setSecret('narrow-client-secret', narrow.clientSecret);
    const id = await newConnection({ clientId: narrow.clientId, secretName: 'narrow-client-secret' });
    const { service } = newConsentService();
    const callback = await visit(await service.startUrl(id));
    expect(tenant.hasConsent(narrow.clientId)).toBe(true);

    const outcome = await service.complete(callback);
    expectFailure(outcome, 'consent_not_confirmed');
    expect(outcome.message).toMatch(/Organization\.Read\.All/);
    expect(outcome.nextStep).toMatch(/Organization\.Read\.All/);
    expect(await consentOf(id)).toBeNull();
  });

  it("says when the connection's client secret is wrong, without showing it", async () => {
    const wrong = `wrong~${'z'.repeat(30)}`;
    vault.setSecret('wrong-client-secret', wrong);
    const id = await newConnection({ secretName: 'wrong-client-secret' });
    const { service } = newConsentService();
    const outcome = await service.complete(await visit(await service.startUrl(id)));
    expectFailure(outcome, 'credentials_invalid');
    expect(await consentOf(id)).toBeNull();
    expectNoSecretLeak([outcome, renderConsentPage(outcome)], [wrong, app.clientSecret], 'outcome');
  });

  it("says when the connection's Key Vault secret is missing, naming it", async () => {
    const id = await newConnection({ secretName: 'no-such-secret' });
    const { service } = newConsentService();
    const outcome = await service.complete(await visit(await service.startUrl(id)));
    expectFailure(outcome, 'settings_invalid');
    expect(outcome.message).toContain('no-such-secret');
    expect(outcome.message).toContain(vault.url);
    expect(await consentOf(id)).toBeNull();
  });

  it('refuses a callback that neither grants nor refuses, and one that repeats its state', async () => {
    const id = await newConnection();
    const { service } = newConsentService();
    const state = new URL(await service.startUrl(id)).searchParams.get('state') ?? '';
    const neither = await service.complete({ state, tenant: tenant.tenantId });
    expectFailure(neither, 'callback_invalid');

    const second = new URL(await service.startUrl(id)).searchParams.get('state') ?? '';
    const repeated = new URLSearchParams([
      ['state', second],
      ['state', second],
      ['admin_consent', 'True'],
    ]);
    expectFailure(await service.complete(repeated), 'callback_invalid');
    expect(await consentOf(id)).toBeNull();
  });

  it('refuses a callback without a state', async () => {
    const { service } = newConsentService();
    const outcome = await service.complete({ admin_consent: 'True', tenant: tenant.tenantId });
    expectFailure(outcome, 'state_missing');
  });
});

describe('renderConsentPage', () => {
  it('escapes everything it shows and loads nothing from elsewhere', () => {
    const page = renderConsentPage({
      ok: false,
      status: 400,
      code: 'consent_refused',
      title: 'Consent <not> granted',
      message: '<script>alert("x")</script> & more',
      nextStep: 'Try "again" <b>later</b>',
      connectionId: 'contoso',
    });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
    expect(page).toContain('Consent &#60;not&#62; granted');
    expect(page).toContain('Try &#34;again&#34; &#60;b&#62;later&#60;/b&#62;');
    expect(page).not.toMatch(/<(?:script|link|img|iframe)\b/i);
    expect(page).not.toMatch(/(?:src|href)=/i);
  });
});
