import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SimRequest, SimResponse } from './http-types.js';

/**
 * The HTTPS listener: node:https on 127.0.0.1 only, requests parsed once into SimRequest, every answer
 * stamped with request-id and client-request-id as Graph does. It knows nothing of routes.
 */

export type RequestHandler = (req: SimRequest) => Promise<SimResponse>;

export interface HttpsListener {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The path's segments after the leading slash, each percent-decoded (kept raw when it does not decode). */
export function segmentsOf(pathname: string): string[] {
  return pathname
    .split('/')
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function listenHttps(
  tls: { readonly cert: string; readonly key: string },
  port: number,
  handler: RequestHandler,
): Promise<HttpsListener> {
  const sockets = new Set<Socket>();
  let origin = 'https://localhost';

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    const clientRequestId = firstHeader(req.headers['client-request-id']);
    const respond = (response: SimResponse): void => {
      // One buffer with a content-length: a string body in chunked encoding cost twice the CPU in TLS
      // writes when serving 999-user pages.
      const body = Buffer.from(response.body ?? '', 'utf8');
      res.writeHead(response.status, {
        ...response.headers,
        'content-length': String(body.length),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
        'strict-transport-security': 'max-age=31536000',
      });
      res.end(body);
    };
    readBody(req)
      .then(async (body) => {
        const url = new URL(req.url ?? '/', origin);
        return await handler({
          method: (req.method ?? 'GET').toUpperCase(),
          url,
          segments: segmentsOf(url.pathname),
          headers: req.headers,
          body,
          requestId,
          clientRequestId,
        });
      })
      .then(respond)
      .catch((error: unknown) => {
        // Route modules map expected failures themselves; this is a simulator bug, so make it loud.
        console.error('[entra-simulator] unhandled error', error);
        if (!res.headersSent) {
          respond({
            status: 500,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: { code: 'generalException', message: String(error) } }),
          });
        }
      });
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key, keepAliveTimeout: 30_000 }, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  origin = `https://localhost:${actualPort}`;

  return {
    port: actualPort,
    async close() {
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
