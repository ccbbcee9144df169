import { describe, expect, it } from 'vitest';
import { SimulatorError } from './errors.js';
import { groupSize } from './generator.js';
import { IdCodec, IndexPermutation } from './ids.js';
import { USER_PROPERTIES, type UserProperty } from './model.js';
import { userJson } from './serialize.js';
import { SimulatedTenant } from './tenant-model.js';

/** The tenant generator, ids, the change API and random changes, without a server. */

function tenant(users = 2000, groups = 30, seed = 7): SimulatedTenant {
  return new SimulatedTenant({ users, groups, seed });
}

describe('ids', () => {
  it('maps (kind, index) to version-4 GUIDs and back, and rejects GUIDs it did not make', () => {
    const codec = new IdCodec(12345);
    const seen = new Set<string>();
    for (const index of [0, 1, 2, 999, 65_535, 65_536, 999_999, 4_000_000]) {
      for (const kind of ['user', 'group'] as const) {
        const id = codec.encode(kind, index);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(codec.decode(id)).toEqual({ kind, index });
        expect(codec.decode(id.toUpperCase())).toEqual({ kind, index });
        seen.add(id);
      }
    }
    expect(seen.size).toBe(16);
    expect(codec.decode('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(new IdCodec(54321).decode(codec.encode('user', 5))).toBeUndefined();
    expect(codec.decode('not-a-guid')).toBeUndefined();
  });

  it('permutes [0, n) for any n', () => {
    for (const n of [1, 2, 3, 7, 100, 1000, 4097]) {
      const permutation = new IndexPermutation(n, 99);
      const values = Array.from({ length: n }, (_, p) => permutation.at(p));
      expect(new Set(values).size).toBe(n);
      expect(Math.min(...values)).toBe(0);
      expect(Math.max(...values)).toBe(n - 1);
      if (n >= 100) expect(values.slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
  });
});

describe('generated users', () => {
  it('is deterministic for a seed and different for another seed', () => {
    expect(tenant(500, 5, 1).userAt(123)).toEqual(tenant(500, 5, 1).userAt(123));
    expect(
      tenant(500, 5, 1).userAt(123).displayName === tenant(500, 5, 2).userAt(123).displayName &&
        tenant(500, 5, 1).userAt(124).displayName === tenant(500, 5, 2).userAt(124).displayName,
    ).toBe(false);
  });

  it('has about 3% guests, 5% disabled accounts, members without mail and realistic properties', () => {
    const t = tenant(20_000, 2);
    const users = Array.from({ length: 20_000 }, (_, i) => t.userAt(i));
    const guests = users.filter((u) => u.userType === 'Guest');
    const disabled = users.filter((u) => !u.accountEnabled);
    const membersWithoutMail = users.filter((u) => u.userType === 'Member' && u.mail === null);
    expect(guests.length / users.length).toBeGreaterThan(0.02);
    expect(guests.length / users.length).toBeLessThan(0.04);
    expect(disabled.length / users.length).toBeGreaterThan(0.04);
    expect(disabled.length / users.length).toBeLessThan(0.06);
    expect(membersWithoutMail.length).toBeGreaterThan(100);
    for (const guest of guests.slice(0, 50)) {
      expect(guest.userPrincipalName).toMatch(
        new RegExp(`^[a-z0-9.]+_[a-z.]+#EXT#@${t.domain.replace(/\./g, '\\.')}$`),
      );
      expect(guest.mail?.endsWith(t.domain)).toBe(false);
      expect(guest.employeeId).toBeNull();
    }
    const members = users.filter((u) => u.userType === 'Member' && u.givenName !== null);
    for (const member of members.slice(0, 50)) {
      for (const key of [
        'department',
        'companyName',
        'employeeId',
        'officeLocation',
        'city',
        'usageLocation',
      ] as const) {
        expect(member[key]).toEqual(expect.any(String));
      }
    }
    expect(new Set(members.map((u) => u.department)).size).toBeGreaterThan(8);
    expect(users.some((u) => /[^\x20-\x7e]/.test(u.displayName))).toBe(true);
    expect(new Set(users.map((u) => u.userPrincipalName.toLowerCase())).size).toBe(users.length);
  });

  it('resolves users by id and by user principal name, following renames', () => {
    const t = tenant();
    const guestIndex =
      Array.from({ length: 2000 }, (_, i) => i).find((i) => t.userAt(i).userType === 'Guest') ?? -1;
    for (const index of [0, 17, 1999, guestIndex]) {
      const user = t.userAt(index);
      expect(t.resolveUser(user.id)).toBe(index);
      expect(t.resolveUser(user.userPrincipalName.toUpperCase())).toBe(index);
    }
    const user = t.userAt(5);
    t.updateUser(user.id, { userPrincipalName: 'renamed.person@example.org' });
    expect(t.resolveUser('renamed.person@example.org')).toBe(5);
    expect(t.resolveUser(user.userPrincipalName)).toBeUndefined();
    expect(() => t.updateUser(t.userAt(6).id, { userPrincipalName: 'Renamed.Person@example.org' })).toThrow(
      SimulatorError,
    );
  });

  it('serialises users with the fast writer exactly as JSON.stringify would', () => {
    const t = tenant(3000, 2);
    t.updateUser(t.userId(3), { displayName: 'Quote " and back\\slash', jobTitle: null });
    for (let index = 0; index < 3000; index += 7) {
      const user = t.userAt(index);
      const expected = Object.fromEntries(USER_PROPERTIES.map((p) => [p, user[p]]));
      expect(JSON.parse(userJson(t, index, USER_PROPERTIES as UserProperty[]))).toEqual(expected);
    }
    expect(JSON.parse(userJson(t, 3, ['displayName']))).toEqual({ displayName: 'Quote " and back\\slash' });
  });
});

describe('generated groups', () => {
  it('has sizes from 1 to thousands, nesting, and two groups that share a display name', () => {
    const t = tenant(20_000, 60, 11);
    const sizes = t.liveGroupIds().map((id) => t.membersOf(id).length);
    expect(Math.max(...sizes)).toBe(5000);
    expect(Math.min(...sizes)).toBe(1);
    expect(sizes.filter((s) => s < 100).length).toBeGreaterThan(10);
    const nested = t.liveGroupIds().filter((id) => t.membersOf(id).some((m) => t.getGroup(m)));
    expect(nested.length).toBeGreaterThan(0);
    const names = t.liveGroupIds().map((id) => t.getGroup(id)?.displayName);
    expect(new Set(names).size).toBe(names.length - 1);
  });

  it('gives about 120,000 memberships for 100,000 users in 200 groups', () => {
    // The mean of a log-uniform size on [1, 5000] is about 587; the docs quote this figure.
    let total = 0;
    for (let g = 0; g < 200; g++) total += groupSize(1, g, 100_000, 5000);
    expect(total).toBeGreaterThan(90_000);
    expect(total).toBeLessThan(150_000);
  });
});

describe('the change API', () => {
  it('validates properties and ids', () => {
    const t = tenant();
    expect(() => t.updateUser(t.userId(1), { favouriteColour: 'blue' } as never)).toThrow(
      /Invalid user properties/,
    );
    expect(() => t.updateUser('00000000-0000-4000-8000-000000000000', { jobTitle: 'x' })).toThrow(
      /does not exist/,
    );
    expect(() => t.createGroup({ displayName: '' })).toThrow(SimulatorError);
  });

  it('soft-deletes a user out of its groups and restores it into them', () => {
    const t = tenant();
    const groupId = t.liveGroupIds()[0] ?? '';
    const userId = t.membersOf(groupId).find((id) => t.getUser(id)) ?? '';
    const groupsBefore = t.groupsOf(userId);
    t.softDeleteUser(userId);
    expect(t.getUser(userId)).toBeUndefined();
    expect(t.getUserState(userId)).toBe('softDeleted');
    expect(t.membersOf(groupId)).not.toContain(userId);
    t.restoreUser(userId);
    expect(t.groupsOf(userId).sort()).toEqual(groupsBefore.sort());
    t.hardDeleteUser(userId);
    expect(t.getUserState(userId)).toBe('hardDeleted');
    expect(() => t.restoreUser(userId)).toThrow(SimulatorError);
  });

  it('applies a deterministic, realistic mix of random changes and reports each one', () => {
    const a = tenant(5000, 20, 3);
    const b = tenant(5000, 20, 3);
    const changes = a.applyRandomChanges(300, 42);
    expect(changes).toHaveLength(300);
    expect(b.applyRandomChanges(300, 42)).toEqual(changes);
    const kinds = new Set(changes.map((c) => c.op));
    for (const op of [
      'updateUser',
      'addMember',
      'removeMember',
      'createUser',
      'softDeleteUser',
      'hardDeleteUser',
    ]) {
      expect(kinds).toContain(op);
    }
    const lastUpdate = [...changes].reverse().find((c) => c.op === 'updateUser');
    if (lastUpdate?.op === 'updateUser' && a.getUser(lastUpdate.id)) {
      expect(a.getUser(lastUpdate.id)).toMatchObject(lastUpdate.properties);
    }
    for (const change of changes) {
      if (change.op === 'createUser' && a.getUser(change.id)) expect(a.getUserState(change.id)).toBe('live');
    }
    expect(a.stats().userChanges).toBeGreaterThan(0);
  });
});
