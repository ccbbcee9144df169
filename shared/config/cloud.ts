/**
 * The `cloud` of a connection: a national cloud by name, or explicit endpoints (for the simulated tenant
 * in tests and for clouds the reader's table does not know yet).
 * https://learn.microsoft.com/graph/deployments#microsoft-graph-and-graph-explorer-service-root-endpoints
 */
import { z } from 'zod';
import { CLOUD_NAMES } from '../graph/clouds.js';

// The endpoints of each cloud live with the Graph reader (shared/graph/clouds.ts); this is the document's shape.
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
    { error: CLOUD_CHOICES },
  )
  .default('global')
  .meta({ description: 'Which Microsoft cloud the tenant lives in, or explicit endpoints.' });

export type CloudSetting = z.output<typeof cloudSchema>;
