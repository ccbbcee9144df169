import { execFileSync } from 'node:child_process';
import { createPublicKey, createVerify, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small scripted HTTPS server playing login and Graph for the reader's own tests: each test says
 * what Graph answers, so that error paths (410 with Location, syncStateNotFound, AADSTS codes) are
 * exact. The simulated tenant (test/simulator) is used for the behaviour of a whole tenant.
 */

export interface KeyPair {
  readonly keyPem: string;
  readonly certPem: string;
}

/** A self-signed certificate and key made with openssl (installed on our machines). */
export function makeCertificate(commonName: string, altNames = 'DNS:localhost,IP:127.0.0.1'): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'graph-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        `subjectAltName=${altNames}`,
      ],
      { stdio: 'ignore' },
    );
    return {
      keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
      certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StubRequest {
  readonly method: string;
  /** Path and query as received: '/v1.0/users?$top=999'. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface StubResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON; a string as text/plain. */
  readonly body?: unknown;
}

export type GraphHandler = (request: StubRequest, base: string) => StubResponse | Promise<StubResponse>;

export interface TokenFailure {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  readonly description: string;
}

export interface StubApp {
  readonly clientId: string;
  /** The accepted secret; undefined when only a certificate is registered. */
  readonly clientSecret?: string;
  /** A registered certificate (public part): client assertions must verify against it. */
  readonly certPem?: string;
}

export interface StubGraph {
  readonly base: string;
  readonly ca: string;
  readonly tenantId: string;
  /** Set per test: what Graph answers. */
  graph: GraphHandler;
  /** Set per test to make the token endpoint fail with this AADSTS answer. */
  tokenFailure: TokenFailure | undefined;
  readonly apps: StubApp[];
  readonly requests: StubRequest[];
  tokensIssued: number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => {
      resolve(data);
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, answer: StubResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload = '';
  if (typeof answer.body === 'string') {
    payload = answer.body;
    headers['content-type'] ??= 'text/plain';
  } else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    headers['content-type'] ??= 'application/json';
  }
  response.writeHead(answer.status ?? 200, headers);
  response.end(payload);
}

function base64UrlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Verifies a client assertion (RS256 or PS256 JWT) against a registered certificate. */
function assertionMatches(assertion: string, certPem: string): boolean {
  const [header, payload, signature] = assertion.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return false;
  const alg = base64UrlJson(header).alg;
  const key = createPublicKey(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'pem' }));
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  return verifier.verify(
    alg === 'PS256' ? { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 } : key,
    Buffer.from(signature, 'base64url'),
  );
}

export async function startStubGraph(options: { apps: StubApp[]; tenantId?: string }): Promise<StubGraph> {
  const tls = makeCertificate('localhost');
  const tenantId = options.tenantId ?? '00000000-0000-4000-8000-000000000001';
  const issued = new Set<string>();

  const stub: StubGraph = {
    base: '',
    ca: tls.certPem,
    tenantId,
    graph: () => ({ status: 500, body: { error: { code: 'notScripted', message: 'No handler set' } } }),
    tokenFailure: undefined,
    apps: options.apps,
    requests: [],
    tokensIssued: 0,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      });
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const base = stub.base;
    const path = url.split('?')[0] ?? url;
    if (path.endsWith('/v2.0/.well-known/openid-configuration')) {
      const tenant = path.split('/')[1] ?? '';
      send(response, {
        body: {
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          issuer: `${base}/${tenant}/v2.0`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        },
      });
      return;
    }
    if (path.endsWith('/oauth2/v2.0/token')) {
      const form = new URLSearchParams(await readBody(request));
      const failure = stub.tokenFailure;
      const fail = (f: TokenFailure): void => {
        send(response, {
          status: f.status,
          body: {
            error: f.error,
            error_description: `AADSTS${f.code}: ${f.description} Trace ID: 1 Correlation ID: 2 Timestamp: 2024-01-01 00:00:00Z`,
            error_codes: [f.code],
          },
        });
      };
      if (failure) {
        fail(failure);
        return;
      }
      const app = stub.apps.find((a) => a.clientId === form.get('client_id'));
      if (!app) {
        fail({
          status: 400,
          error: 'unauthorized_client',
          code: 700016,
          description: `Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory.`,
        });
        return;
      }
      const secret = form.get('client_secret');
      const assertion = form.get('client_assertion');
      const ok =
        (secret !== null && app.clientSecret !== undefined && secret === app.clientSecret) ||
        (assertion !== null && app.certPem !== undefined && assertionMatches(assertion, app.certPem));
      if (!ok) {
        fail(
          assertion !== null
            ? {
                status: 401,
                error: 'invalid_client',
                code: 700027,
                description: 'Client assertion failed signature validation.',
              }
            : {
                status: 401,
                error: 'invalid_client',
                code: 7000215,
                description: 'Invalid client secret provided.',
              },
        );
        return;
      }
      const token = `stub-${randomBytes(12).toString('hex')}`;
      issued.add(token);
      stub.tokensIssued += 1;
      send(response, {
        body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
      });
      return;
    }
    const recorded: StubRequest = { method: request.method ?? 'GET', url, headers: request.headers };
    stub.requests.push(recorded);
    const auth = request.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !issued.has(auth.slice('Bearer '.length))) {
      send(response, {
        status: 401,
        body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty or invalid.' } },
      });
      return;
    }
    send(response, await stub.graph(recorded, base));
  };

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, { status: 500, body: { error: { code: 'stubFailure', message: String(error) } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  (stub as { base: string }).base = `https://localhost:${port}`;
  return stub;
}
