import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionConfig } from '../config/connection.js';
import { NotFoundError, SettingsError } from '../errors.js';
import { resolveCloud } from '../graph/clouds.js';
import { ConsentMissingError, CredentialsInvalidError } from '../graph/errors.js';
import type { GraphOrganization } from '../graph/schemas.js';
import type { AppSecretStore, SecretStore } from '../secrets/secret-store.js';
import type { Settings } from '../settings.js';
import type { StorageClients } from '../storage/clients.js';
import type { ConsentRecord, StoredConnection } from '../storage/connections.js';
import { openGraphReader, type GraphAccessOptions } from '../sync/graph-source.js';
import type { SyncService } from '../sync/service.js';
import { ConsentStateError } from './errors.js';
import {
  CONSENT_NONCES_TABLE,
  ConsentNonceStore,
  ConsentStateCodec,
  type ConsentStateClaims,
} from './state.js';

/**
 * Admin consent for a connection: the link an administrator of the connection's tenant follows, and
 * the callback Entra sends the browser back to.
 *
 * The callback's query is not trusted for anything but the state. The state (signed, 10 minutes,
 * single use) says which connection the consent is for; whether consent was really granted is
 * established by getting an app-only token for the CONNECTION's tenant with the connection's own
 * credential and reading /organization. The `tenant` parameter is ignored: anyone can type a URL.
 * https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 */

/** The application permissions the app registration must request (and an administrator grant). */
export const REQUIRED_APPLICATION_PERMISSIONS: readonly string[] = [
  'User.Read.All',
  'GroupMember.Read.All',
  'Organization.Read.All',
];

export type ConsentFailureCode =
  | 'state_missing'
  | 'state_invalid'
  | 'state_expired'
  | 'state_replayed'
  | 'callback_invalid'
  | 'connection_unknown'
  | 'connection_invalid'
  | 'consent_refused'
  | 'consent_not_confirmed'
  | 'credentials_invalid'
  | 'settings_invalid';

export interface ConsentSuccess {
  readonly ok: true;
  readonly connectionId: string;
  /** The tenant id Graph's /organization answered for the connection's tenant. */
  readonly tenantId: string;
  readonly organizationName: string | null;
}

export interface ConsentFailure {
  readonly ok: false;
  readonly status: 400 | 404 | 409;
  readonly code: ConsentFailureCode;
  readonly title: string;
  readonly message: string;
  readonly nextStep: string;
  /** Known once the state has been verified. */
  readonly connectionId?: string;
}

export type ConsentOutcome = ConsentSuccess | ConsentFailure;

/** The callback's query string, as the HTTP adapter has it. */
export type ConsentCallbackQuery =
  URLSearchParams | Readonly<Record<string, string | readonly string[] | null | undefined>>;

/** What the consent service needs of the sync service: the connection, and the store to record consent. */
export type ConsentConnections = Pick<SyncService, 'getConnection'> & {
  readonly stores: { readonly connections: Pick<SyncService['stores']['connections'], 'update'> };
};

export interface ConfirmOptions {
  /** Token and /organization attempts; consent can take a few seconds to reach the token service. Default 3. */
  readonly attempts?: number;
  /** Wait between attempts. Default 2000 ms. */
  readonly delayMs?: number;
}

export interface ConsentServiceOptions {
  readonly connections: ConsentConnections;
  /** Resolves the connections' credentials (client secret or certificate). */
  readonly secrets: SecretStore;
  readonly graph: GraphAccessOptions;
  readonly state: ConsentStateCodec;
  /** The callback URL registered on the app: CONSENT_REDIRECT_URI. */
  readonly redirectUri: string;
  readonly confirm?: ConfirmOptions;
  /** Test hook: the clock consent is recorded with. */
  readonly now?: () => Date;
}

const ONE_VALUE = ['state', 'error', 'error_description', 'admin_consent'] as const;

function readQuery(query: ConsentCallbackQuery): { values: Map<string, string>; repeated: string[] } {
  const values = new Map<string, string>();
  const repeated: string[] = [];
  for (const name of ONE_VALUE) {
    let all: string[];
    if (query instanceof URLSearchParams) all = query.getAll(name);
    else {
      const value = query[name];
      all = value === null || value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
    }
    if (all.length > 1) repeated.push(name);
    const first = all[0];
    if (first !== undefined) values.set(name, first);
  }
  return { values, repeated };
}

function failure(
  status: ConsentFailure['status'],
  code: ConsentFailureCode,
  title: string,
  message: string,
  nextStep: string,
  connectionId?: string,
): ConsentFailure {
  return { ok: false, status, code, title, message, nextStep, ...(connectionId ? { connectionId } : {}) };
}

function stateFailure(error: ConsentStateError, connectionId?: string): ConsentFailure {
  const restart = error.nextStep ?? 'Start the consent again from the EntraSync admin console.';
  switch (error.problem) {
    case 'missing':
      return failure(400, 'state_missing', 'Consent link incomplete', error.message, restart);
    case 'expired':
      return failure(400, 'state_expired', 'Consent link expired', error.message, restart);
    case 'replayed':
      return failure(
        400,
        'state_replayed',
        'Consent link already used',
        error.message,
        restart,
        connectionId,
      );
    default:
      return failure(400, 'state_invalid', 'Consent link not valid', error.message, restart);
  }
}

/** Entra's error text without its trace and correlation ids, printable and short. */
function describeEntraError(error: string, description: string | undefined): string {
  const code = /^[a-z_]{1,64}$/.test(error) ? error : 'error';
  if (description === undefined) return code;
  const first = description
    .split(/\s+Trace ID:/)[0]
    ?.replace(/[^\x20-\x7e]/g, ' ')
    .trim()
    .slice(0, 300);
  return first ? `${code}: ${first}` : code;
}

export class ConsentService {
  readonly #connections: ConsentConnections;
  readonly #secrets: SecretStore;
  readonly #graph: GraphAccessOptions;
  readonly #state: ConsentStateCodec;
  readonly #redirectUri: string;
  readonly #attempts: number;
  readonly #delayMs: number;
  readonly #now: () => Date;

  constructor(options: ConsentServiceOptions) {
    this.#connections = options.connections;
    this.#secrets = options.secrets;
    this.#graph = options.graph;
    this.#state = options.state;
    this.#redirectUri = options.redirectUri;
    this.#attempts = Math.max(1, options.confirm?.attempts ?? 3);
    this.#delayMs = options.confirm?.delayMs ?? 2000;
    this.#now = options.now ?? (() => new Date());
  }

  /** The admin-consent URL for a connection's tenant, with a fresh state. Throws NotFoundError for an unknown connection. */
  async startUrl(connectionId: string): Promise<string> {
    const { config } = await this.#connections.getConnection(connectionId);
    const cloud = resolveCloud(config.cloud);
    const url = new URL(`${cloud.authorityHost}/${encodeURIComponent(config.tenantId)}/v2.0/adminconsent`);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('redirect_uri', this.#redirectUri);
    url.searchParams.set('scope', cloud.scope);
    url.searchParams.set('state', await this.#state.issue(config.id));
    return url.toString();
  }

  /**
   * The consent callback. Expected failures come back as outcomes (and nothing is recorded); the
   * unexpected (storage or network down) are thrown for the adapter to fail the request.
   */
  async complete(query: ConsentCallbackQuery): Promise<ConsentOutcome> {
    const { values, repeated } = readQuery(query);

    // 1. The state, before anything else in the query is looked at.
    let claims: ConsentStateClaims;
    try {
      claims = await this.#state.verify(values.get('state'));
    } catch (error) {
      if (error instanceof ConsentStateError) return stateFailure(error);
      throw error;
    }
    const connectionId = claims.connectionId;
    if (repeated.length > 0) {
      return failure(
        400,
        'callback_invalid',
        'Consent callback not valid',
        `The consent callback repeats ${repeated.join(', ')}.`,
        'Start the consent again from the EntraSync admin console.',
        connectionId,
      );
    }

    // 2. The connection it names.
    let config: ConnectionConfig;
    try {
      ({ config } = await this.#connections.getConnection(connectionId));
    } catch (error) {
      if (error instanceof NotFoundError) {
        return failure(
          404,
          'connection_unknown',
          'Connection not found',
          `The consent was requested for connection ${connectionId}, which no longer exists.`,
          'Apply the connection again, then start the consent from the EntraSync admin console.',
          connectionId,
        );
      }
      if (error instanceof SettingsError) {
        return failure(
          409,
          'connection_invalid',
          'Connection not valid',
          error.message,
          error.nextStep ?? 'Apply a corrected document for the connection.',
          connectionId,
        );
      }
      throw error;
    }

    // 3. Spend it: from here on, this link has been used, whatever happens next.
    try {
      await this.#state.spend(claims);
    } catch (error) {
      if (error instanceof ConsentStateError) return stateFailure(error, connectionId);
      throw error;
    }

    // 4. What the administrator answered.
    const entraError = values.get('error');
    if (entraError !== undefined) {
      return failure(
        400,
        'consent_refused',
        'Consent not granted',
        `An administrator of the tenant did not grant consent for connection ${connectionId} ` +
          `(${describeEntraError(entraError, values.get('error_description'))}). Nothing was changed.`,
        `Ask a Global Administrator or Privileged Role Administrator of tenant ${config.tenantId} to start the consent again and accept the permissions ${REQUIRED_APPLICATION_PERMISSIONS.join(', ')}.`,
        connectionId,
      );
    }
    if (values.get('admin_consent')?.toLowerCase() !== 'true') {
      return failure(
        400,
        'callback_invalid',
        'Consent callback not valid',
        'The consent callback says neither that consent was granted nor that it was refused.',
        'Start the consent again from the EntraSync admin console.',
        connectionId,
      );
    }

    // 5. Confirm with the connection's own credential, in the connection's tenant.
    const confirmed = await this.#confirm(config);
    if (!('id' in confirmed)) return confirmed;

    const consent: ConsentRecord = {
      grantedAt: this.#now().toISOString(),
      tenantId: confirmed.id,
      organizationName: confirmed.displayName ?? null,
    };
    await this.#connections.stores.connections.update(connectionId, (current): StoredConnection => ({
      ...current,
      consent,
    }));
    return {
      ok: true,
      connectionId,
      tenantId: consent.tenantId,
      organizationName: consent.organizationName,
    };
  }

  async #confirm(config: ConnectionConfig): Promise<GraphOrganization | ConsentFailure> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const opened = await openGraphReader(config, this.#secrets, this.#graph);
        try {
          return await opened.reader.getOrganization({ select: ['id', 'displayName'] });
        } finally {
          await opened.close();
        }
      } catch (error) {
        if (error instanceof ConsentMissingError && attempt < this.#attempts) {
          await delay(this.#delayMs);
          continue;
        }
        return this.#confirmFailure(error, config);
      }
    }
  }

  #confirmFailure(error: unknown, config: ConnectionConfig): ConsentFailure {
    const id = config.id;
    if (error instanceof ConsentMissingError) {
      const privileges = error.problem === 'insufficient_privileges';
      return failure(
        409,
        'consent_not_confirmed',
        'Consent not confirmed',
        privileges
          ? `Consent was reported for connection ${id}, but the app may not read the organization of tenant ${config.tenantId} (Organization.Read.All is missing).`
          : `Consent was reported for connection ${id}, but tenant ${config.tenantId} has not granted it to app ${config.clientId}.`,
        privileges
          ? `Add the application permissions ${REQUIRED_APPLICATION_PERMISSIONS.join(', ')} to the app registration, then start the consent again.`
          : "If consent was just granted, wait a minute and start the consent again; make sure the administrator signs in to the connection's tenant.",
        id,
      );
    }
    if (error instanceof CredentialsInvalidError) {
      return failure(
        409,
        'credentials_invalid',
        'Connection credentials rejected',
        error.message,
        error.nextStep ?? "Fix the connection's client secret or certificate, then start the consent again.",
        id,
      );
    }
    if (error instanceof SettingsError) {
      return failure(
        409,
        'settings_invalid',
        'Connection settings incomplete',
        error.message,
        error.nextStep ?? 'Fix the setting named above, then start the consent again.',
        id,
      );
    }
    throw error;
  }
}

/** The callback URL: CONSENT_REDIRECT_URI, else https://<WEBSITE_HOSTNAME>/api/consent/callback. */
export function consentRedirectUri(
  settings: Pick<Settings, 'CONSENT_REDIRECT_URI' | 'WEBSITE_HOSTNAME'>,
): string {
  if (settings.CONSENT_REDIRECT_URI !== undefined) return settings.CONSENT_REDIRECT_URI;
  if (settings.WEBSITE_HOSTNAME !== undefined)
    return `https://${settings.WEBSITE_HOSTNAME}/api/consent/callback`;
  throw new SettingsError('Neither CONSENT_REDIRECT_URI nor WEBSITE_HOSTNAME is set.', {
    nextStep: 'Set CONSENT_REDIRECT_URI to the consent callback URL registered on the app registration.',
  });
}

export interface CreateConsentServiceOptions {
  readonly connections: ConsentConnections;
  readonly secrets: AppSecretStore;
  readonly storage: StorageClients;
  readonly settings: Pick<
    Settings,
    | 'TABLE_PREFIX'
    | 'CONSENT_STATE_SECRET_NAME'
    | 'CONSENT_REDIRECT_URI'
    | 'WEBSITE_HOSTNAME'
    | 'GRAPH_RETRY_BUDGET_SECONDS'
  >;
  /** PEM of a CA for a local simulated tenant; production passes none. */
  readonly trustedCa?: string;
  readonly confirm?: ConfirmOptions;
  readonly now?: () => Date;
}

/** The consent service as the app's settings describe it. */
export function createConsentService(options: CreateConsentServiceOptions): ConsentService {
  const { settings } = options;
  const nonces = new ConsentNonceStore(
    options.storage.table(`${settings.TABLE_PREFIX}${CONSENT_NONCES_TABLE}`),
  );
  const state = new ConsentStateCodec({
    keys: options.secrets,
    keyName: settings.CONSENT_STATE_SECRET_NAME,
    nonces,
    ...(options.now ? { now: options.now } : {}),
  });
  return new ConsentService({
    connections: options.connections,
    secrets: options.secrets,
    graph: {
      retryBudgetSeconds: settings.GRAPH_RETRY_BUDGET_SECONDS,
      ...(options.trustedCa === undefined ? {} : { trustedCa: options.trustedCa }),
    },
    state,
    redirectUri: consentRedirectUri(settings),
    ...(options.confirm ? { confirm: options.confirm } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------
// The page the administrator's browser shows

/** Headers for the consent page: no scripts, no framing, no referrer (the URL held the state), no caching. */
export const CONSENT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A small self-contained HTML page saying what happened and what to do next. */
export function renderConsentPage(outcome: ConsentOutcome): string {
  const title = outcome.ok ? 'Consent granted' : outcome.title;
  const lines = outcome.ok
    ? [
        `<p>EntraSync may now read the directory of <strong>${escapeHtml(outcome.organizationName ?? outcome.tenantId)}</strong> for connection <strong>${escapeHtml(outcome.connectionId)}</strong>.</p>`,
        `<p>Tenant id: <code>${escapeHtml(outcome.tenantId)}</code></p>`,
        '<p class="next">Next: run a preview or an import of the connection from the EntraSync admin console. You can close this page.</p>',
      ]
    : [
        `<p>${escapeHtml(outcome.message)}</p>`,
        `<p class="next">What to do: ${escapeHtml(outcome.nextStep)}</p>`,
        `<p class="code">Code: <code>${escapeHtml(outcome.code)}</code>${
          outcome.connectionId ? ` &middot; connection <code>${escapeHtml(outcome.connectionId)}</code>` : ''
        }</p>`,
      ];
  const accent = outcome.ok ? '#107c10' : '#a4262c';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>EntraSync: ${escapeHtml(title)}</title>`,
    '<style>',
    'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f5f5;color:#201f1e}',
    `main{max-width:40rem;margin:4rem auto;padding:2rem;background:#fff;border-top:4px solid ${accent};border-radius:4px}`,
    `h1{font-size:1.5rem;margin-top:0;color:${accent}}`,
    '.next{font-weight:600}.code{color:#605e5c;font-size:.875rem}code{font-family:ui-monospace,Consolas,monospace}',
    '</style>',
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...lines,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
