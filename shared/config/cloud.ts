/**
 * National clouds and their endpoints. A custom pair is there for the simulated tenant in tests and for
 * clouds this table does not know yet.
 * https://learn.microsoft.com/graph/deployments#microsoft-graph-and-graph-explorer-service-root-endpoints
 */
import { z } from 'zod';

export const CLOUD_NAMES = ['global', 'usgov', 'usgovdod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudEndpoints {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
}

const NATIONAL_CLOUDS: Readonly<Record<CloudName, CloudEndpoints>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us' },
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us',
  },
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

const CLOUD_CHOICES = `must be one of ${CLOUD_NAMES.join(', ')}, or { "authorityHost": "https://...", "graphBaseUrl": "https://..." }`;

const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an absolute https:// URL' })
  .refine((value) => !value.includes('?') && !value.includes('#'), 'must not have a query or fragment');

export const cloudSchema = z
  .union(
    [
      z.enum(CLOUD_NAMES, { error: CLOUD_CHOICES }),
      z.strictObject({
        authorityHost: httpsUrl.meta({
          description: 'Login endpoint, e.g. https://login.microsoftonline.com.',
        }),
        graphBaseUrl: httpsUrl.meta({
          description: 'Graph service root without version, e.g. https://graph.microsoft.com.',
        }),
      }),
    ],
    {
      error: `must be one of ${CLOUD_NAMES.join(', ')}, or { "authorityHost": "https://...", "graphBaseUrl": "https://..." }`,
    },
  )
  .default('global')
  .meta({ description: 'Which Microsoft cloud the tenant lives in, or explicit endpoints.' });

export type CloudSetting = z.output<typeof cloudSchema>;

/** The endpoints for a cloud setting, without trailing slashes so callers can append paths. */
export function resolveCloudEndpoints(cloud: CloudSetting): CloudEndpoints {
  const endpoints = typeof cloud === 'string' ? NATIONAL_CLOUDS[cloud] : cloud;
  return {
    authorityHost: endpoints.authorityHost.replace(/\/+$/, ''),
    graphBaseUrl: endpoints.graphBaseUrl.replace(/\/+$/, ''),
  };
}
