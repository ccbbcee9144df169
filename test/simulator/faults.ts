import { GraphHttpError } from './graph-errors.js';

/**
 * Injected failures: the next N requests matching a method and path pattern get 429, 503 or 504 with a
 * Retry-After header (seconds, possibly fractional like the 2.128 in concepts/throttling.md), answered
 * before authentication as a gateway would.
 */

export type FaultStatus = 429 | 503 | 504;

export interface FaultRule {
  readonly status: FaultStatus;
  /** How many matching requests fail. Default 1. */
  readonly count?: number;
  /** HTTP method to match (any when absent). */
  readonly method?: string;
  /**
   * Path to match: a RegExp, or a string where '*' matches any run of characters. Compared with the raw
   * path and with the normalised endpoint path ('/v1.0/groups/{id}/members'). Default: every Graph path.
   */
  readonly path?: string | RegExp;
  /** Retry-After in seconds; null sends no Retry-After. Default 1. */
  readonly retryAfter?: number | null;
}

export interface ActiveFault {
  readonly id: number;
  readonly status: FaultStatus;
  readonly method: string | undefined;
  readonly path: string;
  readonly retryAfter: number | null;
  remaining: number;
  hits: number;
}

function toRegExp(pattern: string | RegExp | undefined): RegExp {
  if (pattern === undefined) return /^\/v1\.0\//;
  if (pattern instanceof RegExp) return pattern;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

export class FaultInjector {
  private nextId = 1;
  private readonly faults: (ActiveFault & { readonly pattern: RegExp })[] = [];

  /** Adds a rule; returns its id. Rules are tried in the order added. */
  add(rule: FaultRule): number {
    const count = rule.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError('A fault needs a count of at least 1');
    const retryAfter = rule.retryAfter === undefined ? 1 : rule.retryAfter;
    if (retryAfter !== null && !(retryAfter >= 0))
      throw new RangeError('Retry-After must be zero or more seconds');
    const id = this.nextId++;
    this.faults.push({
      id,
      status: rule.status,
      method: rule.method?.toUpperCase(),
      path: rule.path === undefined ? '/v1.0/*' : String(rule.path),
      pattern: toRegExp(rule.path),
      retryAfter,
      remaining: count,
      hits: 0,
    });
    return id;
  }

  remove(id: number): boolean {
    const index = this.faults.findIndex((f) => f.id === id);
    if (index < 0) return false;
    this.faults.splice(index, 1);
    return true;
  }

  clear(): void {
    this.faults.length = 0;
  }

  list(): ActiveFault[] {
    return this.faults.map(({ pattern: _pattern, ...fault }) => ({ ...fault }));
  }

  /** The error for this request if a rule matches (using up one of its count), else undefined. */
  take(method: string, rawPath: string, endpointPath: string): GraphHttpError | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.pattern.test(rawPath) || f.pattern.test(endpointPath)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    fault.hits += 1;
    return faultError(fault.status, fault.retryAfter);
  }
}

export function faultError(status: FaultStatus, retryAfter: number | null): GraphHttpError {
  const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': String(retryAfter) };
  if (status === 429) {
    return new GraphHttpError(429, 'TooManyRequests', 'Please retry again later.', {
      headers,
      inner: { code: '429', message: 'Please retry after', status: '429' },
    });
  }
  if (status === 503) {
    return new GraphHttpError(
      503,
      'serviceNotAvailable',
      'The service is temporarily unavailable. Please retry later.',
      {
        headers,
        inner: { code: '503', status: '503' },
      },
    );
  }
  return new GraphHttpError(504, 'UnknownError', 'The gateway did not receive a timely response.', {
    headers,
    inner: { code: '504', status: '504' },
  });
}
