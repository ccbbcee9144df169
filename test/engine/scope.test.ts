import { describe, expect, it } from 'vitest';
import type { ConnectionConfigDocument } from '../../shared/config/connection.js';
import { filterClauseSchema, type FilterClause } from '../../shared/config/scope-schema.js';
import { mapSourceUser } from '../../shared/engine/map-user.js';
import { evaluateClause, type ScopeResult } from '../../shared/engine/scope.js';
import type { JsonValue, SourceUser } from '../../shared/engine/types.js';
import {
  GROUP_ALL_STAFF,
  GROUP_ENGINEERING,
  GROUP_SALES,
  GROUP_SALES_EMEA,
  runContext,
  sourceUser,
} from './factories.js';

function clause(input: Record<string, unknown>): FilterClause {
  return filterClauseSchema.parse(input);
}

function holds(input: Record<string, unknown>, value: JsonValue | undefined): boolean {
  const properties = value === undefined ? {} : { [String(input['attribute'])]: value };
  return evaluateClause(clause(input), properties);
}

type ScopeDocument = ConnectionConfigDocument['scope'];

function scopeOf(scope: ScopeDocument, user: SourceUser): ScopeResult {
  return mapSourceUser(runContext({ scope }), user).scope;
}

/** Why the user is out of scope, or 'in scope'. */
function reasonOf(result: ScopeResult): string {
  return result.inScope ? 'in scope' : result.reason;
}

describe('scoping filter clauses', () => {
  it('EQUALS matches exactly and case-sensitively', () => {
    const equals = { attribute: 'department', operator: 'EQUALS', value: 'Sales' };
    expect(holds(equals, 'Sales')).toBe(true);
    expect(holds(equals, 'sales')).toBe(false);
    expect(holds(equals, 'Sales ')).toBe(false);
    expect(holds(equals, null)).toBe(false);
  });

  it('NOT_EQUALS is false for an empty value, as in Entra', () => {
    const notEquals = { attribute: 'department', operator: 'NOT_EQUALS', value: 'Sales' };
    expect(holds(notEquals, 'Engineering')).toBe(true);
    expect(holds(notEquals, 'sales')).toBe(true);
    expect(holds(notEquals, 'Sales')).toBe(false);
    expect(holds(notEquals, null)).toBe(false);
    expect(holds(notEquals, undefined)).toBe(false);
    expect(holds(notEquals, '')).toBe(false);
  });

  it('IS_NULL and IS_NOT_NULL treat missing, null and empty alike', () => {
    const isNull = { attribute: 'jobTitle', operator: 'IS_NULL' };
    const isNotNull = { attribute: 'jobTitle', operator: 'IS_NOT_NULL' };
    for (const empty of [null, '', undefined]) {
      expect(holds(isNull, empty)).toBe(true);
      expect(holds(isNotNull, empty)).toBe(false);
    }
    expect(holds(isNull, 'Engineer')).toBe(false);
    expect(holds(isNotNull, 'Engineer')).toBe(true);
  });

  it('STARTS_WITH, ENDS_WITH and INCLUDES are case-sensitive', () => {
    const starts = { attribute: 'userPrincipalName', operator: 'STARTS_WITH', value: 'admin' };
    expect(holds(starts, 'admin.ada@contoso.com')).toBe(true);
    expect(holds(starts, 'Admin.ada@contoso.com')).toBe(false);
    expect(holds(starts, 'ada.admin@contoso.com')).toBe(false);
    const ends = { attribute: 'userPrincipalName', operator: 'ENDS_WITH', value: '@contoso.com' };
    expect(holds(ends, 'ada@contoso.com')).toBe(true);
    expect(holds(ends, 'ada@CONTOSO.com')).toBe(false);
    const includes = { attribute: 'jobTitle', operator: 'INCLUDES', value: 'Engineer' };
    expect(holds(includes, 'Senior Engineer II')).toBe(true);
    expect(holds(includes, 'senior engineer')).toBe(false);
  });

  it('REGEX_MATCH matches anywhere, accepts patterns from the Entra docs, and is false on empty', () => {
    const regex = { attribute: 'userPrincipalName', operator: 'REGEX_MATCH', value: '.*\\@contoso.com' };
    expect(holds(regex, 'ada@contoso.com')).toBe(true);
    expect(holds(regex, 'ada@fabrikam.com')).toBe(false);
    const digits = { attribute: 'employeeId', operator: 'REGEX_MATCH', value: '^(1[0-9]{6})$' };
    expect(holds(digits, '1000123')).toBe(true);
    expect(holds(digits, '2000123')).toBe(false);
    expect(holds(digits, null)).toBe(false);
  });

  it('NOT_REGEX_MATCH is the negation, but still false on empty', () => {
    const notRegex = {
      attribute: 'userPrincipalName',
      operator: 'NOT_REGEX_MATCH',
      value: '@contoso\\.com$',
    };
    expect(holds(notRegex, 'ada@fabrikam.com')).toBe(true);
    expect(holds(notRegex, 'ada@contoso.com')).toBe(false);
    expect(holds(notRegex, null)).toBe(false);
  });

  it('IN matches one of the listed values exactly', () => {
    const inList = { attribute: 'country', operator: 'IN', value: ['DE', 'FR'] };
    expect(holds(inList, 'DE')).toBe(true);
    expect(holds(inList, 'FR')).toBe(true);
    expect(holds(inList, 'de')).toBe(false);
    expect(holds(inList, 'GB')).toBe(false);
    expect(holds(inList, null)).toBe(false);
  });

  it('IS_TRUE and IS_FALSE need a boolean', () => {
    const isTrue = { attribute: 'onPremisesSyncEnabled', operator: 'IS_TRUE' };
    const isFalse = { attribute: 'onPremisesSyncEnabled', operator: 'IS_FALSE' };
    expect(holds(isTrue, true)).toBe(true);
    expect(holds(isTrue, false)).toBe(false);
    expect(holds(isFalse, false)).toBe(true);
    expect(holds(isFalse, true)).toBe(false);
    expect(holds(isTrue, 'true')).toBe(false);
    expect(holds(isFalse, null)).toBe(false);
  });

  it('GREATER_THAN and GREATER_THAN_OR_EQUALS compare integers, including digit strings', () => {
    const greater = { attribute: 'employeeId', operator: 'GREATER_THAN', value: 1000 };
    const greaterOrEqual = { attribute: 'employeeId', operator: 'GREATER_THAN_OR_EQUALS', value: 1000 };
    expect(holds(greater, '1001')).toBe(true);
    expect(holds(greater, '1000')).toBe(false);
    expect(holds(greaterOrEqual, '1000')).toBe(true);
    expect(holds(greaterOrEqual, 999)).toBe(false);
    expect(holds(greater, 'E1001')).toBe(false);
    expect(holds(greater, '1001.5')).toBe(false);
    expect(holds(greater, null)).toBe(false);
  });

  it('reads fields of complex properties', () => {
    const division = { attribute: 'employeeOrgData.division', operator: 'EQUALS', value: 'Retail' };
    expect(
      evaluateClause(clause(division), { employeeOrgData: { division: 'Retail', costCenter: null } }),
    ).toBe(true);
    expect(evaluateClause(clause(division), { employeeOrgData: null })).toBe(false);
  });
});

describe('scope', () => {
  it('takes the whole tenant when no groups or filters are given', () => {
    expect(scopeOf(undefined, sourceUser())).toEqual({ inScope: true });
  });

  it('ANDs the clauses within a filter', () => {
    const scope: ScopeDocument = {
      filters: [
        {
          clauses: [
            { attribute: 'department', operator: 'EQUALS', value: 'Sales' },
            { attribute: 'country', operator: 'EQUALS', value: 'DE' },
          ],
        },
      ],
    };
    expect(scopeOf(scope, sourceUser({ department: 'Sales', country: 'DE' })).inScope).toBe(true);
    expect(scopeOf(scope, sourceUser({ department: 'Sales', country: 'FR' })).inScope).toBe(false);
    expect(scopeOf(scope, sourceUser({ department: 'Engineering', country: 'DE' })).inScope).toBe(false);
  });

  it('ORs the filters, and names them in the reason when none passes', () => {
    const scope: ScopeDocument = {
      filters: [
        {
          name: 'German sales',
          clauses: [
            { attribute: 'department', operator: 'EQUALS', value: 'Sales' },
            { attribute: 'country', operator: 'EQUALS', value: 'DE' },
          ],
        },
        { clauses: [{ attribute: 'jobTitle', operator: 'EQUALS', value: 'CEO' }] },
      ],
    };
    expect(scopeOf(scope, sourceUser({ department: 'Sales', country: 'DE' })).inScope).toBe(true);
    expect(scopeOf(scope, sourceUser({ jobTitle: 'CEO', country: 'US' })).inScope).toBe(true);
    const out = scopeOf(scope, sourceUser({ department: 'Sales', country: 'US' }));
    expect(out).toEqual({ inScope: false, reason: 'passes none of the scoping filters (German sales, #2)' });
  });

  it('excludes guests unless the connection includes them', () => {
    const guest = sourceUser({
      userType: 'Guest',
      userPrincipalName: 'x_fabrikam.com#EXT#@contoso.onmicrosoft.com',
    });
    expect(scopeOf(undefined, guest)).toEqual({
      inScope: false,
      reason: 'is a guest and the connection does not include guests',
    });
    expect(scopeOf({ includeGuests: true }, guest).inScope).toBe(true);
  });

  it('excludes disabled accounts unless the connection includes them', () => {
    const disabled = sourceUser({ accountEnabled: false });
    expect(reasonOf(scopeOf(undefined, disabled))).toContain('disabled');
    expect(scopeOf({ includeDisabled: true }, disabled).inScope).toBe(true);
    expect(scopeOf(undefined, sourceUser({ accountEnabled: null })).inScope).toBe(true);
  });

  it('scopes by group id and by exact display name', () => {
    const member = sourceUser({}, { memberOf: [GROUP_SALES] });
    const other = sourceUser({}, { memberOf: [GROUP_ENGINEERING] });
    const byId = { groups: [{ id: GROUP_SALES.toUpperCase() }] };
    expect(scopeOf(byId, member).inScope).toBe(true);
    expect(scopeOf(byId, other)).toEqual({ inScope: false, reason: 'is not a member of any scope group' });
    const byName = { groups: [{ displayName: 'Sales' }, { displayName: 'Engineering' }] };
    expect(scopeOf(byName, member).inScope).toBe(true);
    expect(scopeOf(byName, other).inScope).toBe(true);
    expect(scopeOf(byName, sourceUser({}, { memberOf: [] })).inScope).toBe(false);
  });

  it('counts nested membership only when nestedGroups is on', () => {
    const emeaSeller = sourceUser({}, { memberOf: [GROUP_SALES_EMEA] });
    expect(scopeOf({ groups: [{ displayName: 'Sales' }] }, emeaSeller).inScope).toBe(false);
    expect(scopeOf({ groups: [{ displayName: 'Sales' }], nestedGroups: true }, emeaSeller).inScope).toBe(
      true,
    );
    // Two levels up.
    expect(scopeOf({ groups: [{ id: GROUP_ALL_STAFF }], nestedGroups: true }, emeaSeller).inScope).toBe(true);
    expect(scopeOf({ groups: [{ id: GROUP_ENGINEERING }], nestedGroups: true }, emeaSeller)).toEqual({
      inScope: false,
      reason: 'is not a member of any scope group (directly or through nesting)',
    });
  });

  it('checks guests, then disabled, then groups, then filters, and reports the first failure', () => {
    const scope: ScopeDocument = {
      groups: [{ displayName: 'Sales' }],
      filters: [{ clauses: [{ attribute: 'department', operator: 'IS_NOT_NULL' }] }],
    };
    const everythingWrong = sourceUser({ userType: 'Guest', accountEnabled: false });
    expect(reasonOf(scopeOf(scope, everythingWrong))).toContain('guest');
    expect(reasonOf(scopeOf({ ...scope, includeGuests: true }, everythingWrong))).toContain('disabled');
    expect(
      reasonOf(scopeOf({ ...scope, includeGuests: true, includeDisabled: true }, everythingWrong)),
    ).toContain('scope group');
    const inGroup = sourceUser({}, { memberOf: [GROUP_SALES] });
    expect(reasonOf(scopeOf(scope, inGroup))).toContain('scoping filters');
  });
});
