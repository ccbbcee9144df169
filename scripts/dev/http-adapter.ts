import type { IncomingMessage, ServerResponse } from 'node:http';
import functions, { type HttpResponseInit } from '@azure/functions';
import type { FunctionDefinition } from '../../functions/registry.js';

/**
 * The Functions host's HTTP trigger, played on node:http for local use: a request under /api is
 * matched against the registered routes (literal segments before parameters, a catch-all last, as
 * the host's router does), turned into an HttpRequest, handed to the registered handler, and its
 * HttpResponseInit written back. No business logic here, only the translation.
 */

// @azure/functions is CommonJS: Node's ESM loader (tsx, node) offers its classes on the default export only.
const { HttpRequest, InvocationContext } = functions;

type HttpDefinition = Extract<FunctionDefinition, { trigger: 'http' }>;

interface CompiledRoute {
  readonly definition: HttpDefinition;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Sort key: more literal segments first, then fewer parameters, a catch-all last. */
  readonly rank: readonly number[];
}

export const ROUTE_PREFIX = '/api/';
const MAX_BODY_BYTES = 1024 * 1024;

function compile(definition: HttpDefinition): CompiledRoute {
  const names: string[] = [];
  let literals = 0;
  let catchAll = 0;
  const parts = definition.route.split('/').map((segment) => {
    const parameter = /^\{(\*?)(\w+)\}$/.exec(segment);
    if (!parameter) {
      literals += 1;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    names.push(parameter[2] ?? '');
    if (parameter[1] === '*') {
      catchAll = 1;
      return '(.*)';
    }
    return '([^/]+)';
  });
  // A catch-all also matches its parent path with nothing after it (console/ and console).
  const source = parts.join('/').replace(/\/\(\.\*\)$/, '(?:/(.*))?');
  return {
    definition,
    pattern: new RegExp(`^${source}$`, 'i'),
    names,
    rank: [catchAll, -literals, names.length],
  };
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

export class FunctionsHttpAdapter {
  readonly #routes: CompiledRoute[];
  readonly #log: (line: string) => void;

  constructor(definitions: readonly FunctionDefinition[], options: { log?: (line: string) => void } = {}) {
    this.#routes = definitions
      .flatMap((definition) => (definition.trigger === 'http' ? [compile(definition)] : []))
      .sort((a, b) => compare(a.rank, b.rank));
    this.#log = options.log ?? (() => undefined);
  }

  /** The route a path under /api would reach, if any (the dev server lets Vite serve the console otherwise). */
  match(
    method: string,
    pathname: string,
  ): { definition: HttpDefinition; params: Record<string, string> } | undefined {
    if (!pathname.startsWith(ROUTE_PREFIX)) return undefined;
    const path = pathname.slice(ROUTE_PREFIX.length);
    for (const route of this.#routes) {
      const found = route.pattern.exec(path);
      if (!found || !route.definition.methods.includes(method as never)) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { definition: route.definition, params };
    }
    return undefined;
  }

  /** Answers the request if a registered route matches; false when none does. */
  async handle(req: IncomingMessage, res: ServerResponse, origin: string): Promise<boolean> {
    const url = new URL(req.url ?? '/', origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = this.match(method, url.pathname);
    if (!matched) return false;
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      params: matched.params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const { name } = matched.definition;
    const context = new InvocationContext({
      functionName: name,
      invocationId: crypto.randomUUID(),
      logHandler: (level, ...args) => {
        this.#log(`[${name}] ${level}: ${args.map(String).join(' ')}`);
      },
    });
    const started = Date.now();
    const response = (await matched.definition.handler(request, context)) as HttpResponseInit;
    await writeResponse(res, response);
    this.#log(`${method} ${url.pathname} -> ${String(response.status ?? 200)} (${Date.now() - started} ms)`);
    return true;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    // The handlers enforce their own, smaller limits; this only keeps a runaway client out.
    if (size > MAX_BODY_BYTES) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function writeResponse(res: ServerResponse, response: HttpResponseInit): Promise<void> {
  const headers = new Headers(response.headers);
  let body: Buffer;
  if (response.jsonBody !== undefined) {
    body = Buffer.from(JSON.stringify(response.jsonBody), 'utf8');
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (typeof response.body === 'string') {
    body = Buffer.from(response.body, 'utf8');
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
  } else if (response.body instanceof Uint8Array) {
    body = Buffer.from(response.body);
  } else if (response.body === undefined || response.body === null) {
    body = Buffer.alloc(0);
  } else {
    body = Buffer.from(
      await new Response(response.body as ConstructorParameters<typeof Response>[0]).arrayBuffer(),
    );
  }
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status ?? 200, { ...out, 'content-length': String(body.length) });
  res.end(body);
}
