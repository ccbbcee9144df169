import { setTimeout as sleepFor } from 'node:timers/promises';
import type { AccessToken, TokenCredential } from '@azure/identity';
import {
  GraphClientError,
  type AuthenticationProvider,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import { RETRYABLE_STATUSES, type RetryBudget, type RetryDecision } from './retry.js';

/**
 * The Graph client's middleware chain after the SDK's AuthenticationHandler:
 * RetryMiddleware (bounded retry budget) -> HttpSender (fetch, counting, timeout).
 * Per-reader state (budget, counters) rides on each request as a RequestScope middleware option, so
 * that one client serves many readers, each with its own budget.
 */

/** Counts of Graph requests, for run reports. Every attempt counts, retries included. */
export interface GraphRequestCounts {
  /** HTTP requests: a $batch is one. */
  readonly total: number;
  /** By endpoint kind: 'GET /users/delta', 'GET /groups/{id}/members', 'POST /$batch', ... */
  readonly byKind: Readonly<Record<string, number>>;
  /** The individual requests carried inside $batch requests (each attempt), by endpoint kind. */
  readonly batched: { readonly total: number; readonly byKind: Readonly<Record<string, number>> };
  readonly retries: number;
  /** 429/503/504 responses seen (retried or not). */
  readonly throttledResponses: number;
  /** Time spent waiting before retries. */
  readonly waitedMs: number;
}

export class GraphRequestStats {
  private total = 0;
  private readonly byKind = new Map<string, number>();
  private batchedTotal = 0;
  private readonly batchedByKind = new Map<string, number>();
  private retries = 0;
  private throttledResponses = 0;
  private waitedMs = 0;

  recordRequest(kind: string): void {
    this.total += 1;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
  }

  /** An individual request sent inside a $batch. */
  recordBatched(kind: string): void {
    this.batchedTotal += 1;
    this.batchedByKind.set(kind, (this.batchedByKind.get(kind) ?? 0) + 1);
  }

  recordThrottled(): void {
    this.throttledResponses += 1;
  }

  recordRetry(delayMs: number): void {
    this.retries += 1;
    this.waitedMs += delayMs;
  }

  snapshot(): GraphRequestCounts {
    return {
      total: this.total,
      byKind: Object.fromEntries(this.byKind),
      batched: { total: this.batchedTotal, byKind: Object.fromEntries(this.batchedByKind) },
      retries: this.retries,
      throttledResponses: this.throttledResponses,
      waitedMs: this.waitedMs,
    };
  }
}

/** One request's view of its reader: the budget and counters to use, and why retrying stopped. */
export class RequestScope implements MiddlewareOptions {
  /** Set by RetryMiddleware when it gives up on a retryable response. */
  stop: Extract<RetryDecision, { retry: false }> | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    readonly budget: RetryBudget,
    readonly stats: GraphRequestStats,
    /** The caller's abort signal, if any. */
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Runs when the caller has read the response (finish), not when its headers arrive. */
  onFinish(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  finish(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  static of(context: Context): RequestScope | undefined {
    const option = context.middlewareControl?.getMiddlewareOptions(RequestScope);
    return option instanceof RequestScope ? option : undefined;
  }
}

/**
 * The SDK converts whatever a middleware throws into a GraphError that keeps only its message, except
 * a GraphClientError, which GraphRequest.send rethrows as is. So the original travels as customError
 * and mapGraphError unwraps it.
 */
export function wrapForSdk(error: unknown, message: string): GraphClientError {
  const wrapped = new GraphClientError(message);
  wrapped.customError = error;
  return wrapped;
}

const COLLECTIONS = new Set(['users', 'groups', 'directoryObjects', 'servicePrincipals', 'devices']);

/** Endpoint kind for counting: ids replaced by {id}, query dropped. 'GET /groups/{id}/members'. */
export function endpointKind(method: string, url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split('?')[0] ?? url;
  }
  const segments = path.split('/').filter((s) => s !== '');
  // Drop the version segment (v1.0, beta).
  if (segments[0] !== undefined && /^(v\d+(\.\d+)?|beta)$/i.test(segments[0])) segments.shift();
  const out = segments.map((segment, index) => {
    // /users('$name@contoso.com'): key-as-parenthesis addressing.
    const keyed = /^([A-Za-z]+)\(.*\)$/.exec(segment);
    if (keyed) return `${keyed[1] ?? ''}({id})`;
    const previous = segments[index - 1];
    const afterCollection = previous !== undefined && COLLECTIONS.has(previous);
    const keyword = segment === 'delta' || segment.startsWith('$') || segment.startsWith('microsoft.graph.');
    return afterCollection && !keyword ? '{id}' : segment;
  });
  return `${method.toUpperCase()} /${out.join('/')}`;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleepFor(ms, undefined, signal ? { signal } : undefined);
  },
};

/** Retries 429/503/504 within the reader's budget; gives the last response back when it stops. */
export class RetryMiddleware implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly fallbackBudget: () => RetryBudget,
    private readonly clock: Clock = systemClock,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.next;
    if (!next) throw new Error('RetryMiddleware needs a next middleware');
    const scope = RequestScope.of(context);
    const budget = scope?.budget ?? this.fallbackBudget();
    for (let retries = 0; ; retries++) {
      await next.execute(context);
      const response = context.response;
      if (!response || !RETRYABLE_STATUSES.has(response.status)) return;
      scope?.stats.recordThrottled();
      const decision = budget.decide(
        response.status,
        response.headers.get('retry-after'),
        retries,
        this.clock.now(),
      );
      if (!decision.retry) {
        if (scope) scope.stop = decision;
        return;
      }
      // Reserve before awaiting, so that concurrent requests cannot overspend the budget together.
      budget.spend(decision.delayMs);
      scope?.stats.recordRetry(decision.delayMs);
      // Free the connection: the throttled body is not needed.
      await response.body?.cancel().catch(() => undefined);
      try {
        await this.clock.sleep(decision.delayMs, scope?.signal);
      } catch (error) {
        // Aborted while waiting: let the AbortError through the SDK unchanged.
        throw wrapForSdk(error, 'Waiting to retry was aborted');
      }
    }
  }
}

export type FetchLike = (url: string, init: Record<string, unknown>) => Promise<Response>;

export interface Transport {
  readonly fetch: FetchLike;
  /** An undici dispatcher that trusts the given CA, when one was given. */
  readonly dispatcher?: unknown;
}

/** The last middleware: sends the request, counts it, bounds it in time. */
export class HttpSender implements Middleware {
  constructor(
    private readonly transport: () => Promise<Transport>,
    private readonly timeoutMs: number,
  ) {}

  async execute(context: Context): Promise<void> {
    // Context.request is typed with the DOM's RequestInfo, which this Node project does not load.
    const request: unknown = context.request;
    const url = typeof request === 'string' ? request : (request as { url: string }).url;
    const options: Record<string, unknown> = { ...(context.options as Record<string, unknown> | undefined) };
    const method = typeof options.method === 'string' ? options.method : 'GET';
    const scope = RequestScope.of(context);
    scope?.stats.recordRequest(endpointKind(method, url));
    const transport = await this.transport();

    // A per-attempt time limit that also covers reading the body, and the caller's abort. Built by
    // hand and released when the reader is done: AbortSignal.timeout() would keep each request's fetch
    // state reachable for the whole timeout, which showed as old-heap growth over a long read.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`No answer within ${this.timeoutMs} ms`, 'TimeoutError'));
    }, this.timeoutMs);
    timer.unref();
    const callerSignal = scope?.signal;
    const onCallerAbort = (): void => {
      controller.abort(callerSignal?.reason);
    };
    if (callerSignal?.aborted) onCallerAbort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = (): void => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    try {
      context.response = await transport.fetch(url, {
        ...options,
        signal: controller.signal,
        ...(transport.dispatcher === undefined ? {} : { dispatcher: transport.dispatcher }),
      });
    } catch (error) {
      release();
      // Network, TLS, timeout and abort failures: unexpected, and rethrown unchanged by mapGraphError.
      throw wrapForSdk(error, `${method} ${endpointKind(method, url)} failed before any response`);
    }
    // Without a scope (the SDK used directly) nobody says when the body was read: stop at the headers.
    if (scope) scope.onFinish(release);
    else release();
  }
}

/**
 * Gets app-only tokens for one scope from the injected credential, and keeps the current one until
 * shortly before it expires (or the credential's refresh hint), as the Azure SDK's bearer-token policy
 * does: asking the credential on every request costs a token-cache lookup each time. Concurrent
 * requests share one refresh.
 */
export class CredentialAuthProvider implements AuthenticationProvider {
  private token: AccessToken | undefined;
  private refreshing: Promise<AccessToken> | undefined;

  constructor(
    private readonly credential: TokenCredential,
    private readonly scope: string,
    private readonly now: () => number = Date.now,
    /** Refresh this long before expiry. */
    private readonly refreshMarginMs = 5 * 60_000,
  ) {}

  async getAccessToken(): Promise<string> {
    const current = this.token;
    if (current && this.now() < this.refreshAt(current)) return current.token;
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = undefined;
    });
    try {
      this.token = await this.refreshing;
    } catch (error) {
      this.token = undefined;
      throw wrapForSdk(error, 'Getting a token for Microsoft Graph failed');
    }
    return this.token.token;
  }

  private refreshAt(token: AccessToken): number {
    const byExpiry = token.expiresOnTimestamp - this.refreshMarginMs;
    return token.refreshAfterTimestamp === undefined
      ? byExpiry
      : Math.min(byExpiry, token.refreshAfterTimestamp);
  }

  private async fetchToken(): Promise<AccessToken> {
    const token = await this.credential.getToken(this.scope);
    if (!token) throw new Error('The credential returned no token');
    return token;
  }
}
