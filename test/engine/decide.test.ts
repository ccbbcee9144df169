import { describe, expect, it } from 'vitest';
import type { ConnectionConfigDocument } from '../../shared/config/connection.js';
import { decide } from '../../shared/engine/decide.js';
import { hashMappedRecord } from '../../shared/engine/hash.js';
import { mapSourceUser } from '../../shared/engine/map-user.js';
import {
  ALLOWED_ACTIONS,
  CONFIGURABLE_SITUATIONS,
  type ConfigurableSituation,
} from '../../shared/engine/policy.js';
import type { Decision, DecisionInput, LinkedAppUser, SourceUser } from '../../shared/engine/types.js';
import {
  candidate,
  decisionInput,
  GROUP_ENGINEERING,
  GROUP_SALES,
  linkedUser,
  runContext,
  sourceUser,
} from './factories.js';

function decideWith(input: DecisionInput, overrides: Partial<ConnectionConfigDocument> = {}): Decision {
  return decide(runContext(overrides), input);
}

/** A linked app user holding exactly what the mapping gives `user` now (so nothing has changed). */
function upToDateLink(
  user: SourceUser,
  overrides: Partial<ConnectionConfigDocument> = {},
  extra: Partial<LinkedAppUser> = {},
): LinkedAppUser {
  const { mapped } = mapSourceUser(runContext(overrides), user);
  return linkedUser({
    attributes: mapped.attributes,
    appGroups: mapped.appGroups,
    roles: mapped.roles,
    license: mapped.license,
    ...extra,
  });
}

const ada = (properties = {}, extra: Partial<SourceUser> = {}) =>
  sourceUser(
    {
      userPrincipalName: 'Ada.Lovelace@contoso.com',
      mail: 'Ada.Lovelace@Contoso.com',
      givenName: 'Ada',
      surname: 'Lovelace',
      displayName: 'Ada Lovelace',
      ...properties,
    },
    extra,
  );

describe('decide: situations and their default actions', () => {
  it('ABSENT: in scope, not linked, nobody has the e-mail -> CREATE with every attribute', () => {
    const decision = decideWith(decisionInput(ada()));
    expect(decision).toMatchObject({ situation: 'ABSENT', action: 'CREATE', write: true, appUserId: null });
    expect(decision.reason).toContain('no app user has e-mail ada.lovelace@contoso.com');
    expect(decision.mapped.emailKey).toBe('ada.lovelace@contoso.com');
    expect(decision.mapped.attributes).toEqual({
      userName: 'Ada.Lovelace@contoso.com',
      mail: 'Ada.Lovelace@Contoso.com',
      givenName: 'Ada',
      sn: 'Lovelace',
      displayName: 'Ada Lovelace',
      accountEnabled: true,
    });
    expect(decision.changes).toContainEqual({ attribute: 'sn', before: null, after: 'Lovelace' });
    expect(decision.changes).toHaveLength(6);
  });

  it('ABSENT also when the user has no e-mail to match on', () => {
    const decision = decideWith(decisionInput(ada({ mail: null })), { attributes: { mail: '[mail]' } });
    expect(decision).toMatchObject({ situation: 'ABSENT', action: 'CREATE' });
    expect(decision.mapped.emailKey).toBeNull();
    expect(decision.reason).toContain('no e-mail');
  });

  it('CONFIRMED: linked and unchanged -> UPDATE that writes nothing', () => {
    const user = ada();
    const decision = decideWith(decisionInput(user, { linked: upToDateLink(user) }));
    expect(decision).toMatchObject({
      situation: 'CONFIRMED',
      action: 'UPDATE',
      write: false,
      appUserId: 'app-1',
    });
    expect(decision.changes).toEqual([]);
    expect(decision.licenseChange).toBeNull();
  });

  it('CONFIRMED: linked and changed -> UPDATE with before and after of each changed attribute', () => {
    const before = ada();
    const linked = upToDateLink(before);
    const after = ada({ surname: 'King', displayName: 'Ada King' }, { id: before.id });
    const decision = decideWith(decisionInput(after, { linked }));
    expect(decision).toMatchObject({ situation: 'CONFIRMED', action: 'UPDATE', write: true });
    expect(decision.changes).toEqual([
      { attribute: 'sn', before: 'Lovelace', after: 'King' },
      { attribute: 'displayName', before: 'Ada Lovelace', after: 'Ada King' },
    ]);
  });

  it('CONFIRMED: app groups, roles and licence changes are reported and make a write', () => {
    const overrides: Partial<ConnectionConfigDocument> = {
      licenses: { seats: { pro: 1 } },
      groupMappings: [{ group: { id: GROUP_SALES }, appGroup: 'sales', roles: ['seller'], license: 'pro' }],
    };
    const user = ada({}, { memberOf: [GROUP_SALES] });
    const linked = upToDateLink(ada(), overrides, { appGroups: ['old'], roles: ['seller'] });
    const decision = decideWith(decisionInput(user, { linked, freeSeats: { pro: 1 } }), overrides);
    expect(decision).toMatchObject({ situation: 'CONFIRMED', action: 'UPDATE', write: true, changes: [] });
    expect(decision.appGroupChanges).toEqual({ added: ['sales'], removed: ['old'] });
    expect(decision.roleChanges).toEqual({ added: [], removed: [] });
    expect(decision.licenseChange).toEqual({ before: null, after: 'pro' });
  });

  it('CONFIRMED: a manual suspension is left alone (UPDATE, not REACTIVATE)', () => {
    const user = ada();
    const linked = upToDateLink(user, {}, { status: 'suspended', suspensionReason: 'manual' });
    expect(decideWith(decisionInput(user, { linked }))).toMatchObject({
      situation: 'CONFIRMED',
      action: 'UPDATE',
    });
  });

  it('FOUND: one unlinked app user of this division has the e-mail -> LINK, diffed against it', () => {
    const found = candidate({
      current: {
        appUserId: 'app-found',
        status: 'active',
        suspensionReason: null,
        attributes: { userName: 'ada', mail: 'ada.lovelace@contoso.com', sn: 'Lovelace' },
        appGroups: [],
        roles: [],
        license: null,
      },
    });
    const decision = decideWith(decisionInput(ada(), { emailCandidates: [found] }));
    expect(decision).toMatchObject({
      situation: 'FOUND',
      action: 'LINK',
      write: true,
      appUserId: 'app-found',
    });
    expect(decision.changes.map((change) => change.attribute)).toEqual([
      'userName',
      'mail',
      'givenName',
      'displayName',
      'accountEnabled',
    ]);
    expect(decision.changes[0]).toEqual({
      attribute: 'userName',
      before: 'ada',
      after: 'Ada.Lovelace@contoso.com',
    });
  });

  it('FOUND: an app user already linked to this very source user is re-linked', () => {
    const user = ada();
    const self = candidate({ link: { connectionId: 'contoso', sourceUserId: user.id } });
    expect(decideWith(decisionInput(user, { emailCandidates: [self] }))).toMatchObject({
      situation: 'FOUND',
      action: 'LINK',
    });
  });

  it.each([
    ['another division', { division: 'Fabrikam' }, 'division "Fabrikam"'],
    ['another connection', { link: { connectionId: 'fabrikam', sourceUserId: 'x' } }, 'connection fabrikam'],
    [
      'another Entra user',
      { link: { connectionId: 'contoso', sourceUserId: 'someone-else' } },
      'another Entra user',
    ],
  ])('CONFLICT: the e-mail belongs to an app user of %s -> EXCEPTION', (_, owner, words) => {
    const decision = decideWith(decisionInput(ada(), { emailCandidates: [candidate(owner)] }));
    expect(decision).toMatchObject({
      situation: 'CONFLICT',
      action: 'EXCEPTION',
      write: false,
      appUserId: null,
      relatedAppUserIds: ['app-found'],
    });
    expect(decision.reason).toContain(words);
  });

  it('CONFLICT: a linked user whose new e-mail another app user holds -> EXCEPTION, nothing written', () => {
    const user = ada();
    const decision = decideWith(
      decisionInput(user, {
        linked: upToDateLink(ada()),
        emailCandidates: [candidate({ appUserId: 'app-other' })],
      }),
    );
    expect(decision).toMatchObject({
      situation: 'CONFLICT',
      action: 'EXCEPTION',
      write: false,
      appUserId: 'app-1',
    });
    expect(decision.relatedAppUserIds).toEqual(['app-other']);
  });

  it('CONFIRMED, not CONFLICT, when the only holder of the e-mail is the linked user itself', () => {
    const user = ada();
    const decision = decideWith(
      decisionInput(user, {
        linked: upToDateLink(user),
        emailCandidates: [candidate({ appUserId: 'app-1' })],
      }),
    );
    expect(decision.situation).toBe('CONFIRMED');
  });

  it('AMBIGUOUS: several app users have the e-mail -> EXCEPTION', () => {
    const decision = decideWith(
      decisionInput(ada(), {
        emailCandidates: [candidate({ appUserId: 'a' }), candidate({ appUserId: 'b' })],
      }),
    );
    expect(decision).toMatchObject({
      situation: 'AMBIGUOUS',
      action: 'EXCEPTION',
      relatedAppUserIds: ['a', 'b'],
    });
  });

  it('UNQUALIFIED: linked but out of scope -> SUSPEND for out_of_scope, and no write when already suspended', () => {
    const scope = { groups: [{ id: GROUP_SALES }] };
    const user = ada({}, { memberOf: [GROUP_ENGINEERING] });
    const decision = decideWith(decisionInput(user, { linked: linkedUser() }), { scope });
    expect(decision).toMatchObject({
      situation: 'UNQUALIFIED',
      action: 'SUSPEND',
      suspensionReason: 'out_of_scope',
      write: true,
      appUserId: 'app-1',
      changes: [],
    });
    expect(decision.reason).toContain('not a member of any scope group');
    const suspended = linkedUser({ status: 'suspended', suspensionReason: 'manual' });
    expect(decideWith(decisionInput(user, { linked: suspended }), { scope })).toMatchObject({
      action: 'SUSPEND',
      write: false,
    });
  });

  it('UNQUALIFIED when a linked user is disabled in Entra (disabled accounts are out of scope by default)', () => {
    const decision = decideWith(decisionInput(ada({ accountEnabled: false }), { linked: linkedUser() }));
    expect(decision).toMatchObject({ situation: 'UNQUALIFIED', action: 'SUSPEND' });
  });

  it('SOURCE_IGNORED: out of scope and not linked -> IGNORE', () => {
    const decision = decideWith(decisionInput(ada({ userType: 'Guest' })));
    expect(decision).toMatchObject({ situation: 'SOURCE_IGNORED', action: 'IGNORE', write: false });
  });

  it('SOURCE_SOFT_DELETED: @removed changed -> SUSPEND for source_soft_deleted', () => {
    const decision = decideWith(decisionInput(ada({}, { removal: 'changed' }), { linked: linkedUser() }));
    expect(decision).toMatchObject({
      situation: 'SOURCE_SOFT_DELETED',
      action: 'SUSPEND',
      suspensionReason: 'source_soft_deleted',
      write: true,
    });
  });

  it('SOURCE_DELETED: @removed deleted -> DELETE', () => {
    const decision = decideWith(decisionInput(ada({}, { removal: 'deleted' }), { linked: linkedUser() }));
    expect(decision).toMatchObject({
      situation: 'SOURCE_DELETED',
      action: 'DELETE',
      write: true,
      appUserId: 'app-1',
    });
    expect(decision.reason).toContain('permanently');
  });

  it('SOURCE_DELETED: gone at a full import -> DELETE', () => {
    const decision = decideWith(
      decisionInput(ada({}, { removal: 'missingFromFullImport' }), { linked: linkedUser() }),
    );
    expect(decision).toMatchObject({ situation: 'SOURCE_DELETED', action: 'DELETE' });
    expect(decision.reason).toContain('full import');
  });

  it('a removal wins over scope: a deleted user who is also out of scope is SOURCE_DELETED', () => {
    const decision = decideWith(
      decisionInput(ada({ userType: 'Guest' }, { removal: 'deleted' }), { linked: linkedUser() }),
    );
    expect(decision.situation).toBe('SOURCE_DELETED');
  });

  it('ALL_GONE: removed from Entra and never linked -> IGNORE', () => {
    for (const removal of ['changed', 'deleted', 'missingFromFullImport'] as const) {
      expect(decideWith(decisionInput(ada({}, { removal })))).toMatchObject({
        situation: 'ALL_GONE',
        action: 'IGNORE',
      });
    }
  });

  it.each(['source_soft_deleted', 'out_of_scope', 'source_deleted'] as const)(
    'RESTORED: suspended by the sync (%s) and back in scope -> REACTIVATE',
    (suspensionReason) => {
      const user = ada();
      const linked = upToDateLink(user, {}, { status: 'suspended', suspensionReason });
      const decision = decideWith(decisionInput(user, { linked }));
      expect(decision).toMatchObject({
        situation: 'RESTORED',
        action: 'REACTIVATE',
        write: true,
        appUserId: 'app-1',
      });
    },
  );

  it('RESTORED only for a user that is both back and in scope', () => {
    const linked = linkedUser({ status: 'suspended', suspensionReason: 'source_soft_deleted' });
    expect(decideWith(decisionInput(ada({ accountEnabled: false }), { linked })).situation).toBe(
      'UNQUALIFIED',
    );
    expect(decideWith(decisionInput(ada({}, { removal: 'changed' }), { linked })).situation).toBe(
      'SOURCE_SOFT_DELETED',
    );
  });
});

describe('decide: licence seats', () => {
  const licensed: Partial<ConnectionConfigDocument> = {
    licenses: { seats: { basic: 100, pro: 5 }, default: 'basic' },
    groupMappings: [{ group: { id: GROUP_SALES }, appGroup: 'sales', license: 'pro' }],
  };
  const seller = () => ada({}, { memberOf: [GROUP_SALES] });

  it('NO_SEAT: a new user whose licence pool is full -> EXCEPTION, and the reason names the licence', () => {
    const decision = decideWith(decisionInput(seller(), { freeSeats: { pro: 0, basic: 10 } }), licensed);
    expect(decision).toMatchObject({ situation: 'NO_SEAT', action: 'EXCEPTION', write: false });
    expect(decision.reason).toContain('licence "pro" (from group');
    expect(decision.reason).toContain('CREATE was not carried out');
  });

  it('creates when a seat is free, for the default licence too', () => {
    expect(decideWith(decisionInput(seller(), { freeSeats: { pro: 1 } }), licensed)).toMatchObject({
      situation: 'ABSENT',
      action: 'CREATE',
      mapped: { license: 'pro' },
    });
    const plain = decideWith(decisionInput(ada(), { freeSeats: { basic: 0 } }), licensed);
    expect(plain).toMatchObject({ situation: 'NO_SEAT' });
    expect(plain.reason).toContain('the default licence');
  });

  it('counts a licence missing from freeSeats as full', () => {
    expect(decideWith(decisionInput(seller(), { freeSeats: {} }), licensed).situation).toBe('NO_SEAT');
  });

  it('needs no seat for a linked user who already holds the licence', () => {
    const user = seller();
    const linked = upToDateLink(user, licensed);
    expect(linked.license).toBe('pro');
    expect(decideWith(decisionInput(user, { linked, freeSeats: { pro: 0 } }), licensed).situation).toBe(
      'CONFIRMED',
    );
  });

  it('needs a seat when a linked user moves to another licence', () => {
    const linked = upToDateLink(ada(), licensed);
    expect(linked.license).toBe('basic');
    const decision = decideWith(decisionInput(seller(), { linked, freeSeats: { pro: 0 } }), licensed);
    expect(decision).toMatchObject({ situation: 'NO_SEAT', action: 'EXCEPTION', appUserId: 'app-1' });
    expect(decision.licenseChange).toEqual({ before: 'basic', after: 'pro' });
  });

  it('needs a seat to reactivate a user whose seat was released', () => {
    const user = seller();
    const linked = upToDateLink(user, licensed, {
      status: 'suspended',
      suspensionReason: 'source_soft_deleted',
      license: null,
    });
    const decision = decideWith(decisionInput(user, { linked, freeSeats: { pro: 0 } }), licensed);
    expect(decision.situation).toBe('NO_SEAT');
    expect(decision.reason).toContain('REACTIVATE was not carried out');
  });

  it('needs no seat to link an app user that already holds the licence', () => {
    const holder = candidate({
      current: {
        appUserId: 'app-found',
        status: 'active',
        suspensionReason: null,
        attributes: {},
        appGroups: [],
        roles: [],
        license: 'pro',
      },
    });
    expect(
      decideWith(decisionInput(seller(), { emailCandidates: [holder], freeSeats: {} }), licensed).situation,
    ).toBe('FOUND');
  });

  it('does not look for a seat when the policy would not take one anyway', () => {
    const ignoring = { ...licensed, policy: { actions: { ABSENT: 'IGNORE' as const } } };
    expect(decideWith(decisionInput(seller(), { freeSeats: {} }), ignoring)).toMatchObject({
      situation: 'ABSENT',
      action: 'IGNORE',
    });
  });

  it('does not look for a seat for a user that is not imported (CONFLICT)', () => {
    const decision = decideWith(
      decisionInput(seller(), { emailCandidates: [candidate({ division: 'Other' })], freeSeats: {} }),
      licensed,
    );
    expect(decision.situation).toBe('CONFLICT');
  });
});

/** A source user and app state that lands in each configurable situation. */
const SCENARIOS: Record<
  ConfigurableSituation,
  { input: () => DecisionInput; overrides?: Partial<ConnectionConfigDocument> }
> = {
  ABSENT: { input: () => decisionInput(ada()) },
  CONFIRMED: {
    input: () => {
      const user = ada({ surname: 'King' });
      return decisionInput(user, { linked: upToDateLink(ada()) });
    },
  },
  FOUND: { input: () => decisionInput(ada(), { emailCandidates: [candidate()] }) },
  CONFLICT: { input: () => decisionInput(ada(), { emailCandidates: [candidate({ division: 'Fabrikam' })] }) },
  AMBIGUOUS: {
    input: () =>
      decisionInput(ada(), {
        emailCandidates: [candidate({ appUserId: 'a' }), candidate({ appUserId: 'b' })],
      }),
  },
  UNQUALIFIED: { input: () => decisionInput(ada({ userType: 'Guest' }), { linked: linkedUser() }) },
  SOURCE_SOFT_DELETED: {
    input: () => decisionInput(ada({}, { removal: 'changed' }), { linked: linkedUser() }),
  },
  SOURCE_DELETED: { input: () => decisionInput(ada({}, { removal: 'deleted' }), { linked: linkedUser() }) },
  RESTORED: {
    input: () => {
      const user = ada();
      return decisionInput(user, {
        linked: upToDateLink(
          ada({ surname: 'X' }),
          {},
          { status: 'suspended', suspensionReason: 'out_of_scope' },
        ),
      });
    },
  },
  NO_SEAT: {
    input: () => decisionInput(ada(), { freeSeats: { basic: 0 } }),
    overrides: { licenses: { seats: { basic: 1 }, default: 'basic' } },
  },
};

/** Whether carrying out each action for the scenarios above changes anything stored. */
const WRITES: Record<string, boolean> = {
  CREATE: true,
  UPDATE: true,
  LINK: true,
  UNLINK: true,
  SUSPEND: true,
  REACTIVATE: true,
  DELETE: true,
  EXCEPTION: false,
  IGNORE: false,
};

describe('decide: every allowed policy override', () => {
  const cases = CONFIGURABLE_SITUATIONS.flatMap((situation) =>
    ALLOWED_ACTIONS[situation].map((action, index) => ({ situation, action, isDefault: index === 0 })),
  );

  it('covers every configurable situation with a scenario that lands in it by default', () => {
    for (const situation of CONFIGURABLE_SITUATIONS) {
      const scenario = SCENARIOS[situation];
      expect(decideWith(scenario.input(), scenario.overrides).situation, situation).toBe(situation);
    }
  });

  it.each(cases)('$situation -> $action', ({ situation, action, isDefault }) => {
    const scenario = SCENARIOS[situation];
    const overrides = { ...scenario.overrides, policy: { actions: { [situation]: action } } };
    const decision = decideWith(scenario.input(), overrides);
    expect(decision.situation).toBe(situation);
    expect(decision.action).toBe(action);
    expect(decision.write).toBe(WRITES[action]);
    expect(decision.reason).toContain(`Action: ${action}`);
    expect(decision.reason.includes('set by policy')).toBe(!isDefault);
    expect(decision.suspensionReason !== null).toBe(action === 'SUSPEND');
  });

  it('records why a user was suspended, so that only the sync’s own suspensions are undone', () => {
    const suspendedFor = (situation: 'UNQUALIFIED' | 'SOURCE_SOFT_DELETED' | 'SOURCE_DELETED') =>
      decideWith(SCENARIOS[situation].input(), { policy: { actions: { [situation]: 'SUSPEND' } } })
        .suspensionReason;
    expect(suspendedFor('UNQUALIFIED')).toBe('out_of_scope');
    expect(suspendedFor('SOURCE_SOFT_DELETED')).toBe('source_soft_deleted');
    expect(suspendedFor('SOURCE_DELETED')).toBe('source_deleted');
  });
});

describe('decide: hash', () => {
  it('writes nothing for an unchanged user even when the stored attributes are in another order', () => {
    const user = ada();
    const { mapped } = mapSourceUser(runContext(), user);
    const reversed = Object.fromEntries(Object.entries(mapped.attributes).reverse());
    const record = { attributes: reversed, appGroups: [], roles: [], license: null };
    const linked = linkedUser({ ...record, hash: hashMappedRecord(record) });
    expect(decideWith(decisionInput(user, { linked }))).toMatchObject({
      situation: 'CONFIRMED',
      write: false,
    });
  });

  it('writes when the stored hash is stale even though the attributes compare equal', () => {
    const user = ada();
    const linked = upToDateLink(user, {}, { hash: 'v0:stale' });
    expect(decideWith(decisionInput(user, { linked }))).toMatchObject({
      action: 'UPDATE',
      write: true,
      changes: [],
    });
  });
});
