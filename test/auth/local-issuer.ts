import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createServerCertificate } from '../simulator/certificate.js';

/**
 * A minimal Entra-like authority for one tenant that issues v2.0 access tokens (the simulator issues
 * v1.0 ones only): OpenID metadata at /{tenant}/v2.0/.well-known/openid-configuration and its
 * jwks_uri, over HTTPS with a fresh CA. Tokens are signed here with jose.
 */
export interface LocalIssuer {
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly ca: string;
  /** `${authorityHost}/${tenantId}/v2.0`, as Entra's v2.0 metadata names it. */
  readonly issuer: string;
  /** Requests per path, to check caching. */
  readonly hits: ReadonlyMap<string, number>;
  /** A v2.0 access token: these claims over sensible defaults, signed with the published key. */
  sign(claims: JWTPayload, options?: { key?: CryptoKey; kid?: string; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(tenantId: string = randomUUID()): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replace(/-/g, '');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  const tls = await createServerCertificate();
  const hits = new Map<string, number>();
  let base = '';

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const path = new URL(req.url ?? '/', base).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    let body: unknown;
    if (path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      body = {
        issuer: `${base}/${tenantId}/v2.0`,
        jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`,
        token_endpoint: `${base}/${tenantId}/oauth2/v2.0/token`,
        id_token_signing_alg_values_supported: ['RS256'],
      };
    } else if (path === `/${tenantId}/discovery/v2.0/keys`) {
      body = { keys: [jwk] };
    }
    const text = JSON.stringify(body ?? { error: 'invalid_tenant' });
    res.writeHead(body === undefined ? 400 : 200, { 'content-type': 'application/json' });
    res.end(text);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/${tenantId}/v2.0`;

  return {
    authorityHost: base,
    tenantId,
    ca: tls.ca,
    issuer,
    hits,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: issuer,
        tid: tenantId,
        iat: now,
        nbf: now,
        exp: now + 3600,
        ver: '2.0',
        oid: randomUUID(),
        sub: randomUUID(),
        azp: randomUUID(),
        ...claims,
      };
      return await new SignJWT(payload)
        .setProtectedHeader({ typ: 'JWT', alg: options.alg ?? 'RS256', kid: options.kid ?? kid })
        .sign(options.key ?? privateKey);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
