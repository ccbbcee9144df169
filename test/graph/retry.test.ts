import type { AccessToken } from '@azure/identity';
import { GraphClientError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { MiddlewareControl } from '@microsoft/microsoft-graph-client/lib/src/middleware/MiddlewareControl.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../../shared/graph/index.js';
import {
  CredentialAuthProvider,
  endpointKind,
  GraphRequestStats,
  RequestScope,
  RetryMiddleware,
  type Clock,
} from '../../shared/graph/middleware.js';
import { expectInstance } from './helpers/expect.js';

describe('RetryBudget decisions', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('retries 429/503/504 after exactly the Retry-After Graph sent', () => {
    const budget = new RetryBudget();
    expect(budget.decide(429, '2.128', 0, now)).toEqual({ retry: true, delayMs: 2128, retryAfterMs: 2128 });
    expect(budget.decide(503, '1', 0, now)).toEqual({ retry: true, delayMs: 1000, retryAfterMs: 1000 });
    expect(budget.decide(504, 'Wed, 01 May 2024 12:00:05 GMT', 0, now)).toEqual({
      retry: true,
      delayMs: 5000,
      retryAfterMs: 5000,
    });
  });

  it('does not retry other statuses', () => {
    expect(new RetryBudget().decide(500, '1', 0, now)).toMatchObject({
      retry: false,
      reason: 'not_retryable',
    });
    expect(new RetryBudget().decide(400, null, 0, now)).toMatchObject({
      retry: false,
      reason: 'not_retryable',
    });
  });

  it('backs off exponentially, capped, when there is no Retry-After', () => {
    const budget = new RetryBudget({
      initialBackoffMs: 500,
      maxBackoffMs: 3000,
      random: () => 0,
      maxRetriesPerRequest: 10,
    });
    const delays = [0, 1, 2, 3, 4]
      .map((n) => budget.decide(429, null, n, now))
      .map((d) => (d.retry ? d.delayMs : -1));
    expect(delays).toEqual([500, 1000, 2000, 3000, 3000]);
    // Jitter adds at most 10%.
    expect(new RetryBudget({ initialBackoffMs: 1000, random: () => 0.999 }).backoffMs(0)).toBe(1100);
  });

  it('stops after maxRetriesPerRequest, suggesting the wait', () => {
    const budget = new RetryBudget({ maxRetriesPerRequest: 2 });
    expect(budget.decide(429, '1', 1, now).retry).toBe(true);
    expect(budget.decide(429, '1', 2, now)).toEqual({
      retry: false,
      reason: 'max_retries',
      retryAfterMs: 1000,
      suggestedWaitMs: 1000,
    });
  });

  it('stops when a wait would exceed what is left, without waiting partly', () => {
    const budget = new RetryBudget({ maxTotalWaitMs: 5000 });
    expect(budget.decide(429, '3', 0, now).retry).toBe(true);
    budget.spend(3000);
    expect(budget.remainingMs).toBe(2000);
    expect(budget.decide(429, '2', 0, now)).toMatchObject({ retry: true, delayMs: 2000 });
    expect(budget.decide(429, '2.001', 0, now)).toEqual({
      retry: false,
      reason: 'budget_spent',
      retryAfterMs: 2001,
      suggestedWaitMs: 2001,
    });
    budget.spend(2000);
    expect(budget.decide(429, '0.5', 0, now)).toMatchObject({ retry: false, reason: 'budget_spent' });
    expect(budget.decide(429, '0', 0, now)).toMatchObject({ retry: true, delayMs: 0 });
  });

  it('has bounded defaults and refuses nonsense', () => {
    const budget = new RetryBudget();
    expect(budget.maxRetriesPerRequest).toBe(DEFAULT_RETRY_BUDGET.maxRetriesPerRequest);
    expect(budget.maxTotalWaitMs).toBe(DEFAULT_RETRY_BUDGET.maxTotalWaitMs);
    expect(() => new RetryBudget({ maxTotalWaitMs: -1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ maxRetriesPerRequest: Number.NaN })).toThrow(RangeError);
  });
});

/** A fake next middleware answering a scripted list of statuses. */
function scripted(answers: { status: number; retryAfter?: string }[]): Middleware & { calls: number } {
  const next = {
    calls: 0,
    execute(context: Context): Promise<void> {
      const answer = answers[Math.min(next.calls, answers.length - 1)] ?? { status: 200 };
      next.calls += 1;
      context.response = new Response(answer.status === 200 ? '{}' : '{"error":{"code":"x"}}', {
        status: answer.status,
        headers: answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter },
      });
      return Promise.resolve();
    },
  };
  return next;
}

function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => 0,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  };
}

async function run(
  answers: { status: number; retryAfter?: string }[],
  budget: RetryBudget,
  stats = new GraphRequestStats(),
): Promise<{ status: number | undefined; scope: RequestScope; slept: number[]; calls: number }> {
  const clock = fakeClock();
  const middleware = new RetryMiddleware(() => budget, clock);
  const next = scripted(answers);
  middleware.setNext(next);
  const scope = new RequestScope(budget, stats, undefined);
  const context: Context = {
    request: 'https://graph.microsoft.com/v1.0/users',
    options: { method: 'GET' },
    middlewareControl: new MiddlewareControl([scope]),
  };
  await middleware.execute(context);
  return { status: context.response?.status, scope, slept: clock.slept, calls: next.calls };
}

describe('RetryMiddleware', () => {
  it('retries until success, waiting what Graph says, and counts', async () => {
    const stats = new GraphRequestStats();
    const budget = new RetryBudget();
    const result = await run(
      [{ status: 429, retryAfter: '2.128' }, { status: 503, retryAfter: '1' }, { status: 200 }],
      budget,
      stats,
    );
    expect(result).toMatchObject({ status: 200, slept: [2128, 1000], calls: 3 });
    expect(result.scope.stop).toBeUndefined();
    expect(budget.waitedMs).toBe(3128);
    expect(stats.snapshot()).toMatchObject({ retries: 2, throttledResponses: 2, waitedMs: 3128 });
  });

  it('gives the last throttled response back when the request runs out of retries', async () => {
    const result = await run(
      [{ status: 429, retryAfter: '1' }],
      new RetryBudget({ maxRetriesPerRequest: 3 }),
    );
    expect(result).toMatchObject({ status: 429, calls: 4, slept: [1000, 1000, 1000] });
    expect(result.scope.stop).toMatchObject({ reason: 'max_retries', retryAfterMs: 1000 });
  });

  it('shares one budget across the requests of a reader', async () => {
    const budget = new RetryBudget({ maxTotalWaitMs: 2500 });
    const first = await run([{ status: 429, retryAfter: '2' }, { status: 200 }], budget);
    expect(first.status).toBe(200);
    const second = await run([{ status: 429, retryAfter: '1' }, { status: 200 }], budget);
    expect(second).toMatchObject({ status: 429, calls: 1, slept: [] });
    expect(second.scope.stop).toMatchObject({ reason: 'budget_spent', suggestedWaitMs: 1000 });
  });

  it('leaves other statuses alone', async () => {
    const result = await run([{ status: 500, retryAfter: '1' }], new RetryBudget());
    expect(result).toMatchObject({ status: 500, calls: 1, slept: [] });
    expect(result.scope.stop).toBeUndefined();
  });
});

describe('endpointKind', () => {
  it.each([
    ['GET', 'https://graph.microsoft.com/v1.0/users?$top=999', 'GET /users'],
    ['GET', 'https://graph.microsoft.com/v1.0/users/delta?$skiptoken=x', 'GET /users/delta'],
    ['GET', 'https://localhost:1234/v1.0/groups/abc/members?$top=999', 'GET /groups/{id}/members'],
    [
      'GET',
      'https://localhost:1234/v1.0/groups/abc/transitiveMembers/microsoft.graph.user',
      'GET /groups/{id}/transitiveMembers/microsoft.graph.user',
    ],
    ['GET', '/v1.0/users/$count', 'GET /users/$count'],
    ['GET', "https://graph.microsoft.com/v1.0/users('$x@contoso.com')", 'GET /users({id})'],
    ['get', 'https://graph.microsoft.com/beta/organization', 'GET /organization'],
  ])('%s %s -> %s', (method, url, kind) => {
    expect(endpointKind(method, url)).toBe(kind);
  });
});

describe('CredentialAuthProvider', () => {
  function credential(lifetimeMs: number, now: () => number) {
    const calls: number[] = [];
    let fail = false;
    return {
      calls,
      failNext: () => {
        fail = true;
      },
      getToken: (): Promise<AccessToken> => {
        calls.push(now());
        if (fail) {
          fail = false;
          return Promise.reject(new Error('sign-in failed'));
        }
        return Promise.resolve({
          token: `t${calls.length}`,
          expiresOnTimestamp: now() + lifetimeMs,
          tokenType: 'Bearer',
        });
      },
    };
  }

  it('keeps a token until five minutes before it expires, and shares one refresh', async () => {
    let time = 0;
    const now = () => time;
    const fake = credential(60 * 60_000, now);
    const provider = new CredentialAuthProvider(fake, 'https://graph.microsoft.com/.default', now);
    expect(await Promise.all([provider.getAccessToken(), provider.getAccessToken()])).toEqual(['t1', 't1']);
    time = 54 * 60_000;
    expect(await provider.getAccessToken()).toBe('t1');
    time = 55 * 60_000;
    expect(await provider.getAccessToken()).toBe('t2');
    expect(fake.calls).toEqual([0, 55 * 60_000]);
  });

  it('does not keep a failure, and wraps it for the SDK with the original inside', async () => {
    const fake = credential(60 * 60_000, () => 0);
    const provider = new CredentialAuthProvider(fake, 'scope', () => 0);
    fake.failNext();
    const error = await provider.getAccessToken().catch((e: unknown) => e);
    const wrapped = expectInstance(error, GraphClientError);
    expect(expectInstance(wrapped.customError, Error).message).toBe('sign-in failed');
    expect(await provider.getAccessToken()).toBe('t2');
  });
});
