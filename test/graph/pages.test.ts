import { describe, expect, it } from 'vitest';
import {
  GraphRequestError,
  parseCount,
  parseGroupDeltaPage,
  parseMemberPage,
  parseUserDeltaPage,
  parseUserPage,
  resolveCloud,
} from '../../shared/graph/index.js';
import { SettingsError } from '../../shared/errors.js';

describe('per-item parsing', () => {
  it('rejects each bad item with a clear reason and keeps the rest of the page', () => {
    const page = parseUserPage({
      value: [
        { id: 'ok-1', displayName: 'One' },
        null,
        'a string',
        { id: '', displayName: 'empty id' },
        { id: 42 },
        { displayName: 'no id' },
        { id: 'bad-types', accountEnabled: 'yes', otherMails: 'x@y' },
        { id: 'ok-2' },
      ],
    });
    expect(page.items.map((u) => u.id)).toEqual(['ok-1', 'ok-2']);
    expect(page.rejected.map((r) => [r.index, r.id, r.reason])).toEqual([
      [1, undefined, 'not a JSON object'],
      [2, undefined, 'not a JSON object'],
      [3, undefined, '"id" is not a non-empty string'],
      [4, undefined, '"id" is not a non-empty string'],
      [5, undefined, 'missing "id"'],
      [6, 'bad-types', expect.stringMatching(/^accountEnabled: .*; otherMails: /) as string],
    ]);
  });

  it('keeps selected properties it does not know, and keeps absent absent and null null', () => {
    const [item] = parseUserPage({
      value: [{ id: 'u', extension_abc_costCenter: '42', manager: null, jobTitle: null }],
    }).items;
    expect(item).toEqual({ id: 'u', extension_abc_costCenter: '42', manager: null, jobTitle: null });
    expect(item && 'displayName' in item).toBe(false);
  });

  it('fails the page (not an item) when the envelope is not a collection', () => {
    expect(() => parseUserPage({ values: [] })).toThrow(GraphRequestError);
    expect(() => parseUserPage('nope')).toThrow(/not a collection/);
  });
});

describe('users delta', () => {
  it('reads removals with their reason and rejects an unknown reason', () => {
    const page = parseUserDeltaPage({
      value: [
        { id: 'a', '@removed': { reason: 'changed' } },
        { id: 'b', '@removed': { reason: 'deleted' } },
        { id: 'c', '@removed': { reason: 'vanished' } },
        { id: 'd', '@removed': 'deleted' },
        { id: 'e', displayName: 'E' },
      ],
      '@odata.deltaLink': 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=t',
    });
    expect(page.items).toEqual([
      { kind: 'removed', id: 'a', reason: 'changed' },
      { kind: 'removed', id: 'b', reason: 'deleted' },
      { kind: 'upsert', id: 'e', user: { id: 'e', displayName: 'E' } },
    ]);
    expect(page.rejected.map((r) => [r.id, r.reason.startsWith('"@removed"')])).toEqual([
      ['c', true],
      ['d', true],
    ]);
    expect(page.deltaLink).toBe('https://graph.microsoft.com/v1.0/users/delta?$deltatoken=t');
    expect(page.nextLink).toBeUndefined();
  });
});

describe('groups delta', () => {
  it('rejects a bad member entry alone, keeping the group and its other members', () => {
    const page = parseGroupDeltaPage({
      value: [
        {
          id: 'g',
          displayName: 'G',
          'members@delta': [
            { '@odata.type': '#microsoft.graph.user', id: 'u1' },
            { '@odata.type': '#microsoft.graph.user' },
            { '@odata.type': '#microsoft.graph.group', id: 'g2', '@removed': { reason: 'deleted' } },
            { '@odata.type': '#microsoft.graph.servicePrincipal', id: 's1' },
            { '@odata.type': '#microsoft.graph.device', id: 'd1', '@removed': { reason: 'gone' } },
          ],
        },
        { id: 'h', 'members@delta': 'not an array' },
        { id: 'r', '@removed': { reason: 'changed' } },
      ],
      '@odata.nextLink': 'https://graph.microsoft.com/v1.0/groups/delta?$skiptoken=s',
    });
    expect(page.items).toEqual([
      {
        kind: 'upsert',
        id: 'g',
        group: { id: 'g', displayName: 'G' },
        members: [
          { id: 'u1', type: 'user', odataType: '#microsoft.graph.user', change: 'added' },
          { id: 'g2', type: 'group', odataType: '#microsoft.graph.group', change: 'removed' },
          {
            id: 's1',
            type: 'servicePrincipal',
            odataType: '#microsoft.graph.servicePrincipal',
            change: 'added',
          },
        ],
      },
      { kind: 'upsert', id: 'h', group: { id: 'h' }, members: undefined },
      { kind: 'removed', id: 'r', reason: 'changed' },
    ]);
    expect(page.rejected.map((r) => [r.index, r.path, r.id])).toEqual([
      [0, 'members@delta[1]', undefined],
      [0, 'members@delta[4]', 'd1'],
      [1, 'members@delta', 'h'],
    ]);
    expect(page.rejected[0]?.reason).toBe('member missing "id" (group g)');
  });
});

describe('members and counts', () => {
  it('types members from @odata.type', () => {
    const page = parseMemberPage({
      value: [
        { '@odata.type': '#microsoft.graph.orgContact', id: 'c' },
        { '@odata.type': '#microsoft.graph.directoryRole', id: 'r' },
        { id: 'x', mail: 'x@y' },
      ],
    });
    expect(page.items.map((m) => [m.id, m.type])).toEqual([
      ['c', 'orgContact'],
      ['r', 'other'],
      ['x', 'unknown'],
    ]);
    expect(page.items[2]?.object).toEqual({ id: 'x', mail: 'x@y' });
  });

  it('parses $count text/plain and refuses anything else', () => {
    expect(parseCount('893')).toBe(893);
    expect(parseCount(' 0\n')).toBe(0);
    expect(parseCount(12)).toBe(12);
    expect(() => parseCount('-1')).toThrow(GraphRequestError);
    expect(() => parseCount('12a')).toThrow(GraphRequestError);
    expect(() => parseCount({ value: 1 })).toThrow(GraphRequestError);
  });
});

describe('clouds', () => {
  it.each([
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com', false],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us', true],
    ['usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us', true],
    ['china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn', true],
  ] as const)('%s', (name, authorityHost, graphBaseUrl, disableInstanceDiscovery) => {
    expect(resolveCloud(name)).toEqual({
      name,
      authorityHost,
      graphBaseUrl,
      scope: `${graphBaseUrl}/.default`,
      graphHost: new URL(graphBaseUrl).hostname,
      disableInstanceDiscovery,
    });
  });

  it('takes explicit https endpoints (the simulator) and refuses http or unknown names', () => {
    expect(
      resolveCloud({ authorityHost: 'https://localhost:8443/', graphBaseUrl: 'https://localhost:8443' }),
    ).toEqual({
      name: 'custom',
      authorityHost: 'https://localhost:8443',
      graphBaseUrl: 'https://localhost:8443',
      scope: 'https://graph.microsoft.com/.default',
      graphHost: 'localhost',
      disableInstanceDiscovery: true,
    });
    expect(() =>
      resolveCloud({ authorityHost: 'http://localhost:1', graphBaseUrl: 'https://localhost:1' }),
    ).toThrow(SettingsError);
    expect(() => resolveCloud({ authorityHost: 'https://localhost:1', graphBaseUrl: 'not a url' })).toThrow(
      SettingsError,
    );
    expect(() => resolveCloud('germany' as 'global')).toThrow(/Unknown cloud/);
  });
});
