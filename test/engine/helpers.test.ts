import { describe, expect, it } from 'vitest';
import { emailKeyOf, normaliseEmail } from '../../shared/engine/email.js';
import { canonicalJson, hashMappedRecord } from '../../shared/engine/hash.js';
import { mergeDeltaObject } from '../../shared/engine/merge.js';
import { requiredSourceProperties } from '../../shared/engine/required-properties.js';
import { checkDeletionThreshold, deletionLimit } from '../../shared/engine/threshold.js';
import { connection } from './factories.js';

describe('normaliseEmail', () => {
  it.each([
    ['Ada.Lovelace@Contoso.COM', 'ada.lovelace@contoso.com'],
    ['  ada@contoso.com \t', 'ada@contoso.com'],
    ['ADA@CONTOSO.COM', 'ada@contoso.com'],
    // e + combining acute and the precomposed é are one address.
    ['Ame\u0301lie@contoso.com', 'am\u00e9lie@contoso.com'],
  ])('%j -> %j', (input, key) => {
    expect(normaliseEmail(input)).toBe(key);
  });

  it('gives null for nothing', () => {
    expect(normaliseEmail(null)).toBeNull();
    expect(normaliseEmail(undefined)).toBeNull();
    expect(normaliseEmail('   ')).toBeNull();
  });

  it('makes two spellings of one address the same key', () => {
    expect(normaliseEmail(' Grace@Navy.mil')).toBe(normaliseEmail('grace@NAVY.MIL '));
  });

  it('reads the key from the mapped mail attribute only', () => {
    expect(emailKeyOf({ mail: 'A@B.C', userName: 'x@y.z' })).toBe('a@b.c');
    expect(emailKeyOf({ mail: null, userName: 'x@y.z' })).toBeNull();
    expect(emailKeyOf({ mail: ['a@b.c'] })).toBeNull();
  });
});

describe('hashMappedRecord', () => {
  const record = {
    attributes: { userName: 'ada', mail: 'ada@contoso.com', accountEnabled: true, phones: ['1', '2'] },
    appGroups: ['sales', 'everyone'],
    roles: ['seller'],
    license: 'pro',
  };

  it('is the same for the same values in another key order, and for groups and roles in another order', () => {
    const shuffled = {
      license: 'pro',
      roles: ['seller', 'seller'],
      appGroups: ['everyone', 'sales'],
      attributes: { phones: ['1', '2'], accountEnabled: true, mail: 'ada@contoso.com', userName: 'ada' },
    };
    expect(hashMappedRecord(shuffled)).toBe(hashMappedRecord(record));
  });

  it('changes when any value changes', () => {
    const base = hashMappedRecord(record);
    const variants = [
      { ...record, attributes: { ...record.attributes, mail: 'ADA@contoso.com' } },
      { ...record, attributes: { ...record.attributes, accountEnabled: false } },
      { ...record, attributes: { ...record.attributes, accountEnabled: 'true' } },
      { ...record, attributes: { ...record.attributes, phones: ['2', '1'] } },
      { ...record, attributes: { ...record.attributes, extra: null } },
      { ...record, appGroups: ['sales'] },
      { ...record, roles: [] },
      { ...record, license: null },
    ];
    const hashes = variants.map(hashMappedRecord);
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it('is versioned and URL-safe', () => {
    expect(hashMappedRecord(record)).toMatch(/^v1:[A-Za-z0-9_-]{43}$/);
  });

  it('canonicalJson sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});

describe('mergeDeltaObject', () => {
  const stored = {
    id: 'u1',
    displayName: 'Ada',
    mail: 'ada@contoso.com',
    jobTitle: 'Analyst',
    accountEnabled: true,
  };

  it('changes only the properties the delta object carries', () => {
    const merged = mergeDeltaObject(stored, { id: 'u1', jobTitle: 'Countess' });
    expect(merged).toEqual({ properties: { ...stored, jobTitle: 'Countess' }, removal: null });
  });

  it('clears a property carried as null', () => {
    expect(mergeDeltaObject(stored, { id: 'u1', mail: null }).properties).toEqual({ ...stored, mail: null });
  });

  it('starts from nothing for a user seen for the first time', () => {
    expect(mergeDeltaObject(null, { id: 'u2', displayName: 'Grace' })).toEqual({
      properties: { id: 'u2', displayName: 'Grace' },
      removal: null,
    });
  });

  it('keeps annotations out of the snapshot and reports the removal kind', () => {
    const soft = mergeDeltaObject(stored, {
      id: 'u1',
      '@removed': { reason: 'changed' },
      '@odata.type': '#microsoft.graph.user',
    });
    expect(soft).toEqual({ properties: stored, removal: 'changed' });
    expect(mergeDeltaObject(stored, { id: 'u1', '@removed': { reason: 'deleted' } }).removal).toBe('deleted');
    expect(mergeDeltaObject(stored, { id: 'u1', '@removed': {} }).removal).toBe('changed');
  });

  it('replaces a complex property whole', () => {
    const withOrg = { ...stored, employeeOrgData: { division: 'A', costCenter: '1' } };
    const merged = mergeDeltaObject(withOrg, {
      id: 'u1',
      employeeOrgData: { division: 'B', costCenter: null },
    });
    expect(merged.properties['employeeOrgData']).toEqual({ division: 'B', costCenter: null });
  });

  it('does not change the stored snapshot it was given', () => {
    const copy = { ...stored };
    mergeDeltaObject(stored, { id: 'u1', displayName: 'Changed' });
    expect(stored).toEqual(copy);
  });

  it('refuses to merge another user onto the snapshot', () => {
    expect(() => mergeDeltaObject(stored, { id: 'u9', displayName: 'X' })).toThrow(/u9.*u1/);
  });
});

describe('deletion threshold', () => {
  it('defaults to the smaller of 500 and 20% of the linked users', () => {
    const { policy } = connection();
    expect(policy.deletionThreshold).toEqual({ count: 500, percent: 20 });
    expect(deletionLimit(policy.deletionThreshold, 100)).toBe(20);
    expect(deletionLimit(policy.deletionThreshold, 2500)).toBe(500);
    expect(deletionLimit(policy.deletionThreshold, 10_000)).toBe(500);
  });

  it('rounds the percentage up so a small connection can still lose a user', () => {
    expect(deletionLimit({ percent: 20 }, 3)).toBe(1);
    expect(deletionLimit({ percent: 20 }, 0)).toBe(0);
    expect(deletionLimit({ percent: 1.1 }, 3000)).toBe(33);
  });

  it('uses only what is configured', () => {
    expect(deletionLimit({ count: 7 }, 1_000_000)).toBe(7);
    expect(deletionLimit({ percent: 50 }, 1_000_000)).toBe(500_000);
    expect(deletionLimit({}, 10)).toBe(Infinity);
  });

  it('holds when deletions plus suspensions exceed the limit, not when they reach it', () => {
    const threshold = { count: 500, percent: 20 };
    expect(
      checkDeletionThreshold(threshold, { linkedCount: 100, pendingDeletions: 10, pendingSuspensions: 10 }),
    ).toMatchObject({
      hold: false,
      limit: 20,
      pending: 20,
    });
    const held = checkDeletionThreshold(threshold, {
      linkedCount: 100,
      pendingDeletions: 10,
      pendingSuspensions: 11,
    });
    expect(held).toMatchObject({ hold: true, limit: 20, pending: 21 });
    expect(held.reason).toContain(
      '10 deletions and 11 suspensions exceed the limit of 20 for 100 linked users',
    );
    expect(
      checkDeletionThreshold(threshold, { linkedCount: 5000, pendingDeletions: 501, pendingSuspensions: 0 })
        .hold,
    ).toBe(true);
  });
});

describe('requiredSourceProperties', () => {
  it('always selects id, userPrincipalName, mail, accountEnabled and userType, plus what the default mapping reads', () => {
    expect(requiredSourceProperties(connection())).toEqual(
      [
        'accountEnabled',
        'displayName',
        'givenName',
        'id',
        'mail',
        'surname',
        'userPrincipalName',
        'userType',
      ].sort(),
    );
  });

  it('adds what expressions and filters read, selecting complex properties whole, and drops what is no longer mapped', () => {
    const config = connection({
      attributes: {
        department: 'Default([department], [employeeOrgData.division])',
        costCentre: '[extension_0123456789abcdef0123456789abcdef_costCentre]',
        givenName: null,
        company: { constant: 'Contoso' },
      },
      scope: {
        filters: [
          {
            clauses: [
              { attribute: 'onPremisesExtensionAttributes.extensionAttribute1', operator: 'IS_NOT_NULL' },
            ],
          },
        ],
      },
    });
    const properties = requiredSourceProperties(config);
    expect(properties).toEqual(
      [
        'accountEnabled',
        'department',
        'displayName',
        'employeeOrgData',
        'extension_0123456789abcdef0123456789abcdef_costCentre',
        'id',
        'mail',
        'onPremisesExtensionAttributes',
        'surname',
        'userPrincipalName',
        'userType',
      ].sort(),
    );
    expect(properties).not.toContain('givenName');
  });
});
