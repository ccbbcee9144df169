import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseBatchAnswer } from '../../shared/graph/batch.js';
import {
  ConsentMissingError,
  GraphRequestError,
  graphHttpFailure,
  mapGraphError,
  memberType,
  parseCount,
  parseGroupDeltaPage,
  parseGroupPage,
  parseMemberPage,
  parseRetryAfterMs,
  parseUserDeltaPage,
  parseUserPage,
  RetryBudget,
  ThrottledError,
  type DeltaPage,
  type GraphPage,
  type GroupDeltaItem,
  type UserDeltaItem,
} from '../../shared/graph/index.js';
import { expectInstance } from './helpers/expect.js';

/**
 * Every official Graph doc example in ../shared/graph-examples (beside the repository), replayed as it
 * is through the reader's parsing and error mapping. Expected counts are written here; ids, reasons,
 * links and values are taken from each file at run time (the examples are not copied into the project).
 */

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const examplesDir = resolve(repoRoot, '..', 'shared', 'graph-examples');

const exampleSchema = z.object({
  source: z.string(),
  request: z
    .object({
      method: z.string(),
      url: z.string(),
      headers: z.record(z.string(), z.string()),
      body: z.unknown().optional(),
    })
    .nullable(),
  response: z.object({
    status: z.number().nullable(),
    headers: z.record(z.string(), z.string()).nullable(),
    body: z.unknown(),
  }),
});
type Example = z.infer<typeof exampleSchema>;

type Raw = Record<string, unknown>;

type Expectation =
  | { kind: 'userDelta'; upserts: number; removed: number; rejected: number; link: 'next' | 'delta' }
  | {
      kind: 'groupDelta';
      upserts: number;
      rejected: number;
      memberAdds: number;
      memberRemoves: number;
      link: 'next' | 'delta';
    }
  | { kind: 'users' | 'groups' | 'members'; items: number; rejected: number }
  | { kind: 'count' }
  | { kind: 'throttled' }
  | { kind: 'error'; status: number | undefined }
  | { kind: 'batch' };

/** One entry per file: a new file without one fails the test, so nothing is skipped silently. */
const EXPECTED: Record<string, Expectation> = {
  'users-delta-initial-page.json': { kind: 'userDelta', upserts: 3, removed: 1, rejected: 0, link: 'next' },
  'users-delta-nextlink-page.json': { kind: 'userDelta', upserts: 2, removed: 0, rejected: 0, link: 'next' },
  'users-delta-final-page-deltalink.json': {
    kind: 'userDelta',
    upserts: 2,
    removed: 0,
    rejected: 0,
    link: 'delta',
  },
  'users-delta-deltalink-no-changes.json': {
    kind: 'userDelta',
    upserts: 0,
    removed: 0,
    rejected: 0,
    link: 'delta',
  },
  'users-delta-deltalink-with-changes.json': {
    kind: 'userDelta',
    upserts: 1,
    removed: 1,
    rejected: 0,
    link: 'delta',
  },
  'users-delta-example1-default-properties.json': {
    kind: 'userDelta',
    upserts: 1,
    removed: 0,
    rejected: 0,
    link: 'next',
  },
  'users-delta-example2-select.json': {
    kind: 'userDelta',
    upserts: 0,
    removed: 0,
    rejected: 1,
    link: 'next',
  },
  'users-delta-example3-prefer-minimal.json': {
    kind: 'userDelta',
    upserts: 0,
    removed: 0,
    rejected: 1,
    link: 'next',
  },
  'groups-delta-initial-page.json': {
    kind: 'groupDelta',
    upserts: 2,
    rejected: 0,
    memberAdds: 2,
    memberRemoves: 0,
    link: 'next',
  },
  'groups-delta-nextlink-page.json': {
    kind: 'groupDelta',
    upserts: 2,
    rejected: 0,
    memberAdds: 3,
    memberRemoves: 0,
    link: 'next',
  },
  'groups-delta-final-page-deltalink.json': {
    kind: 'groupDelta',
    upserts: 2,
    rejected: 0,
    memberAdds: 0,
    memberRemoves: 0,
    link: 'delta',
  },
  'groups-delta-deltalink-no-changes.json': {
    kind: 'groupDelta',
    upserts: 0,
    rejected: 0,
    memberAdds: 0,
    memberRemoves: 0,
    link: 'delta',
  },
  'groups-delta-deltalink-member-changes.json': {
    kind: 'groupDelta',
    upserts: 1,
    rejected: 0,
    memberAdds: 1,
    memberRemoves: 1,
    link: 'delta',
  },
  'groups-delta-large-group-page-1.json': {
    kind: 'groupDelta',
    upserts: 1,
    rejected: 0,
    memberAdds: 1,
    memberRemoves: 1,
    link: 'next',
  },
  'groups-delta-large-group-page-2.json': {
    kind: 'groupDelta',
    upserts: 1,
    rejected: 0,
    memberAdds: 1,
    memberRemoves: 1,
    link: 'next',
  },
  'groups-delta-example1-default.json': {
    kind: 'groupDelta',
    upserts: 0,
    rejected: 1,
    memberAdds: 0,
    memberRemoves: 0,
    link: 'next',
  },
  'groups-delta-example2-select.json': {
    kind: 'groupDelta',
    upserts: 0,
    rejected: 1,
    memberAdds: 0,
    memberRemoves: 0,
    link: 'next',
  },
  'groups-delta-example3-prefer-minimal.json': {
    kind: 'groupDelta',
    upserts: 0,
    rejected: 1,
    memberAdds: 0,
    memberRemoves: 0,
    link: 'next',
  },
  'users-list-all.json': { kind: 'users', items: 2, rejected: 0 },
  'users-list-signin-name-filter.json': { kind: 'users', items: 1, rejected: 0 },
  'users-list-startswith-top-odata-count.json': { kind: 'users', items: 0, rejected: 1 },
  'users-list-endswith-odata-count.json': { kind: 'users', items: 1, rejected: 0 },
  'users-list-search-odata-count.json': { kind: 'users', items: 0, rejected: 1 },
  'users-list-guest-b2b-odata-count.json': { kind: 'users', items: 1, rejected: 0 },
  'users-count-only-text-plain.json': { kind: 'count' },
  'groups-list-all.json': { kind: 'groups', items: 2, rejected: 0 },
  'groups-list-filter-odata-count.json': { kind: 'groups', items: 2, rejected: 0 },
  'groups-list-startswith-top-odata-count.json': { kind: 'groups', items: 0, rejected: 1 },
  'groups-list-search-odata-count.json': { kind: 'groups', items: 0, rejected: 2 },
  'groups-list-dynamic-security-groups.json': { kind: 'groups', items: 1, rejected: 0 },
  'groups-list-expand-members.json': { kind: 'groups', items: 2, rejected: 0 },
  'groups-count-only-text-plain.json': { kind: 'count' },
  'group-members-list.json': { kind: 'members', items: 1, rejected: 0 },
  'group-members-count-only-text-plain.json': { kind: 'count' },
  'group-members-user-cast-count-text-plain.json': { kind: 'count' },
  'group-members-user-cast-search-odata-count.json': { kind: 'members', items: 2, rejected: 0 },
  'group-members-filter-odata-count.json': { kind: 'members', items: 0, rejected: 1 },
  'group-transitivemembers-list.json': { kind: 'members', items: 1, rejected: 0 },
  'group-transitivemembers-count-text-plain.json': { kind: 'count' },
  'group-transitivemembers-group-cast-odata-count.json': { kind: 'members', items: 2, rejected: 0 },
  'group-transitivemembers-user-cast-search-odata-count.json': { kind: 'members', items: 1, rejected: 0 },
  'group-transitivemembers-user-cast-filter-odata-count.json': { kind: 'members', items: 0, rejected: 1 },
  'throttled-429.json': { kind: 'throttled' },
  'error-envelope-example.json': { kind: 'error', status: undefined },
  'users-select-skills-501-not-implemented.json': { kind: 'error', status: 501 },
  'batch-request-response.json': { kind: 'batch' },
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function load(file: string): Example {
  return exampleSchema.parse(JSON.parse(readFileSync(join(examplesDir, file), 'utf8')));
}

function rawValue(body: unknown): Raw[] {
  return (body as { value: Raw[] }).value;
}

function hasId(item: Raw): item is Raw & { id: string } {
  return typeof item.id === 'string' && item.id !== '';
}

function checkPageBasics<T>(page: GraphPage<T>, body: unknown): void {
  const raw = body as Raw;
  expect(page.nextLink).toBe(raw['@odata.nextLink']);
  expect(page.count).toBe(raw['@odata.count']);
  // Every item without an id is rejected, by its index, with that reason.
  const withoutId = rawValue(body)
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => !hasId(item));
  expect(page.rejected.filter((r) => r.path === '').map((r) => [r.index, r.reason])).toEqual(
    withoutId.map(({ index }) => [index, 'missing "id"']),
  );
}

function checkUserDelta(
  page: DeltaPage<UserDeltaItem>,
  body: unknown,
  expected: Extract<Expectation, { kind: 'userDelta' }>,
): void {
  checkPageBasics(page, body);
  expect(page.deltaLink).toBe((body as Raw)['@odata.deltaLink']);
  expect(expected.link === 'delta' ? page.deltaLink : page.nextLink).toBeTypeOf('string');
  const upserts = page.items.filter((i) => i.kind === 'upsert');
  const removed = page.items.filter((i) => i.kind === 'removed');
  expect([upserts.length, removed.length, page.rejected.length]).toEqual([
    expected.upserts,
    expected.removed,
    expected.rejected,
  ]);

  const raws = rawValue(body).filter(hasId);
  // Removals: the same ids with the same reasons, in order.
  expect(removed.map((r) => [r.id, r.reason])).toEqual(
    raws.filter((r) => '@removed' in r).map((r) => [r.id, (r['@removed'] as { reason: string }).reason]),
  );
  // Objects keep exactly what was carried: same keys (absent stays absent), same values (null stays null).
  expect(upserts.map((u) => u.user)).toEqual(raws.filter((r) => !('@removed' in r)));
}

function checkGroupDelta(
  page: DeltaPage<GroupDeltaItem>,
  body: unknown,
  expected: Extract<Expectation, { kind: 'groupDelta' }>,
): void {
  checkPageBasics(page, body);
  expect(page.deltaLink).toBe((body as Raw)['@odata.deltaLink']);
  expect(expected.link === 'delta' ? page.deltaLink : page.nextLink).toBeTypeOf('string');
  const upserts = page.items.filter((i) => i.kind === 'upsert');
  expect([upserts.length, page.rejected.length]).toEqual([expected.upserts, expected.rejected]);
  const changes = upserts.flatMap((u) => u.members ?? []);
  expect([
    changes.filter((c) => c.change === 'added').length,
    changes.filter((c) => c.change === 'removed').length,
  ]).toEqual([expected.memberAdds, expected.memberRemoves]);

  const raws = rawValue(body).filter(hasId);
  upserts.forEach((item, i) => {
    const raw: Raw = raws[i] ?? {};
    const { 'members@delta': rawMembers, ...properties } = raw;
    expect(item.id).toBe(raw.id);
    expect(item.group).toEqual(properties);
    if (rawMembers === undefined) {
      // No members@delta at all (a group without members): not "an empty change list".
      expect(item.members).toBeUndefined();
    } else {
      expect(item.members).toEqual(
        (rawMembers as Raw[]).map((m) => ({
          id: m.id,
          odataType: m['@odata.type'],
          type: memberType(m['@odata.type'] as string | undefined),
          change: '@removed' in m ? 'removed' : 'added',
        })),
      );
    }
  });
}

function checkList(
  page: GraphPage<{ id: string }>,
  body: unknown,
  expected: Extract<Expectation, { kind: 'users' | 'groups' | 'members' }>,
): void {
  checkPageBasics(page, body);
  expect([page.items.length, page.rejected.length]).toEqual([expected.items, expected.rejected]);
  expect(page.items.map((i) => i.id)).toEqual(
    rawValue(body)
      .filter(hasId)
      .map((r) => r.id),
  );
}

function parseList(kind: 'users' | 'groups' | 'members', body: unknown): GraphPage<{ id: string }> {
  if (kind === 'users') return parseUserPage(body);
  if (kind === 'groups') return parseGroupPage(body);
  const page = parseMemberPage(body);
  // Members: the type comes from @odata.type; absent means unknown, as some examples show.
  const raws = rawValue(body).filter(hasId);
  expect(page.items.map((m) => m.type)).toEqual(
    raws.map((r) => memberType(r['@odata.type'] as string | undefined)),
  );
  return page;
}

if (!existsSync(examplesDir)) {
  describe.skip(`Graph conformance SKIPPED: no official examples folder at ${examplesDir}`, () => {
    it('needs ../shared/graph-examples beside the repository', () => undefined);
  });
} else {
  const files = readdirSync(examplesDir)
    .filter((f) => f.endsWith('.json'))
    .sort();

  describe('Graph conformance: the official doc examples, as they are', () => {
    it('has an expectation for every example file, and every expectation has its file', () => {
      expect(files.length).toBeGreaterThan(0);
      expect(files).toEqual(Object.keys(EXPECTED).sort());
    });

    it.each(files)('%s', (file) => {
      const example = load(file);
      const expected = EXPECTED[file];
      if (expected === undefined) throw new Error(`No expectation written for ${file}`);
      const body = example.response.body;
      const headers = example.response.headers;

      switch (expected.kind) {
        case 'userDelta':
          checkUserDelta(parseUserDeltaPage(body), body, expected);
          break;
        case 'groupDelta':
          checkGroupDelta(parseGroupDeltaPage(body), body, expected);
          break;
        case 'users':
        case 'groups':
        case 'members':
          checkList(parseList(expected.kind, body), body, expected);
          break;
        case 'count': {
          expect(
            headers && Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1],
          ).toBe('text/plain');
          expect(parseCount(body)).toBe(Number(body));
          expect(Number.isInteger(parseCount(body))).toBe(true);
          break;
        }
        case 'throttled': {
          const retryAfter = Object.entries(headers ?? {}).find(
            ([k]) => k.toLowerCase() === 'retry-after',
          )?.[1];
          expect(retryAfter).toBe('2.128');
          expect(parseRetryAfterMs(retryAfter)).toBe(2128);
          // Within the budget: wait exactly what Graph says, fractional seconds kept.
          expect(new RetryBudget().decide(example.response.status ?? 0, retryAfter, 0)).toEqual({
            retry: true,
            delayMs: 2128,
            retryAfterMs: 2128,
          });
          // Past the budget: a typed error that says when.
          const now = Date.parse('2024-01-01T00:00:00Z');
          const error = mapGraphError(graphHttpFailure(example.response.status ?? undefined, headers, body), {
            retryStop: 'budget_spent',
            now: () => now,
          });
          expect(error).toBeInstanceOf(ThrottledError);
          const inner = (body as { error: { code: string; innerError: Raw } }).error;
          expect(error).toMatchObject({
            code: 'throttled',
            status: 429,
            retryAfterSeconds: 2.128,
            retryAfterFromServer: true,
            graphCode: inner.code,
            requestId: inner.innerError['request-id'],
            stopReason: 'budget_spent',
          });
          expect(expectInstance(error, ThrottledError).retryAt.toISOString()).toBe(
            new Date(now + 2128).toISOString(),
          );
          break;
        }
        case 'error': {
          const error = mapGraphError(graphHttpFailure(example.response.status ?? undefined, headers, body));
          const inner = (body as { error: { code: string; message: string; innerError: Raw } }).error;
          expect(error).toBeInstanceOf(GraphRequestError);
          expect(error).toMatchObject({
            code: 'graph_error',
            status: expected.status,
            graphCode: inner.code,
            requestId: inner.innerError['request-id'],
            transient: expected.status !== undefined && expected.status >= 500,
          });
          expect(error.message).toContain(inner.message);
          if (expected.status === 501)
            expect(expectInstance(error, GraphRequestError).nextStep).toContain('$select');
          break;
        }
        case 'batch': {
          const requests = (example.request?.body as { requests: { id: string; url: string }[] }).requests;
          const responses = (
            body as {
              responses: { id: string; status: number; headers: Record<string, string>; body: unknown }[];
            }
          ).responses;
          expect(responses.map((r) => r.status)).toEqual([200, 403, 403, 405, 200]);
          // The reader's own batch parsing matches answers to requests by id.
          const answers = parseBatchAnswer(
            body,
            requests.map((r) => r.id),
          );
          expect([...answers].map(([id, answer]) => [id, answer.status])).toEqual(
            responses.map((r) => [r.id, r.status]),
          );
          for (const inner of responses) {
            const url = requests.find((r) => r.id === inner.id)?.url ?? '';
            if (inner.status === 200) {
              const list = url.includes('memberOf') ? parseMemberPage(inner.body) : parseUserPage(inner.body);
              expect(list.rejected).toEqual([]);
              expect(list.items.map((i) => i.id)).toEqual(rawValue(inner.body).map((r) => r.id));
              expect(list.count).toBe((inner.body as Raw)['@odata.count']);
              continue;
            }
            const error = mapGraphError(graphHttpFailure(inner.status, inner.headers, inner.body));
            const envelope = (inner.body as { error: { code: string; innerError: Raw } }).error;
            if (inner.status === 403) {
              expect(error).toBeInstanceOf(ConsentMissingError);
              // An empty code ("") is no code at all.
              expect(error).toMatchObject({
                problem: 'insufficient_privileges',
                graphCode: envelope.code === '' ? undefined : envelope.code,
              });
            } else {
              expect(error).toBeInstanceOf(GraphRequestError);
              expect(error).toMatchObject({ status: inner.status, graphCode: envelope.code });
            }
            expect(error).toMatchObject({ requestId: envelope.innerError['request-id'] });
          }
          // The directoryRole in memberOf is a directory object of another type.
          const first = responses[0];
          expect(first && parseMemberPage(first.body).items.map((m) => m.type)).toEqual(['other']);
          break;
        }
      }
    });

    it('accepts the malformed member id that some examples carry (ids are not checked as GUIDs)', () => {
      const malformed: { file: string; id: string }[] = [];
      for (const file of files.filter((f) => f.startsWith('groups-delta'))) {
        const body = load(file).response.body;
        for (const group of rawValue(body)) {
          for (const member of (group['members@delta'] as Raw[] | undefined) ?? []) {
            if (typeof member.id === 'string' && !GUID.test(member.id))
              malformed.push({ file, id: member.id });
          }
        }
      }
      expect(malformed.length).toBeGreaterThanOrEqual(2);
      for (const { file, id } of malformed) {
        const page = parseGroupDeltaPage(load(file).response.body);
        const ids = page.items.flatMap((i) =>
          i.kind === 'upsert' ? (i.members ?? []).map((m) => m.id) : [],
        );
        expect(ids).toContain(id);
        expect(page.rejected).toEqual([]);
      }
    });

    it('gives the same group id on both large-group pages, each with its own members@delta slice', () => {
      const [one, two] = ['groups-delta-large-group-page-1.json', 'groups-delta-large-group-page-2.json'].map(
        (f) => parseGroupDeltaPage(load(f).response.body),
      );
      const groupOf = (page: DeltaPage<GroupDeltaItem> | undefined) => page?.items[0];
      const a = groupOf(one);
      const b = groupOf(two);
      expect(a?.kind).toBe('upsert');
      expect(a?.id).toBe(b?.id);
      const slice = (item: GroupDeltaItem | undefined) =>
        item?.kind === 'upsert' ? (item.members ?? []).map((m) => m.id) : [];
      expect(slice(a).filter((id) => slice(b).includes(id))).toEqual([]);
    });

    it('rejects items without id with a reason naming id, and still parses the page', () => {
      const rejectedFiles = files.filter((f) => {
        const e = EXPECTED[f];
        return e !== undefined && 'rejected' in e && e.rejected > 0;
      });
      expect(rejectedFiles.length).toBeGreaterThanOrEqual(10);
      for (const file of rejectedFiles) {
        const body = load(file).response.body;
        const kind = EXPECTED[file]?.kind;
        const page =
          kind === 'userDelta'
            ? parseUserDeltaPage(body)
            : kind === 'groupDelta'
              ? parseGroupDeltaPage(body)
              : parseList(kind === 'users' || kind === 'groups' ? kind : 'members', body);
        expect(page.rejected.length).toBeGreaterThan(0);
        for (const rejected of page.rejected) expect(rejected.reason).toBe('missing "id"');
      }
    });
  });
}
