import type { ConnectionConfig } from '../config/connection.js';
import { requiredSourceProperties } from '../engine/required-properties.js';
import type { JsonValue, SourceProperties } from '../engine/types.js';
import { createGraphClient, createGraphCredential, type GraphAppSecret } from '../graph/client.js';
import { GraphReader } from '../graph/reader.js';
import type { GraphUser } from '../graph/schemas.js';
import { describeReference, type SecretStore } from '../secrets/secret-store.js';

/** Options for reaching Graph that come from the app's settings, not from a connection. */
export interface GraphAccessOptions {
  /** The longest a run waits on throttling in total. */
  readonly retryBudgetSeconds: number;
  /** PEM of a CA to trust, for a local simulated tenant only. */
  readonly trustedCa?: string;
}

export interface OpenedReader {
  readonly reader: GraphReader;
  close(): Promise<void>;
}

/** Builds the credential and Graph reader of one run. The secret is resolved here and kept nowhere else. */
export async function openGraphReader(
  config: ConnectionConfig,
  secrets: SecretStore,
  options: GraphAccessOptions,
): Promise<OpenedReader> {
  const reference = config.clientSecret ?? config.certificate;
  if (reference === undefined) throw new Error(`Connection ${config.id} has no credential reference`);
  const value = await secrets.resolve(reference);
  const secret: GraphAppSecret = config.clientSecret ? { clientSecret: value } : { certificatePem: value };
  const credential = createGraphCredential(config.tenantId, config.clientId, secret, {
    cloud: config.cloud,
    credentialReference: describeReference(reference),
    ...(options.trustedCa ? { ca: options.trustedCa } : {}),
  });
  const client = createGraphClient(credential, {
    ...(options.trustedCa ? { ca: options.trustedCa } : {}),
    retry: { maxTotalWaitMs: options.retryBudgetSeconds * 1000 },
  });
  return {
    reader: new GraphReader(client),
    close: async () => {
      await client.close();
    },
  };
}

/** Exactly the user properties the connection's mapping and scope read: a tight $select. */
export function userSelect(config: ConnectionConfig): string[] {
  return requiredSourceProperties(config);
}

/** A Graph user as the engine's source properties: annotations and id are not properties. */
export function sourcePropertiesOf(user: GraphUser): SourceProperties {
  const properties: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(user)) {
    if (key === 'id' || key.includes('@') || value === undefined) continue;
    properties[key] = value as JsonValue;
  }
  return properties;
}
