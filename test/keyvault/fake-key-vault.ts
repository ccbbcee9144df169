import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createRemoteJWKSet, customFetch, jwtVerify, type FetchImplementation } from 'jose';
import { Agent } from 'undici';
import { createServerCertificate } from '../simulator/certificate.js';

/**
 * A local Azure Key Vault (secrets only) that speaks the wire protocol the real SecretClient uses, so
 * that tests run the real SDK and @azure/identity against it. Test tooling: never deployed.
 *
 * Like the service: a request without a token gets 401 with the challenge
 * `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`
 * (the SDK then asks its credential for `<resource>/.default` and sends the request again); then
 * `GET /secrets/{name}/`, `GET /secrets/{name}/{version}`, `GET /secrets/{name}/versions` (paged),
 * `PUT /secrets/{name}` (a new version), `PATCH /secrets/{name}/{version}` (attributes), each with
 * `api-version`, and Key Vault's error bodies (SecretNotFound, Forbidden/ForbiddenByRbac,
 * SecretDisabled, ObjectIsDeletedButRecoverable). Tokens are checked for presence, and, with `trust`,
 * for signature (against a JWKS such as the simulated tenant's), expiry, audience and tenant.
 * The client needs `disableChallengeResourceVerification: true` (the host is not *.vault.azure.net),
 * and `tlsOptions: { ca }` over https (the default) or `allowInsecureConnection: true` over http.
 */

export interface FakeKeyVaultTrust {
  /** Where the signing keys are, e.g. `${sim.authorityHost}/${tenantId}/discovery/v2.0/keys`. */
  readonly jwksUri: string;
  /** PEM of a CA to trust when fetching the keys. */
  readonly ca?: string;
  /** The audience tokens must carry. Default: the challenge's resource. */
  readonly audience?: string;
}

export interface FakeKeyVaultOptions {
  /** The vault's tenant: named in the challenge, and required as the tokens' tid when `trust` is set. */
  readonly tenantId: string;
  /** The login authority named in the challenge. Default https://login.microsoftonline.com. */
  readonly authorityHost?: string;
  /** The resource named in the challenge. Default https://vault.azure.net. */
  readonly resource?: string;
  readonly protocol?: 'https' | 'http';
  readonly trust?: FakeKeyVaultTrust;
  /** Added before every answer, e.g. to make two clients' requests interleave. */
  readonly latencyMs?: number;
  /** Versions per page of a version listing. Default 25, as the service. */
  readonly pageSize?: number;
}

export type FakeOperation = 'get' | 'set' | 'list' | 'update';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly operation: FakeOperation | undefined;
  /** Whether a bearer token was sent (and accepted). */
  readonly authorized: boolean;
  readonly status: number;
}

export interface StoredVersion {
  readonly version: string;
  readonly value: string;
  enabled: boolean;
  readonly created: number;
  updated: number;
  readonly contentType: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface FakeKeyVault {
  /** The vault URL to give SecretClient (https://localhost:PORT). */
  readonly url: string;
  /** PEM of the CA that issued the server certificate (https only). */
  readonly ca: string | undefined;
  readonly requests: readonly RecordedRequest[];
  /** Adds a version, as `az keyvault secret set` would; returns its version id. */
  setSecret(name: string, value: string, options?: { enabled?: boolean; contentType?: string }): string;
  /** Every version of a secret, oldest first. */
  versions(name: string): readonly StoredVersion[];
  disableVersion(name: string, version: string): void;
  /** Soft-deletes a secret: reads answer 404 and a new version 409 until it is purged. */
  softDelete(name: string): void;
  /** Answer 403 (ForbiddenByRbac) to these operations on this secret (all secrets when absent). */
  forbid(rule?: { secret?: string; operations?: readonly FakeOperation[] }): void;
  /** Drops every forbid rule. */
  allowAll(): void;
  setLatency(ms: number): void;
  count(operation: FakeOperation): number;
  close(): Promise<void>;
}

const NAME = /^[0-9A-Za-z-]{1,127}$/;
const MAX_BODY = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

function kvError(status: number, code: string, message: string, innerCode?: string): Answer {
  return {
    status,
    body: { error: { code, message, ...(innerCode ? { innererror: { code: innerCode } } : {}) } },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function startFakeKeyVault(options: FakeKeyVaultOptions): Promise<FakeKeyVault> {
  const authorityHost = (options.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const resource = options.resource ?? 'https://vault.azure.net';
  const challenge = `Bearer authorization="${authorityHost}/${options.tenantId}", resource="${resource}"`;
  const pageSize = options.pageSize ?? 25;
  let latency = options.latencyMs ?? 0;
  const secrets = new Map<string, StoredVersion[]>();
  const deleted = new Set<string>();
  const forbidden: { secret?: string; operations?: readonly FakeOperation[] }[] = [];
  const requests: RecordedRequest[] = [];
  let url = '';

  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  let keyAgent: Agent | undefined;
  if (options.trust) {
    const agent = options.trust.ca ? new Agent({ connect: { ca: options.trust.ca } }) : undefined;
    keyAgent = agent;
    const fetchKeys: FetchImplementation = async (target, init) =>
      await fetch(target, { ...init, ...(agent ? { dispatcher: agent } : {}) } as unknown as RequestInit);
    keys = createRemoteJWKSet(new URL(options.trust.jwksUri), { [customFetch]: fetchKeys });
  }

  const addVersion = (
    name: string,
    value: string,
    extra: { enabled?: boolean; contentType?: string | undefined; tags?: Record<string, string> } = {},
  ): StoredVersion => {
    const now = Math.floor(Date.now() / 1000);
    const stored: StoredVersion = {
      version: randomBytes(16).toString('hex'),
      value,
      enabled: extra.enabled ?? true,
      created: now,
      updated: now,
      contentType: extra.contentType,
      tags: extra.tags ?? {},
    };
    const list = secrets.get(name) ?? [];
    list.push(stored);
    secrets.set(name, list);
    return stored;
  };

  const attributes = (v: StoredVersion): Record<string, unknown> => ({
    enabled: v.enabled,
    created: v.created,
    updated: v.updated,
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  });
  const bundle = (name: string, v: StoredVersion, withValue: boolean): Record<string, unknown> => ({
    ...(withValue ? { value: v.value } : {}),
    id: `${url}/secrets/${name}/${v.version}`,
    attributes: attributes(v),
    tags: v.tags,
    ...(v.contentType === undefined ? {} : { contentType: v.contentType }),
  });
  const notFound = (name: string): Answer =>
    kvError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    );

  /** 401 with the challenge, or undefined when the bearer token is good. */
  const authenticate = async (header: string | undefined): Promise<Answer | undefined> => {
    const unauthorized = (message: string, invalid: boolean): Answer => ({
      ...kvError(401, 'Unauthorized', message),
      headers: { 'www-authenticate': invalid ? `${challenge}, error="invalid_token"` : challenge },
    });
    const token = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
    if (token === undefined)
      return unauthorized('AKV10000: Request is missing a Bearer or PoP token.', false);
    if (!keys || !options.trust) return undefined;
    try {
      const { payload } = await jwtVerify(token, keys, { algorithms: ['RS256'], clockTolerance: 60 });
      const audience = options.trust.audience ?? resource;
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.includes(audience) && !aud.includes(`${audience}/`)) {
        return unauthorized(`AKV10022: Invalid audience. Expected ${audience}.`, true);
      }
      if (payload.tid !== options.tenantId) {
        return unauthorized(
          `AKV10032: Invalid issuer. Expected one of the issuers of tenant ${options.tenantId}.`,
          true,
        );
      }
      return undefined;
    } catch {
      return unauthorized('AKV10031: Invalid token signature or expired token.', true);
    }
  };

  const isForbidden = (name: string, operation: FakeOperation): boolean =>
    forbidden.some(
      (rule) =>
        (rule.secret === undefined || rule.secret === name) &&
        (rule.operations === undefined || rule.operations.includes(operation)),
    );
  const forbiddenAnswer = (name: string, operation: FakeOperation): Answer =>
    kvError(
      403,
      'Forbidden',
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${operation === 'set' ? 'setSecret' : operation === 'list' ? 'readMetadata' : 'getSecret'}/action'\r\nResource: '/secrets/${name}'\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'\r\n`,
      'ForbiddenByRbac',
    );

  const route = async (
    method: string,
    target: URL,
    body: () => Promise<Buffer>,
  ): Promise<{ operation: FakeOperation | undefined; answer: Answer }> => {
    const segments = target.pathname.split('/').slice(1);
    if (segments[0] !== 'secrets' || segments[1] === undefined) {
      return {
        operation: undefined,
        answer: kvError(404, 'NotFound', `No route ${method} ${target.pathname}`),
      };
    }
    const name = decodeURIComponent(segments[1]);
    const tail = segments.slice(2).filter((segment) => segment !== '');
    const operation: FakeOperation | undefined =
      method === 'GET'
        ? tail[0] === 'versions'
          ? 'list'
          : 'get'
        : method === 'PUT'
          ? 'set'
          : method === 'PATCH'
            ? 'update'
            : undefined;
    if (operation === undefined || tail.length > 1) {
      return { operation, answer: kvError(405, 'MethodNotAllowed', `${method} is not supported here.`) };
    }
    if (!target.searchParams.get('api-version')) {
      return {
        operation,
        answer: kvError(400, 'BadParameter', 'The request URI does not contain the api-version parameter.'),
      };
    }
    if (!NAME.test(name)) {
      return {
        operation,
        answer: kvError(
          400,
          'BadParameter',
          `The secret name '${name}' is not valid: letters, digits and dashes.`,
        ),
      };
    }
    if (isForbidden(name, operation)) return { operation, answer: forbiddenAnswer(name, operation) };

    const versions = deleted.has(name) ? [] : (secrets.get(name) ?? []);
    if (operation === 'list') {
      const skip = Number(target.searchParams.get('$skiptoken') ?? '0') || 0;
      const page = versions.slice(skip, skip + pageSize);
      const more = skip + pageSize < versions.length;
      return {
        operation,
        answer: {
          status: 200,
          body: {
            value: page.map((v) => bundle(name, v, false)),
            nextLink: more
              ? `${url}/secrets/${name}/versions?api-version=${target.searchParams.get('api-version') ?? ''}&$skiptoken=${skip + pageSize}&maxresults=${pageSize}`
              : null,
          },
        },
      };
    }
    if (operation === 'set') {
      if (deleted.has(name)) {
        return {
          operation,
          answer: kvError(
            409,
            'Conflict',
            `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            'ObjectIsDeletedButRecoverable',
          ),
        };
      }
      let parsed: {
        value?: unknown;
        contentType?: unknown;
        tags?: unknown;
        attributes?: { enabled?: unknown };
      };
      try {
        parsed = JSON.parse((await body()).toString('utf8')) as typeof parsed;
      } catch {
        return { operation, answer: kvError(400, 'BadParameter', 'The request body is not JSON.') };
      }
      if (typeof parsed.value !== 'string') {
        return { operation, answer: kvError(400, 'BadParameter', 'Property value is required.') };
      }
      const stored = addVersion(name, parsed.value, {
        contentType: typeof parsed.contentType === 'string' ? parsed.contentType : undefined,
        tags: (parsed.tags ?? {}) as Record<string, string>,
        enabled: parsed.attributes?.enabled !== false,
      });
      return { operation, answer: { status: 200, body: bundle(name, stored, true) } };
    }

    const wanted = tail[0];
    const found =
      wanted === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === wanted);
    if (!found) return { operation, answer: notFound(name) };
    if (operation === 'update') {
      const parsed = JSON.parse((await body()).toString('utf8') || '{}') as {
        attributes?: { enabled?: unknown };
      };
      if (typeof parsed.attributes?.enabled === 'boolean') found.enabled = parsed.attributes.enabled;
      found.updated = Math.floor(Date.now() / 1000);
      return { operation, answer: { status: 200, body: bundle(name, found, false) } };
    }
    if (!found.enabled) {
      return {
        operation,
        answer: kvError(
          403,
          'Forbidden',
          'Operation get is not allowed on a disabled secret.',
          'SecretDisabled',
        ),
      };
    }
    return { operation, answer: { status: 200, body: bundle(name, found, true) } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = new URL(req.url ?? '/', url || 'https://localhost');
    let bodyPromise: Promise<Buffer> | undefined;
    const body = async (): Promise<Buffer> => await (bodyPromise ??= readBody(req));
    let operation: FakeOperation | undefined;
    let answer = await authenticate(req.headers.authorization);
    const authorized = answer === undefined;
    if (answer === undefined) ({ operation, answer } = await route(method, target, body));
    // Drain what was not read, so that the connection can be reused.
    await body().catch(() => Buffer.alloc(0));
    if (latency > 0) await delay(latency);
    requests.push({ method, path: target.pathname, operation, authorized, status: answer.status });
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      'x-ms-request-id': randomBytes(16).toString('hex'),
      'x-ms-keyvault-service-version': '1.9.0.0',
      ...answer.headers,
    });
    res.end(payload);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalError', message: String(error) } }));
    });
  };

  const protocol = options.protocol ?? 'https';
  const tls = protocol === 'https' ? await createServerCertificate() : undefined;
  const server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest)
    : createHttpServer(onRequest);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  url = `${protocol}://localhost:${(server.address() as AddressInfo).port}`;

  return {
    url,
    ca: tls?.ca,
    requests,
    setSecret: (name, value, extra = {}) => {
      deleted.delete(name);
      return addVersion(name, value, extra).version;
    },
    versions: (name) => [...(secrets.get(name) ?? [])],
    disableVersion: (name, version) => {
      const found = secrets.get(name)?.find((v) => v.version === version);
      if (!found) throw new Error(`no version ${version} of ${name}`);
      found.enabled = false;
    },
    softDelete: (name) => {
      deleted.add(name);
    },
    forbid: (rule = {}) => {
      forbidden.push(rule);
    },
    allowAll: () => {
      forbidden.length = 0;
    },
    setLatency: (ms) => {
      latency = ms;
    },
    count: (operation) => requests.filter((r) => r.operation === operation && r.authorized).length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      if (keyAgent) await keyAgent.destroy();
    },
  };
}
