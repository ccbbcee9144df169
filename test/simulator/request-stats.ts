/**
 * Request counts by endpoint, with ids normalised ('GET /v1.0/groups/{id}/members'), so a test can
 * assert how many calls a sync made and of which kind.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The endpoint of a path: Graph ids and user principal names become {id}, a login tenant {tenant}. */
export function normaliseEndpoint(method: string, segments: readonly string[]): string {
  if (segments[0] === 'v1.0' || segments[0] === 'beta') {
    const parts = segments.map((segment, i) => {
      if (GUID.test(segment)) return '{id}';
      if (i === 2 && segments[1] === 'users' && segment.includes('@')) return '{id}';
      return segment;
    });
    return `${method} /${parts.join('/')}`;
  }
  if (segments.length === 0) return `${method} /`;
  return `${method} /{tenant}/${segments.slice(1).join('/')}`;
}

export interface RequestCountSnapshot {
  /** HTTP requests (a $batch is one). */
  readonly total: number;
  readonly byEndpoint: Readonly<Record<string, number>>;
  /** The individual requests carried inside $batch requests, counted apart from the HTTP requests. */
  readonly batched: { readonly total: number; readonly byEndpoint: Readonly<Record<string, number>> };
}

function sorted(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();
  private totalCount = 0;
  private readonly batchedCounts = new Map<string, number>();
  private batchedTotal = 0;

  record(endpoint: string): void {
    this.totalCount += 1;
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
  }

  /** An individual request inside a $batch ('GET /v1.0/groups/{id}/members'). */
  recordBatched(endpoint: string): void {
    this.batchedTotal += 1;
    this.batchedCounts.set(endpoint, (this.batchedCounts.get(endpoint) ?? 0) + 1);
  }

  get total(): number {
    return this.totalCount;
  }

  /** HTTP requests to one endpoint, for example count('GET /v1.0/users/delta'). */
  count(endpoint: string): number {
    return this.counts.get(endpoint) ?? 0;
  }

  /** Individual requests to one endpoint made inside $batch requests. */
  countBatched(endpoint: string): number {
    return this.batchedCounts.get(endpoint) ?? 0;
  }

  snapshot(): RequestCountSnapshot {
    return {
      total: this.totalCount,
      byEndpoint: sorted(this.counts),
      batched: { total: this.batchedTotal, byEndpoint: sorted(this.batchedCounts) },
    };
  }

  reset(): void {
    this.counts.clear();
    this.totalCount = 0;
    this.batchedCounts.clear();
    this.batchedTotal = 0;
  }
}
