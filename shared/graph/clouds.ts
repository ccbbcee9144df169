import { SettingsError } from '../errors.js';

/**
 * Where a tenant lives. Each national cloud has its own login authority and Graph root; tokens from one
 * are not accepted by another, so the two must always be chosen together.
 * Endpoints: https://learn.microsoft.com/graph/deployments
 */
export const CLOUD_NAMES = ['global', 'usgov', 'usgovdod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

/** An explicit pair of endpoints, for example the simulated tenant in tests. Both must be https. */
export interface CustomCloud {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  /** The token scope; defaults to the global Graph's, since a custom Graph is a proxy or a fake of it. */
  readonly scope?: string;
}

export type CloudInput = CloudName | CustomCloud;

export interface ResolvedCloud {
  /** The cloud's name, or 'custom' for explicit endpoints. */
  readonly name: CloudName | 'custom';
  /** Login authority, without a trailing slash, for example https://login.microsoftonline.com. */
  readonly authorityHost: string;
  /** Graph root without version or trailing slash, for example https://graph.microsoft.com. */
  readonly graphBaseUrl: string;
  /** The app-only scope: the Graph root of the same cloud followed by /.default. */
  readonly scope: string;
  /** Graph's host name (no port): the only host that gets a bearer token besides customHosts. */
  readonly graphHost: string;
  /** Whether @azure/identity should skip instance discovery (everything but the global cloud). */
  readonly disableInstanceDiscovery: boolean;
}

const KNOWN: Record<CloudName, { authorityHost: string; graphBaseUrl: string }> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com' },
  // GCC High (L4). Plain GCC tenants use the global cloud, as the deployments page says.
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us' },
  // DoD (L5) signs in at the same US Government authority but has its own Graph root.
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us',
  },
  // Operated by 21Vianet.
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

export function isCloudName(value: unknown): value is CloudName {
  return typeof value === 'string' && (CLOUD_NAMES as readonly string[]).includes(value);
}

function httpsOrigin(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`The ${what} "${value}" is not a URL.`, {
      nextStep: `Set the ${what} to an https URL such as https://host:port.`,
    });
  }
  // @azure/identity refuses an http authority, and the Graph SDK sends no token to an http base URL.
  if (url.protocol !== 'https:') {
    throw new SettingsError(`The ${what} "${value}" must use https.`, {
      nextStep: `Serve the endpoint over https (trust its CA with the ca option) and set the ${what} to it.`,
    });
  }
  return url;
}

/** Resolves a cloud name or explicit endpoints to everything the credential and the Graph client need. */
export function resolveCloud(cloud: CloudInput = 'global'): ResolvedCloud {
  if (typeof cloud === 'string') {
    if (!isCloudName(cloud)) {
      throw new SettingsError(`Unknown cloud "${String(cloud)}".`, {
        nextStep: `Use one of ${CLOUD_NAMES.join(', ')}, or give explicit authorityHost and graphBaseUrl.`,
      });
    }
    const known = KNOWN[cloud];
    return {
      name: cloud,
      authorityHost: known.authorityHost,
      graphBaseUrl: known.graphBaseUrl,
      scope: `${known.graphBaseUrl}/.default`,
      graphHost: new URL(known.graphBaseUrl).hostname,
      disableInstanceDiscovery: cloud !== 'global',
    };
  }
  const authority = httpsOrigin(cloud.authorityHost, 'authority host');
  const graph = httpsOrigin(cloud.graphBaseUrl, 'Graph base URL');
  const graphBaseUrl = `${graph.origin}${graph.pathname.replace(/\/+$/, '')}`;
  return {
    name: 'custom',
    authorityHost: `${authority.origin}${authority.pathname.replace(/\/+$/, '')}`,
    graphBaseUrl,
    scope: cloud.scope ?? `${KNOWN.global.graphBaseUrl}/.default`,
    graphHost: graph.hostname,
    disableInstanceDiscovery: true,
  };
}
