import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client, type FetchOptions } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { fetch, type Response } from 'undici';
import type { Simulator } from './simulator.js';

/**
 * The real SDK clients, pointed at a simulator: how EntraSync's Graph reader (and its tests) talk to
 * it. Everything here is the documented way to trust the simulator's CA on Node 20 and 22.
 */

/** The scope a client-credentials token for the simulated Graph asks for. */
export function graphScope(sim: Simulator): string {
  return `${sim.graphBaseUrl}/.default`;
}

export function secretCredential(
  sim: Simulator,
  options: { tenant?: string; clientId?: string; clientSecret?: string } = {},
): ClientSecretCredential {
  const app = sim.app(options.clientId);
  return new ClientSecretCredential(
    options.tenant ?? sim.tenant().tenantId,
    app.clientId,
    options.clientSecret ?? app.clientSecret,
    {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
      // @azure/identity sends its own HTTP requests (MSAL's network client is the Azure pipeline): it
      // trusts the simulator's CA through tlsOptions.
      tlsOptions: { ca: sim.ca },
    },
  );
}

export function certificateCredential(
  sim: Simulator,
  pem: string,
  options: { tenant?: string; clientId?: string } = {},
): ClientCertificateCredential {
  return new ClientCertificateCredential(
    options.tenant ?? sim.tenant().tenantId,
    sim.app(options.clientId).clientId,
    { certificate: pem },
    { authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.ca } },
  );
}

/**
 * A Graph client on the simulator. The client calls the global fetch with its fetchOptions, so an
 * undici Agent that trusts the CA goes in fetchOptions.dispatcher; customHosts makes the auth
 * middleware send the token to 'localhost'.
 */
export function graphClient(sim: Simulator, credential: TokenCredential = secretCredential(sim)): Client {
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [graphScope(sim)] }),
    baseUrl: sim.graphBaseUrl,
    customHosts: new Set(['localhost']),
    fetchOptions: graphFetchOptions(sim),
  });
}

/**
 * fetchOptions for the Graph client: Node's global fetch (Node 20 and 22) accepts an undici 7 Agent as
 * its dispatcher. The cast is only for the types: @types/node describes the dispatcher with its own
 * copy of undici's types, which the undici package's Agent does not match nominally.
 */
export function graphFetchOptions(sim: Simulator): FetchOptions {
  return { dispatcher: sim.dispatcher } as unknown as FetchOptions;
}

/** A raw GET on the simulator with undici's fetch, for status codes and headers. */
export async function get(
  sim: Simulator,
  pathOrUrl: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${sim.graphBaseUrl}${pathOrUrl}`;
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return await fetch(url, { headers, dispatcher: sim.dispatcher, redirect: 'manual' });
}

/** A JSON object from a response body (throws when the body is not an object). */
export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  const body = await response.json();
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Error('expected a JSON object body');
  return body as Record<string, unknown>;
}

export interface GraphPage {
  readonly '@odata.context'?: string;
  readonly '@odata.nextLink'?: string;
  readonly '@odata.deltaLink'?: string;
  readonly '@odata.count'?: number;
  readonly value: Record<string, unknown>[];
}

/** GETs a Graph URL and returns the page, failing on anything but 200. */
export async function getPage(
  sim: Simulator,
  pathOrUrl: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<GraphPage> {
  const response = await get(sim, pathOrUrl, { token, headers });
  if (response.status !== 200)
    throw new Error(`GET ${pathOrUrl} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as GraphPage;
}

export interface DeltaRound {
  /** Every item of every page, in order (replays included). */
  readonly items: Record<string, unknown>[];
  readonly pages: GraphPage[];
  readonly deltaLink: string;
}

/** Follows nextLinks from a delta URL to the deltaLink. */
export async function deltaRound(
  sim: Simulator,
  startUrl: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<DeltaRound> {
  const pages: GraphPage[] = [];
  let url: string | undefined = startUrl;
  for (let guard = 0; url !== undefined; guard++) {
    if (guard > 10_000) throw new Error('delta round did not end');
    const page = await getPage(sim, url, token, headers);
    pages.push(page);
    if (page['@odata.deltaLink'] !== undefined) {
      return { items: pages.flatMap((p) => p.value), pages, deltaLink: page['@odata.deltaLink'] };
    }
    url = page['@odata.nextLink'];
  }
  throw new Error('a page had neither a nextLink nor a deltaLink');
}
