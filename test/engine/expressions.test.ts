import { describe, expect, it } from 'vitest';
import {
  evaluateExpression,
  parseExpression,
  referencedPaths,
  stripGuestSuffix,
  type Expression,
} from '../../shared/engine/expressions.js';
import type { SourceProperties } from '../../shared/engine/types.js';

function parsed(text: string): Expression {
  const result = parseExpression(text);
  if (!result.ok) throw new Error(`expected ${text} to parse, got ${result.message} at ${result.position}`);
  return result.expression;
}

function evaluate(text: string, properties: SourceProperties): unknown {
  return evaluateExpression(parsed(text), properties);
}

function parseError(text: string): { message: string; position: number } {
  const result = parseExpression(text);
  if (result.ok) throw new Error(`expected ${text} to fail`);
  return { message: result.message, position: result.position };
}

describe('parseExpression', () => {
  it('parses attributes, text and nested calls into a tree', () => {
    expect(parsed('Coalesce([mail], ToLower("X"))')).toEqual({
      kind: 'call',
      name: 'Coalesce',
      position: 1,
      args: [
        { kind: 'attribute', path: 'mail', position: 10 },
        { kind: 'call', name: 'ToLower', position: 18, args: [{ kind: 'text', value: 'X', position: 26 }] },
      ],
    });
  });

  it('accepts function names in any case and the short forms Lower and Upper', () => {
    expect(parsed('coalesce([mail])')).toMatchObject({ name: 'Coalesce' });
    expect(parsed('lower([mail])')).toMatchObject({ name: 'ToLower' });
    expect(parsed('UPPER([mail])')).toMatchObject({ name: 'ToUpper' });
  });

  it('reads escaped quotes and backslashes in text', () => {
    expect(parsed('"Company \\"Contoso\\" \\\\ HQ"')).toMatchObject({
      kind: 'text',
      value: 'Company "Contoso" \\ HQ',
    });
  });

  it('allows white space between tokens', () => {
    expect(
      evaluate('  Join ( " " ,  [givenName] , [surname] )  ', { givenName: 'Ada', surname: 'Lovelace' }),
    ).toBe('Ada Lovelace');
  });

  it.each([
    ['', 1, 'empty'],
    ['Coalesce([mail] [userPrincipalName])', 17, 'expected "," or ")"'],
    ['Coalesce([mail]', 16, 'not closed'],
    ['[mail', 1, 'not closed by "]"'],
    ['[]', 1, 'names no attribute'],
    ['"abc', 1, 'no closing quote'],
    ['Join(" ", [givenName]) x', 24, 'after the end'],
    ['Frobnicate([mail])', 1, 'unknown function "Frobnicate"'],
    ['Germany', 8, 'expected "(" after "Germany"'],
    ['ToLower([mail], [surname])', 1, 'ToLower takes 1 argument'],
    ['Replace([mail], "a")', 1, 'Replace takes 3 arguments'],
    ['Join(",")', 1, 'at least 2 arguments'],
    ['Default([mail])', 1, 'Default takes 2 arguments'],
    ['Coalesce()', 1, 'at least 1 arguments'],
    ['Coalesce([mial])', 10, 'unknown user property "mial"; did you mean "mail"?'],
    ['[employeeOrgData]', 1, 'is an object'],
    ['[mail.address]', 1, 'has no fields'],
    ['Coalesce([mail], )', 18, 'expected a function'],
    ['Coalesce(,[mail])', 10, 'expected a function'],
    ['Coalesce(', 10, 'ends where a value was expected'],
  ])('rejects %j at position %i (%s)', (text, position, message) => {
    const error = parseError(text);
    expect(error.position).toBe(position);
    expect(error.message).toContain(message);
  });

  it('limits nesting so that a hostile document cannot exhaust the stack', () => {
    const deep = `${'ToLower('.repeat(40)}[mail]${')'.repeat(40)}`;
    expect(parseError(deep).message).toContain('nested more than');
    const fine = `${'ToLower('.repeat(10)}[mail]${')'.repeat(10)}`;
    expect(parseExpression(fine).ok).toBe(true);
  });

  it('accepts complex property fields and directory extensions', () => {
    expect(parsed('[employeeOrgData.division]')).toMatchObject({ path: 'employeeOrgData.division' });
    expect(parsed('[onPremisesExtensionAttributes.extensionAttribute15]')).toMatchObject({
      kind: 'attribute',
    });
    expect(parsed('[extension_0123456789abcdef0123456789abcdef_costCentre]')).toMatchObject({
      kind: 'attribute',
    });
  });
});

describe('evaluateExpression', () => {
  const ada: SourceProperties = {
    mail: null,
    userPrincipalName: 'Ada.Lovelace@Contoso.com',
    givenName: 'Ada',
    surname: 'Lovelace',
    accountEnabled: false,
    otherMails: ['ada@home.example', 'countess@example.org'],
    employeeOrgData: { division: 'Analytical Engines', costCenter: null },
  };

  it('copies a property with its type, and reads a missing one as null', () => {
    expect(evaluate('[accountEnabled]', ada)).toBe(false);
    expect(evaluate('[otherMails]', ada)).toEqual(['ada@home.example', 'countess@example.org']);
    expect(evaluate('[jobTitle]', ada)).toBeNull();
    expect(evaluate('[employeeOrgData.division]', ada)).toBe('Analytical Engines');
    expect(evaluate('[employeeOrgData.costCenter]', ada)).toBeNull();
    expect(evaluate('[employeeOrgData.division]', {})).toBeNull();
  });

  it('Coalesce returns the first value that is neither null nor empty', () => {
    expect(evaluate('Coalesce([mail], [userPrincipalName])', ada)).toBe('Ada.Lovelace@Contoso.com');
    expect(evaluate('Coalesce([mail], [userPrincipalName])', { ...ada, mail: 'ada@contoso.com' })).toBe(
      'ada@contoso.com',
    );
    expect(evaluate('Coalesce([mail], [userPrincipalName])', { ...ada, mail: '' })).toBe(
      'Ada.Lovelace@Contoso.com',
    );
    expect(evaluate('Coalesce([mail], [jobTitle])', ada)).toBeNull();
    expect(evaluate('Coalesce([businessPhones], "none")', { businessPhones: [] })).toBe('none');
  });

  it('ToLower and ToUpper change case, keep null, and map multi-valued properties', () => {
    expect(evaluate('ToLower([userPrincipalName])', ada)).toBe('ada.lovelace@contoso.com');
    expect(evaluate('ToUpper([givenName])', ada)).toBe('ADA');
    expect(evaluate('ToLower([mail])', ada)).toBeNull();
    expect(evaluate('ToUpper([otherMails])', ada)).toEqual(['ADA@HOME.EXAMPLE', 'COUNTESS@EXAMPLE.ORG']);
    expect(evaluate('ToUpper([accountEnabled])', ada)).toBe('FALSE');
  });

  it('Join skips empty values, flattens multi-valued ones, and gives null for nothing', () => {
    expect(evaluate('Join(" ", [givenName], [jobTitle], [surname])', ada)).toBe('Ada Lovelace');
    expect(evaluate('Join("; ", [otherMails])', ada)).toBe('ada@home.example; countess@example.org');
    expect(evaluate('Join(",", [mail], [jobTitle])', ada)).toBeNull();
    expect(evaluate('Join([jobTitle], [givenName], [surname])', ada)).toBe('AdaLovelace');
  });

  it('Replace replaces every literal occurrence, case-sensitively', () => {
    expect(evaluate('Replace([userPrincipalName], "Contoso", "Fabrikam")', ada)).toBe(
      'Ada.Lovelace@Fabrikam.com',
    );
    expect(evaluate('Replace("a.b.c", ".", "")', ada)).toBe('abc');
    expect(evaluate('Replace("a.b.c", ".", [jobTitle])', ada)).toBe('abc');
    expect(evaluate('Replace([userPrincipalName], "contoso", "x")', ada)).toBe('Ada.Lovelace@Contoso.com');
    expect(evaluate('Replace([mail], "a", "b")', ada)).toBeNull();
    expect(evaluate('Replace("abc", "", "x")', ada)).toBe('abc');
    expect(evaluate('Replace("a+b", "+", "$&$&")', ada)).toBe('a$&$&b');
  });

  it('Default gives the fallback only for an empty value', () => {
    expect(evaluate('Default([jobTitle], "Staff")', ada)).toBe('Staff');
    expect(evaluate('Default([givenName], "Staff")', ada)).toBe('Ada');
    expect(evaluate('Default([mail], [jobTitle])', ada)).toBeNull();
    expect(evaluate('Default([accountEnabled], "yes")', ada)).toBe(false);
  });

  it('StripGuestSuffix turns a guest UPN back into the home address', () => {
    const guest = { userPrincipalName: 'grace.hopper_navy.mil#EXT#@contoso.onmicrosoft.com' };
    expect(evaluate('StripGuestSuffix([userPrincipalName])', guest)).toBe('grace.hopper@navy.mil');
    expect(
      evaluate('ToLower(StripGuestSuffix([userPrincipalName]))', {
        userPrincipalName: 'Joe_Bloggs_Fabrikam.COM#ext#@contoso.onmicrosoft.com',
      }),
    ).toBe('joe_bloggs@fabrikam.com');
    expect(evaluate('StripGuestSuffix([userPrincipalName])', ada)).toBe('Ada.Lovelace@Contoso.com');
    expect(evaluate('StripGuestSuffix([mail])', ada)).toBeNull();
  });

  it('referencedPaths lists each property once, in order', () => {
    expect(referencedPaths(parsed('Coalesce([mail], ToLower([userPrincipalName]), [mail], "x")'))).toEqual([
      'mail',
      'userPrincipalName',
    ]);
    expect(referencedPaths(parsed('"constant"'))).toEqual([]);
  });
});

describe('stripGuestSuffix', () => {
  it.each([
    ['alice_contoso.com#EXT#@fabrikam.onmicrosoft.com', 'alice@contoso.com'],
    ['first_last_contoso.co.uk#EXT#@fabrikam.onmicrosoft.com', 'first_last@contoso.co.uk'],
    ['alice@contoso.com', 'alice@contoso.com'],
    ['nounderscore#EXT#@fabrikam.onmicrosoft.com', 'nounderscore#EXT#@fabrikam.onmicrosoft.com'],
    ['trailing_#EXT#@fabrikam.onmicrosoft.com', 'trailing_#EXT#@fabrikam.onmicrosoft.com'],
  ])('%s -> %s', (input, expected) => {
    expect(stripGuestSuffix(input)).toBe(expected);
  });
});
