import { randomUUID } from 'node:crypto';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { batchUrlOf, MAX_BATCH_REQUESTS, parseBatchAnswer, type BatchRequestItem } from './batch.js';
import type { GraphClient } from './client.js';
import {
  DeltaStateLostError,
  GraphNotFoundError,
  GraphRequestError,
  graphHttpFailure,
  headerValue,
  mapGraphError,
  type GraphErrorContext,
} from './errors.js';
import { endpointKind, GraphRequestStats, RequestScope, type GraphRequestCounts } from './middleware.js';
import {
  parseCount,
  parseEnvelope,
  parseGroupDeltaPage,
  parseGroupPage,
  parseMemberPage,
  parseUserDeltaPage,
  parseUserPage,
  type DeltaPage,
  type GraphMember,
  type GraphPage,
  type GroupDeltaItem,
  type UserDeltaItem,
} from './pages.js';
import { RETRYABLE_STATUSES, RetryBudget, type RetryBudgetOptions } from './retry.js';
import {
  groupSchema,
  organizationSchema,
  userSchema,
  type GraphGroup,
  type GraphOrganization,
  type GraphUser,
} from './schemas.js';

export interface GraphReaderOptions {
  /** This reader's retry budget; defaults to the client's. */
  readonly retry?: RetryBudgetOptions;
  /** $top for list endpoints. Default 999, the largest /users and /groups accept. */
  readonly pageSize?: number;
}

export interface ReadOptions {
  readonly abortSignal?: AbortSignal;
}

export interface ListOptions extends ReadOptions {
  /** Properties to read; id is always added. Keep it tight: every property costs bytes on every page. */
  readonly select?: readonly string[];
  /** An OData $filter, passed as given. */
  readonly filter?: string;
  /** Overrides the reader's page size. */
  readonly top?: number;
  /** Ask for @odata.count (sends ConsistencyLevel: eventual, which advanced queries need). */
  readonly count?: boolean;
  /**
   * Carry on from a page's @odata.nextLink, as given, instead of starting over: a listing spread over
   * several executions (the queue-driven import). select, filter and top then come from the link.
   */
  readonly continueFrom?: string;
  /**
   * Ask for the next page as soon as this one has arrived, before it is checked and handed out, so
   * that Graph's latency hides behind what the caller does with the page. Holds one page more.
   */
  readonly readAhead?: boolean;
}

export interface DeltaOptions extends ReadOptions {
  /** Resume from this stored deltaLink; omit for an initial round. select and filter then come from it. */
  readonly deltaLink?: string;
  /** Properties to track on the initial round; id is always added. */
  readonly select?: readonly string[];
  /** `Prefer: return=minimal`: changed objects carry only their changed properties. */
  readonly preferMinimal?: boolean;
}

export interface GroupsDeltaOptions extends DeltaOptions {
  /** Track membership (members@delta). Default true. */
  readonly includeMembers?: boolean;
}

export interface MembersOptions extends ReadOptions {
  readonly select?: readonly string[];
  readonly top?: number;
  /** /transitiveMembers instead of /members. */
  readonly transitive?: boolean;
}

export interface ManyMembersOptions extends MembersOptions {
  /** $batch requests in flight at once. Default 2. */
  readonly concurrency?: number;
}

/** A page of one group's members, read with many others. */
export interface GroupMembersPage extends GraphPage<GraphMember> {
  readonly groupId: string;
}

export interface GetOptions extends ReadOptions {
  readonly select?: readonly string[];
}

export type DeltaResource = 'users' | 'groups';

interface SendOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal | undefined;
  readonly as: 'json' | 'text';
  /** A JSON body to POST ($batch only: the reader never writes). */
  readonly post?: unknown;
}

/** One member request of membersOfGroups: where it stands and when it may go (again). */
interface MemberStep {
  readonly groupId: string;
  /** Relative to the version root, as a batch carries it. */
  url: string;
  /** The absolute link this step came from, to spot a nextLink that repeats. */
  link: string | undefined;
  retries: number;
  notBefore: number;
}

/** The Response-like object fetch gives (global or undici's: both have these). */
interface RawResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

function asResponse(value: unknown): RawResponse {
  const candidate = value as Partial<RawResponse> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.status !== 'number' ||
    typeof candidate.text !== 'function'
  ) {
    throw new GraphRequestError('The Graph client returned no HTTP response.');
  }
  return candidate as RawResponse;
}

function selectWithId(select: readonly string[] | undefined): string | undefined {
  if (select === undefined || select.length === 0) return undefined;
  const fields = select.includes('id') ? [...select] : ['id', ...select];
  return fields.join(',');
}

/** Query string with literal $-names and encoded values; Graph accepts both %24 and $ names. */
function query(params: Readonly<Record<string, string | number | undefined>>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${name}=${encodeURIComponent(String(value)).replace(/%2C/gi, ',')}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * Reads users and groups from Microsoft Graph, page by page. Every list and delta method is an async
 * iterator of pages (nothing is held beyond one page); each page carries its parsed items and the
 * items it rejected. Errors come out typed (see errors.ts); an expired or reset delta state is a
 * DeltaStateLostError, on which the engine falls back to a full read.
 *
 * Build one reader per run: its retry budget and request counts are the run's.
 */
export class GraphReader {
  private readonly budget: RetryBudget;
  private readonly stats = new GraphRequestStats();
  private readonly pageSize: number;
  private readonly context: GraphErrorContext;

  constructor(
    private readonly client: GraphClient,
    options: GraphReaderOptions = {},
  ) {
    this.budget = new RetryBudget({ ...client.retryDefaults, ...options.retry });
    this.pageSize = options.pageSize ?? 999;
    this.context = client.errorContext;
  }

  /** Graph requests made by this reader so far, by endpoint kind, retries included. */
  get requests(): GraphRequestCounts {
    return this.stats.snapshot();
  }

  /** Time this reader has waited on retries, and what is left of its budget. */
  get retryBudget(): {
    readonly waitedMs: number;
    readonly remainingMs: number;
    readonly maxTotalWaitMs: number;
  } {
    return {
      waitedMs: this.budget.waitedMs,
      remainingMs: this.budget.remainingMs,
      maxTotalWaitMs: this.budget.maxTotalWaitMs,
    };
  }

  /** GET /users, $top=999 by default. */
  listUsers(options: ListOptions = {}): AsyncIterableIterator<GraphPage<GraphUser>> {
    return this.list('/users', options, parseUserPage);
  }

  /** GET /groups, with an optional $filter. */
  listGroups(options: ListOptions = {}): AsyncIterableIterator<GraphPage<GraphGroup>> {
    return this.list('/groups', options, parseGroupPage);
  }

  /** GET /groups/{id}/members (or /transitiveMembers). */
  listGroupMembers(
    groupId: string,
    options: MembersOptions = {},
  ): AsyncIterableIterator<GraphPage<GraphMember>> {
    const relation = options.transitive === true ? 'transitiveMembers' : 'members';
    const path = `/groups/${encodeURIComponent(groupId)}/${relation}`;
    return this.list(path, { ...options, filter: undefined, count: false }, parseMemberPage);
  }

  /**
   * The members of many groups, read through JSON batching: up to 20 member requests (first pages and
   * nextLinks alike) travel in one POST /$batch, with `concurrency` batches in flight. Pages come as
   * they are answered, each with its group id; a group's pages come in order. A request throttled
   * inside a batch (429, 503, 504 with its own Retry-After) goes again in a later batch, within this
   * reader's retry budget; any other failure of one request fails the read with its typed error.
   * Requests are counted as HTTP requests (`POST /$batch`) and, apart, as batched requests.
   * https://learn.microsoft.com/graph/json-batching
   */
  async *membersOfGroups(
    groupIds: Iterable<string>,
    options: ManyMembersOptions = {},
  ): AsyncIterableIterator<GroupMembersPage> {
    const relation = options.transitive === true ? 'transitiveMembers' : 'members';
    const operation = `GET /groups/{id}/${relation}`;
    const first = query({ $select: selectWithId(options.select), $top: options.top ?? this.pageSize });
    const waiting: MemberStep[] = [...new Set(groupIds)].map((groupId) => ({
      groupId,
      url: `/groups/${encodeURIComponent(groupId)}/${relation}${first}`,
      link: undefined,
      retries: 0,
      notBefore: 0,
    }));
    // nextLinks a batch cannot carry (not under /v1.0): followed one by one at the end.
    const apart: { groupId: string; link: string }[] = [];
    const concurrency = Math.max(1, options.concurrency ?? 2);
    type Sent = { key: number; steps: MemberStep[]; body: unknown };
    const inFlight = new Map<number, Promise<Sent>>();
    let nextKey = 0;

    while (waiting.length > 0 || inFlight.size > 0) {
      const now = this.client.clock.now();
      // A batch goes when it is full, or when nothing is in flight that could still fill it: as few
      // HTTP requests as the reading allows, without waiting on anything.
      while (
        inFlight.size < concurrency &&
        (inFlight.size === 0 || countReady(waiting, now) >= MAX_BATCH_REQUESTS)
      ) {
        const steps = takeReady(waiting, now, MAX_BATCH_REQUESTS);
        if (steps.length === 0) break;
        const key = nextKey++;
        const sent = this.sendBatch(steps, operation, options.abortSignal).then((body) => ({
          key,
          steps,
          body,
        }));
        // Seen when raced below; until then a failure must not count as unhandled.
        sent.catch(() => undefined);
        inFlight.set(key, sent);
      }
      if (inFlight.size === 0) {
        // Everything left waits on a Retry-After.
        const earliest = Math.min(...waiting.map((step) => step.notBefore));
        await this.client.clock.sleep(Math.max(0, earliest - now), options.abortSignal);
        continue;
      }
      const { key, steps, body } = await Promise.race(inFlight.values());
      inFlight.delete(key);
      const answers = parseBatchAnswer(
        body,
        steps.map((_, index) => String(index + 1)),
      );
      const pages: GroupMembersPage[] = [];
      for (const [index, step] of steps.entries()) {
        const answer = answers.get(String(index + 1));
        if (!answer) continue;
        if (answer.status >= 200 && answer.status < 300) {
          const page = parseMemberPage(answer.body, operation);
          pages.push({ ...page, groupId: step.groupId });
          if (page.nextLink === undefined) continue;
          const link = this.nextUrl(step.link ?? '', page.nextLink, operation) as string;
          const url = batchUrlOf(link, this.client.cloud.graphBaseUrl);
          if (url === undefined) apart.push({ groupId: step.groupId, link });
          else waiting.push({ groupId: step.groupId, url, link, retries: 0, notBefore: 0 });
          continue;
        }
        this.retryOrThrow(step, answer, operation);
        waiting.push(step);
      }
      yield* pages;
    }

    for (const { groupId, link } of apart) {
      for await (const page of this.list(
        `/groups/{id}/${relation}`,
        { continueFrom: link },
        parseMemberPage,
      )) {
        yield { ...page, groupId };
      }
    }
  }

  /**
   * One request of a batch that did not succeed: throttled ones wait their Retry-After within the
   * budget (the step is then sent again); anything else throws its typed error.
   */
  private retryOrThrow(
    step: MemberStep,
    answer: { status: number; headers: Readonly<Record<string, string>>; body: unknown },
    operation: string,
  ): void {
    const failure = graphHttpFailure(answer.status, answer.headers, answer.body, operation);
    if (!RETRYABLE_STATUSES.has(answer.status)) {
      throw mapGraphError(failure, {
        ...this.context,
        permissions: withPermissionFor(operation, this.context.permissions),
      });
    }
    this.stats.recordThrottled();
    const now = this.client.clock.now();
    const decision = this.budget.decide(
      answer.status,
      headerValue(answer.headers, 'retry-after'),
      step.retries,
      now,
    );
    if (!decision.retry) {
      throw mapGraphError(failure, {
        ...this.context,
        retryStop: decision.reason === 'not_retryable' ? undefined : decision.reason,
        fallbackRetryAfterMs: decision.suggestedWaitMs,
      });
    }
    // Reserved now, so that requests throttled together cannot overspend the budget.
    this.budget.spend(decision.delayMs);
    this.stats.recordRetry(decision.delayMs);
    step.retries += 1;
    step.notBefore = now + decision.delayMs;
  }

  /** POSTs one batch of member requests and returns its parsed body. */
  private async sendBatch(steps: readonly MemberStep[], operation: string, signal: AbortSignal | undefined) {
    const requests: BatchRequestItem[] = steps.map((step, index) => ({
      id: String(index + 1),
      method: 'GET',
      url: step.url,
    }));
    for (let i = 0; i < requests.length; i++) this.stats.recordBatched(operation);
    return await this.send('/$batch', { signal, as: 'json', post: { requests } });
  }

  /**
   * One round of /users/delta: initial (no deltaLink) or from a stored deltaLink. The last page
   * carries the new deltaLink. $top is not supported on user and group delta; Graph sizes the pages.
   * https://learn.microsoft.com/graph/delta-query-overview (Optional query parameters)
   */
  usersDelta(options: DeltaOptions = {}): AsyncIterableIterator<DeltaPage<UserDeltaItem>> {
    const first = options.deltaLink ?? `/users/delta${query({ $select: selectWithId(options.select) })}`;
    return this.delta(first, options, parseUserDeltaPage);
  }

  /**
   * One round of /groups/delta with members@delta. A large group's members arrive on several pages
   * under the same group id; each page is yielded as it comes, never buffered.
   */
  groupsDelta(options: GroupsDeltaOptions = {}): AsyncIterableIterator<DeltaPage<GroupDeltaItem>> {
    const first =
      options.deltaLink ??
      `/groups/delta${query({ $select: groupDeltaSelect(options.select, options.includeMembers) })}`;
    return this.delta(first, options, parseGroupDeltaPage);
  }

  /**
   * The current deltaLink without reading any object ("sync from now": $deltatoken=latest), for the
   * full-read strategy: take it first, read the lists, then store it.
   * https://learn.microsoft.com/graph/delta-query-overview (the note on $deltaToken=latest)
   */
  async latestDeltaLink(
    resource: DeltaResource,
    options: { readonly select?: readonly string[]; readonly includeMembers?: boolean } & ReadOptions = {},
  ): Promise<string> {
    const select =
      resource === 'users'
        ? selectWithId(options.select)
        : groupDeltaSelect(options.select, options.includeMembers);
    let url: string | undefined = `/${resource}/delta${query({ $deltatoken: 'latest', $select: select })}`;
    while (url !== undefined) {
      const body = await this.send(url, { signal: options.abortSignal, as: 'json' });
      const envelope = parseEnvelope(body, `GET /${resource}/delta`);
      const deltaLink = envelope['@odata.deltaLink'];
      if (deltaLink !== undefined) return deltaLink;
      url = this.nextUrl(url, envelope['@odata.nextLink'], `GET /${resource}/delta`);
    }
    throw new GraphRequestError(`Graph ended /${resource}/delta?$deltatoken=latest without a deltaLink.`, {
      nextStep: 'Retry; if it persists, use the delta strategy instead.',
    });
  }

  /** GET /users/{id | userPrincipalName}. */
  async getUser(idOrUserPrincipalName: string, options: GetOptions = {}): Promise<GraphUser> {
    // A userPrincipalName that begins with $ must be addressed as /users('$...'). (user-get page)
    const key = idOrUserPrincipalName.startsWith('$')
      ? `('${encodeURIComponent(idOrUserPrincipalName.replace(/'/g, "''"))}')`
      : `/${encodeURIComponent(idOrUserPrincipalName)}`;
    const body = await this.send(`/users${key}${query({ $select: selectWithId(options.select) })}`, {
      signal: options.abortSignal,
      as: 'json',
    });
    return this.single(userSchema, body, 'GET /users/{id}');
  }

  /** GET /groups/{id}. */
  async getGroup(groupId: string, options: GetOptions = {}): Promise<GraphGroup> {
    const path = `/groups/${encodeURIComponent(groupId)}${query({ $select: selectWithId(options.select) })}`;
    const body = await this.send(path, { signal: options.abortSignal, as: 'json' });
    return this.single(groupSchema, body, 'GET /groups/{id}');
  }

  /**
   * GET /organization: the tenant's own record (id, displayName, verifiedDomains). Needs the
   * Organization.Read.All application permission, beyond what reading users and groups needs.
   */
  async getOrganization(options: GetOptions = {}): Promise<GraphOrganization> {
    const select = selectWithId(options.select ?? ['displayName', 'verifiedDomains', 'tenantType']);
    const body = await this.send(`/organization${query({ $select: select })}`, {
      signal: options.abortSignal,
      as: 'json',
    });
    const envelope = parseEnvelope(body, 'GET /organization');
    const first = envelope.value[0];
    if (first === undefined) {
      throw new GraphNotFoundError('Graph returned no organization for this tenant.', {
        nextStep: 'Check the tenant id of the connection.',
      });
    }
    return this.single(organizationSchema, first, 'GET /organization');
  }

  /** GET /users/$count (text/plain), with an optional $filter. */
  async countUsers(options: { readonly filter?: string } & ReadOptions = {}): Promise<number> {
    return await this.count('/users/$count', options);
  }

  /** GET /groups/$count (text/plain), with an optional $filter. */
  async countGroups(options: { readonly filter?: string } & ReadOptions = {}): Promise<number> {
    return await this.count('/groups/$count', options);
  }

  // -------------------------------------------------------------------------------------------------

  private async count(path: string, options: { readonly filter?: string } & ReadOptions): Promise<number> {
    // $count needs the advanced-query header. https://learn.microsoft.com/graph/aad-advanced-queries
    const body = await this.send(`${path}${query({ $filter: options.filter })}`, {
      headers: { ConsistencyLevel: 'eventual' },
      signal: options.abortSignal,
      as: 'text',
    });
    return parseCount(body, `GET ${path}`);
  }

  private single<T>(
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
    body: unknown,
    operation: string,
  ): T {
    // A single entity carries @odata.context beside its properties; it is response metadata, not data.
    let object = body;
    if (typeof body === 'object' && body !== null && '@odata.context' in body) {
      const { '@odata.context': _context, ...rest } = body as Record<string, unknown>;
      object = rest;
    }
    const parsed = schema.safeParse(object);
    if (!parsed.success) {
      throw new GraphRequestError(`Graph sent an object that does not fit (${operation}).`, {
        nextStep: 'Retry; if it persists, report it with the request-id of the request.',
      });
    }
    return parsed.data;
  }

  private async *list<T>(
    path: string,
    options: ListOptions,
    parse: (body: unknown, operation: string) => GraphPage<T>,
  ): AsyncIterableIterator<GraphPage<T>> {
    const operation = endpointKind('GET', path);
    const headers: Record<string, string> = options.count === true ? { ConsistencyLevel: 'eventual' } : {};
    if (options.continueFrom !== undefined) this.checkStoredDeltaLink(options.continueFrom);
    let url: string | undefined =
      options.continueFrom ??
      path +
        query({
          $select: selectWithId(options.select),
          $filter: options.filter,
          $top: options.top ?? this.pageSize,
          $count: options.count === true ? 'true' : undefined,
        });
    const request = { headers, signal: options.abortSignal };
    if (options.readAhead === true) {
      yield* this.listAhead(url, request, operation, parse);
      return;
    }
    while (url !== undefined) url = yield* this.step(url, request, operation, parse, false);
  }

  /** list() with the next request in flight while a page is parsed and used. */
  private async *listAhead<T>(
    first: string,
    request: { readonly headers: Readonly<Record<string, string>>; readonly signal: AbortSignal | undefined },
    operation: string,
    parse: (body: unknown, operation: string) => GraphPage<T>,
  ): AsyncIterableIterator<GraphPage<T>> {
    let url: string | undefined = first;
    let pending: Promise<unknown> | undefined = this.send(first, { ...request, as: 'json' });
    while (pending !== undefined && url !== undefined) {
      const body: unknown = await pending;
      // The link as sent: parse() below reads the same member, and checks it.
      const raw =
        typeof body === 'object' && body !== null
          ? (body as Record<string, unknown>)['@odata.nextLink']
          : undefined;
      const next: string | undefined =
        typeof raw === 'string' ? this.nextUrl(url, raw, operation) : undefined;
      pending = next === undefined ? undefined : this.send(next, { ...request, as: 'json' });
      // Seen when awaited on the next turn; a caller that stops early must not leave it unhandled.
      pending?.catch(() => undefined);
      url = next;
      yield parse(body, operation);
    }
  }

  private async *delta<T>(
    first: string,
    options: DeltaOptions,
    parse: (body: unknown, operation: string) => DeltaPage<T>,
  ): AsyncIterableIterator<DeltaPage<T>> {
    if (options.deltaLink !== undefined) this.checkStoredDeltaLink(options.deltaLink);
    const operation = endpointKind('GET', first.startsWith('/') ? first : new URL(first).pathname);
    // The Prefer header goes on every request of the round, deltaLink and nextLinks included.
    const headers: Record<string, string> =
      options.preferMinimal === true ? { Prefer: 'return=minimal' } : {};
    let url: string | undefined = first;
    const request = { headers, signal: options.abortSignal };
    while (url !== undefined) url = yield* this.step(url, request, operation, parse, true);
  }

  /**
   * One page: fetch, parse, yield, and return the URL of the next page (undefined at the end). Only the
   * links outlive the yield, so that a page is garbage as soon as its consumer is done with it, before
   * the next request is even sent; holding it across that wait had it promoted to the old heap.
   */
  private async *step<P extends GraphPage<unknown> & { readonly deltaLink?: string | undefined }>(
    url: string,
    request: { readonly headers: Readonly<Record<string, string>>; readonly signal: AbortSignal | undefined },
    operation: string,
    parse: (body: unknown, operation: string) => P,
    delta: boolean,
  ): AsyncGenerator<P, string | undefined> {
    const page = parse(await this.send(url, { ...request, as: 'json' }), operation);
    const { nextLink, deltaLink } = page;
    yield page;
    if (!delta) return this.nextUrl(url, nextLink, operation);
    if (deltaLink !== undefined) return undefined;
    if (nextLink === undefined) {
      throw new GraphRequestError(
        `Graph ended a delta round without a nextLink or a deltaLink (${operation}).`,
        {
          nextStep: 'Do not store any deltaLink from this round; run again.',
        },
      );
    }
    return this.nextUrl(url, nextLink, operation);
  }

  /** Follows @odata.nextLink as given (absolute), but only to a Graph host we send tokens to. */
  private nextUrl(current: string, nextLink: string | undefined, operation: string): string | undefined {
    if (nextLink === undefined) return undefined;
    if (nextLink === current) {
      throw new GraphRequestError(
        `Graph returned the same nextLink again (${operation}); stopping to avoid a loop.`,
        {
          nextStep: 'Run again; if it persists, report it.',
        },
      );
    }
    let url: URL;
    try {
      url = new URL(nextLink);
    } catch {
      throw new GraphRequestError(`Graph returned a nextLink that is not an absolute URL (${operation}).`);
    }
    if (url.protocol !== 'https:' || !this.client.graphHosts.has(url.hostname.toLowerCase())) {
      throw new GraphRequestError(
        `Graph returned a nextLink to an unexpected host ${url.host} (${operation}).`,
        {
          nextStep: 'If that host is a legitimate Graph host, add it to customHosts.',
        },
      );
    }
    return nextLink;
  }

  private checkStoredDeltaLink(deltaLink: string): void {
    let url: URL | undefined;
    try {
      url = new URL(deltaLink);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'https:' || !this.client.graphHosts.has(url.hostname.toLowerCase())) {
      // A deltaLink for another cloud or host (the connection changed) cannot be resumed here.
      throw new DeltaStateLostError(
        `The stored deltaLink does not point at this connection's Graph (${this.client.cloud.graphBaseUrl}).`,
        { kind: 'reset', nextStep: 'Drop the stored deltaLink and read everything again (a full read).' },
      );
    }
  }

  /** One GET (or a $batch POST) through the SDK, raw, so that status, headers and body are all ours to read. */
  private async send(url: string, options: SendOptions): Promise<unknown> {
    const method = options.post === undefined ? 'GET' : 'POST';
    const operation = endpointKind(method, url.startsWith('/') ? `/v1.0${url}` : url);
    const scope = new RequestScope(this.budget, this.stats, options.signal);
    try {
      let response: RawResponse;
      try {
        const request = this.client.sdk
          .api(url)
          .responseType(ResponseType.RAW)
          .middlewareOptions([scope])
          .headers({ ...options.headers, 'client-request-id': randomUUID() });
        response = asResponse(
          await (options.post === undefined ? request.get() : request.post(options.post)),
        );
      } catch (error) {
        throw mapGraphError(error, this.context);
      }

      if (!response.ok) {
        const text = await response.text().catch(() => '');
        let body: unknown = text === '' ? undefined : text;
        try {
          if (text !== '') body = JSON.parse(text) as unknown;
        } catch {
          // Not JSON: keep the text.
        }
        throw mapGraphError(graphHttpFailure(response.status, response.headers, body, operation), {
          ...this.context,
          permissions: withPermissionFor(operation, this.context.permissions),
          retryStop: scope.stop?.reason === 'not_retryable' ? undefined : scope.stop?.reason,
          fallbackRetryAfterMs: scope.stop?.suggestedWaitMs,
        });
      }

      const text = await response.text();
      if (options.as === 'text') return text;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new GraphRequestError(`Graph sent a body that is not JSON (${operation}).`, {
          status: response.status,
          requestId: response.headers.get('request-id') ?? undefined,
          nextStep: 'Retry; if it persists, report it with the request-id.',
        });
      }
    } finally {
      // The body is read (or abandoned): release the request's timer and abort listener.
      scope.finish();
    }
  }
}

/**
 * The application permission a request needs (least privileged, from each API's reference page),
 * added to the ones named when Graph answers 403.
 */
function withPermissionFor(operation: string, permissions: readonly string[] | undefined): readonly string[] {
  const needed = / \/organization/.test(operation)
    ? 'Organization.Read.All'
    : / \/groups/.test(operation)
      ? 'GroupMember.Read.All'
      : 'User.Read.All';
  const all = permissions ?? [];
  return all.includes(needed) ? all : [...all, needed];
}

function groupDeltaSelect(
  select: readonly string[] | undefined,
  includeMembers: boolean | undefined,
): string | undefined {
  // Without $select, groups delta returns the default properties and members@delta (group-delta page).
  if (select === undefined || select.length === 0) return undefined;
  const fields = [...select];
  if (includeMembers !== false && !fields.includes('members')) fields.push('members');
  return selectWithId(fields);
}

function countReady(waiting: readonly MemberStep[], now: number): number {
  let ready = 0;
  for (const step of waiting) if (step.notBefore <= now) ready += 1;
  return ready;
}

/** Takes up to `max` steps that may go now, keeping the others (and their order) in `waiting`. */
function takeReady(waiting: MemberStep[], now: number, max: number): MemberStep[] {
  const ready: MemberStep[] = [];
  for (let index = 0; index < waiting.length && ready.length < max;) {
    const step = waiting[index] as MemberStep;
    if (step.notBefore <= now) {
      ready.push(step);
      waiting.splice(index, 1);
    } else {
      index += 1;
    }
  }
  return ready;
}
