import {
  ClientCertificateCredential,
  ClientSecretCredential,
  type ClientSecretCredentialOptions,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import { AuthenticationHandler, Client } from '@microsoft/microsoft-graph-client';
import { SettingsError } from '../errors.js';
import { resolveCloud, type CloudInput, type ResolvedCloud } from './clouds.js';
import { DEFAULT_GRAPH_PERMISSIONS, type GraphErrorContext } from './errors.js';
import {
  CredentialAuthProvider,
  HttpSender,
  RetryMiddleware,
  systemClock,
  type Clock,
  type FetchLike,
  type Transport,
} from './middleware.js';
import { RetryBudget, type RetryBudgetOptions } from './retry.js';

// ---------------------------------------------------------------------------------------------------
// Credentials

/** The app's secret: a client secret, or a certificate as PEM holding the certificate and its private key. */
export type GraphAppSecret =
  | { readonly clientSecret: string }
  | { readonly certificatePem: string; readonly sendCertificateChain?: boolean };

export interface GraphCredentialOptions {
  readonly cloud?: CloudInput;
  /** PEM of a CA to trust, for local HTTPS servers only. Production passes none. */
  readonly ca?: string;
  /** Where the secret came from (Key Vault secret name, setting name): named in error next steps. */
  readonly credentialReference?: string;
}

/** A TokenCredential that also knows, for error messages, whose it is. Holds no readable secret. */
export interface GraphCredential extends TokenCredential {
  readonly tenantId: string;
  readonly clientId: string;
  readonly kind: 'secret' | 'certificate';
  readonly credentialReference: string | undefined;
  readonly cloud: ResolvedCloud;
}

function required(value: string, name: string, reference: string | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SettingsError(`The ${name} for the Graph connection is empty.`, {
      nextStep: reference ? `Set ${name} (see "${reference}").` : `Set ${name}.`,
    });
  }
  return value.trim();
}

/**
 * Builds the app-only credential for one tenant and app. Non-global and custom clouds get their
 * authority host and no instance discovery (a local login server cannot answer it); a CA, when given,
 * is trusted for the login calls.
 */
export function createGraphCredential(
  tenantId: string,
  clientId: string,
  secret: GraphAppSecret,
  options: GraphCredentialOptions = {},
): GraphCredential {
  const reference = options.credentialReference;
  const tenant = required(tenantId, 'tenant id', reference);
  const client = required(clientId, 'client id', reference);
  const cloud = resolveCloud(options.cloud);
  const identityOptions: ClientSecretCredentialOptions = {
    authorityHost: cloud.authorityHost,
    disableInstanceDiscovery: cloud.disableInstanceDiscovery,
    ...(options.ca === undefined ? {} : { tlsOptions: { ca: options.ca } }),
  };

  let inner: TokenCredential;
  let kind: 'secret' | 'certificate';
  if ('clientSecret' in secret) {
    kind = 'secret';
    if (secret.clientSecret === '') {
      throw new SettingsError('The client secret for the Graph connection is empty.', {
        nextStep: reference ? `Store the client secret's value in "${reference}".` : 'Set the client secret.',
      });
    }
    inner = new ClientSecretCredential(tenant, client, secret.clientSecret, identityOptions);
  } else {
    kind = 'certificate';
    const pem = secret.certificatePem;
    // Checked here because @azure/identity only reads the PEM at the first token request, with an
    // error that names neither the app nor where the PEM came from.
    const missing = [
      /-----BEGIN CERTIFICATE-----/.test(pem) ? undefined : 'a certificate',
      /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem) ? undefined : 'a private key',
    ].filter((x): x is string => x !== undefined);
    if (missing.length > 0) {
      throw new SettingsError(
        `The certificate PEM for application ${client} has no ${missing.join(' and no ')}.`,
        {
          nextStep: `Store a PEM with both the certificate and its private key${reference ? ` in "${reference}"` : ''}.`,
        },
      );
    }
    inner = new ClientCertificateCredential(
      tenant,
      client,
      { certificate: pem },
      { ...identityOptions, sendCertificateChain: secret.sendCertificateChain ?? false },
    );
  }

  return {
    tenantId: tenant,
    clientId: client,
    kind,
    credentialReference: reference,
    cloud,
    getToken: async (scopes: string | string[], getTokenOptions?: GetTokenOptions) =>
      await inner.getToken(scopes, getTokenOptions),
  };
}

function isGraphCredential(credential: TokenCredential): credential is GraphCredential {
  const c = credential as Partial<GraphCredential>;
  return typeof c.tenantId === 'string' && typeof c.clientId === 'string' && typeof c.cloud === 'object';
}

// ---------------------------------------------------------------------------------------------------
// The Graph client

export interface GraphClientOptions {
  /** Defaults to the GraphCredential's cloud, else 'global'. */
  readonly cloud?: CloudInput;
  /** PEM of a CA to trust for Graph calls, for local HTTPS servers only. Production passes none. */
  readonly ca?: string;
  /** More Graph host names (no port) that get the bearer token, besides the cloud's Graph host. */
  readonly customHosts?: readonly string[];
  /** Per-request time limit, retries excluded. Default 100 s. */
  readonly requestTimeoutMs?: number;
  /** Default retry budget of the readers built on this client. */
  readonly retry?: RetryBudgetOptions;
  /** Names for error next steps when the credential is not a GraphCredential. */
  readonly errorContext?: Partial<GraphErrorContext>;
  /** Application permissions named in consent next steps. */
  readonly permissions?: readonly string[];
  /** Test hook: the clock retries wait on. */
  readonly clock?: Clock;
}

export interface GraphClient {
  /** The SDK client, with our middleware chain. */
  readonly sdk: Client;
  readonly cloud: ResolvedCloud;
  /** Host names that receive the token: the cloud's Graph host and customHosts. */
  readonly graphHosts: ReadonlySet<string>;
  readonly errorContext: GraphErrorContext;
  readonly retryDefaults: RetryBudgetOptions;
  readonly clock: Clock;
  /** Releases the connection pool that trusts the CA, when one was given. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 100_000;

/**
 * Builds a Graph client once per connection (tenant, app, cloud): the SDK with the token provider,
 * the bounded retry and the sender. Readers built on it share its connection pool, each with its own
 * retry budget and request counts.
 */
export function createGraphClient(
  credential: TokenCredential,
  options: GraphClientOptions = {},
): GraphClient {
  const known = isGraphCredential(credential) ? credential : undefined;
  const cloud =
    options.cloud === undefined ? (known?.cloud ?? resolveCloud('global')) : resolveCloud(options.cloud);
  const hosts = new Set<string>(
    [cloud.graphHost, ...(options.customHosts ?? [])].map((h) => h.toLowerCase()),
  );
  for (const host of hosts) {
    if (host.includes('/') || host.includes(':')) {
      throw new SettingsError(`Custom Graph host "${host}" must be a host name only.`, {
        nextStep: 'Give host names without scheme, port or path, for example "localhost".',
      });
    }
  }

  let dispatcherToClose: { close(): Promise<void> } | undefined;
  let transport: Promise<Transport> | undefined;
  const getTransport = async (): Promise<Transport> => {
    transport ??= (async () => {
      if (options.ca === undefined) return { fetch: globalThis.fetch as unknown as FetchLike };
      // Only with a CA (local servers): undici's own fetch with an Agent that trusts it. undici is a
      // development dependency; production never passes a CA, so never loads it.
      const undici = await import('undici');
      const agent = new undici.Agent({ connect: { ca: options.ca } });
      dispatcherToClose = agent;
      return { fetch: undici.fetch as unknown as FetchLike, dispatcher: agent };
    })();
    return await transport;
  };

  const clock = options.clock ?? systemClock;
  const retryDefaults = options.retry ?? {};
  const authentication = new AuthenticationHandler(new CredentialAuthProvider(credential, cloud.scope));
  const retry = new RetryMiddleware(() => new RetryBudget(retryDefaults), clock);
  const sender = new HttpSender(getTransport, options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  authentication.setNext(retry);
  retry.setNext(sender);

  const sdk = Client.initWithMiddleware({
    baseUrl: `${cloud.graphBaseUrl}/`,
    defaultVersion: 'v1.0',
    middleware: authentication,
    // The SDK's AuthenticationHandler attaches the token only to known Graph hosts and these.
    customHosts: hosts,
  });

  const errorContext: GraphErrorContext = {
    tenantId: known?.tenantId,
    clientId: known?.clientId,
    credentialKind: known?.kind,
    credentialReference: known?.credentialReference,
    authorityHost: cloud.authorityHost,
    permissions: options.permissions ?? DEFAULT_GRAPH_PERMISSIONS,
    now: () => clock.now(),
    ...options.errorContext,
  };

  return {
    sdk,
    cloud,
    graphHosts: hosts,
    errorContext,
    retryDefaults,
    clock,
    close: async () => {
      if (transport !== undefined) await transport.catch(() => undefined);
      await dispatcherToClose?.close();
    },
  };
}
