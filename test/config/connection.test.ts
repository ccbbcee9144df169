import { describe, expect, it } from 'vitest';
import { resolveCloud } from '../../shared/graph/clouds.js';
import {
  parseConnectionConfig,
  validateConnectionConfig,
  type ConnectionConfigDocument,
} from '../../shared/config/connection.js';
import { parseCron } from '../../shared/config/schedule.js';
import { isEntraSyncError } from '../../shared/errors.js';
import { DEFAULT_ATTRIBUTE_EXPRESSIONS } from '../../shared/engine/mapping.js';
import { ACTIONS, ALLOWED_ACTIONS, CONFIGURABLE_SITUATIONS } from '../../shared/engine/policy.js';
import { connectionDocument } from '../engine/factories.js';

/** The issues of an invalid document as "path: message" lines. */
function issuesOf(document: unknown): string[] {
  const result = validateConnectionConfig(document);
  if (result.ok) throw new Error('expected the document to be invalid');
  return result.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

function withChanges(changes: Record<string, unknown>): unknown {
  return { ...connectionDocument(), ...changes };
}

describe('connection document: the minimum and its defaults', () => {
  it('accepts the minimal document and fills in the defaults', () => {
    const config = parseConnectionConfig(connectionDocument());
    expect(config).toMatchObject({
      id: 'contoso',
      enabled: true,
      cloud: 'global',
      scope: { groups: [], nestedGroups: false, filters: [], includeGuests: false, includeDisabled: false },
      groupMappings: [],
      licenses: { seats: {} },
      policy: { actions: {}, deletionThreshold: { count: 500, percent: 20 } },
    });
    expect(config.schedule).toBeUndefined();
    expect(Object.keys(config.attributes)).toEqual(Object.keys(DEFAULT_ATTRIBUTE_EXPRESSIONS));
    expect(
      Object.values(config.attributes).map((source) => source.kind === 'expression' && source.text),
    ).toEqual(Object.values(DEFAULT_ATTRIBUTE_EXPRESSIONS));
  });

  it('throws a BadRequestError that lists every problem with its path', () => {
    let thrown: unknown;
    try {
      parseConnectionConfig({ id: 'Bad Id', tenantId: 'not a tenant', clientId: 'x', division: '' });
    } catch (error) {
      thrown = error;
    }
    expect(isEntraSyncError(thrown) && thrown.code).toBe('bad_request');
    const message = (thrown as Error).message;
    for (const path of ['id:', 'tenantId:', 'clientId:', 'division:']) expect(message).toContain(path);
  });

  it.each([
    'contoso.onmicrosoft.com',
    'contoso.com',
    'sub.contoso.co.uk',
    '11111111-2222-3333-4444-555555555555',
  ])('accepts the tenant %s', (tenantId) => {
    expect(validateConnectionConfig(withChanges({ tenantId })).ok).toBe(true);
  });

  it.each(['contoso', 'https://contoso.com', 'contoso..com', ''])('rejects the tenant %j', (tenantId) => {
    expect(issuesOf(withChanges({ tenantId }))).toEqual([
      'tenantId: must be the tenant id (a GUID) or one of its verified domains, e.g. contoso.onmicrosoft.com',
    ]);
  });
});

describe('connection document: unknown keys', () => {
  it.each([
    [{ tenantID: 'x' }, 'tenantID'],
    [{ scope: { nestedGroup: true } }, 'scope.nestedGroup'],
    [
      { scope: { filters: [{ clauses: [{ attribute: 'department', operator: 'IS_NULL', valeu: 'x' }] }] } },
      'scope.filters[0].clauses[0].valeu',
    ],
    [{ policy: { action: {} } }, 'policy.action'],
    [{ policy: { actions: { DELETED: 'DELETE' } } }, 'policy.actions.DELETED'],
    [{ policy: { deletionThreshold: { count: 1, percentage: 5 } } }, 'policy.deletionThreshold.percentage'],
    [{ licenses: { seats: {}, defaultLicense: 'x' } }, 'licenses.defaultLicense'],
    [
      {
        groupMappings: [
          { group: { id: '11111111-2222-3333-4444-555555555555' }, appGroup: 'a', role: ['x'] },
        ],
      },
      'groupMappings[0].role',
    ],
    [
      { cloud: { authorityHost: 'https://a.example', graphBaseUrl: 'https://b.example', graph: 'x' } },
      'cloud.graph',
    ],
    [{ schedule: { everyMinutes: 5, timezone: 'UTC' } }, 'schedule.timezone'],
  ])('rejects %j, naming the path %s', (changes, path) => {
    expect(issuesOf(withChanges(changes))).toContain(
      `${path}: unknown key; check the spelling (unknown keys are rejected so that typos cannot pass silently)`,
    );
  });
});

describe('connection document: credentials', () => {
  it('takes a client secret or a certificate as a reference to an app setting or a Key Vault secret', () => {
    for (const clientSecret of [{ env: 'CONTOSO_SECRET' }, { keyVault: 'contoso-secret' }]) {
      expect(validateConnectionConfig(withChanges({ clientSecret })).ok).toBe(true);
    }
    const withCertificate = {
      ...connectionDocument(),
      clientSecret: undefined,
      certificate: { keyVault: 'contoso-cert' },
    };
    expect(validateConnectionConfig(withCertificate).ok).toBe(true);
  });

  it('refuses the secret itself', () => {
    expect(issuesOf(withChanges({ clientSecret: 'hunter2~secretvalue' }))).toEqual([
      'clientSecret: must be a reference, { "env": "NAME" } or { "keyVault": "secret-name" }, never the secret itself',
    ]);
  });

  it('explains a bad reference name', () => {
    expect(issuesOf(withChanges({ clientSecret: { env: 'MY-SECRET' } }))).toEqual([
      'clientSecret.env: must be an environment variable name',
    ]);
    expect(issuesOf(withChanges({ certificate: { keyVault: 'my_cert' }, clientSecret: undefined }))).toEqual([
      'certificate.keyVault: must be a Key Vault secret name: letters, digits and dashes',
    ]);
  });

  it('needs exactly one of clientSecret and certificate', () => {
    expect(issuesOf(withChanges({ clientSecret: undefined }))).toEqual([
      'clientSecret: give clientSecret or certificate',
    ]);
    expect(issuesOf(withChanges({ certificate: { env: 'CERT' } }))).toEqual([
      'certificate: give clientSecret or certificate, not both',
    ]);
  });
});

describe('connection document: cloud', () => {
  it.each([
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com'],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'],
    ['usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
    ['china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'],
  ] as const)('%s has its own endpoints', (cloud, authorityHost, graphBaseUrl) => {
    const config = parseConnectionConfig(withChanges({ cloud }));
    expect(resolveCloud(config.cloud)).toMatchObject({ authorityHost, graphBaseUrl });
  });

  it('takes explicit https endpoints, without trailing slashes', () => {
    const cloud = { authorityHost: 'https://localhost:8443/', graphBaseUrl: 'https://127.0.0.1:8443' };
    expect(resolveCloud(parseConnectionConfig(withChanges({ cloud })).cloud)).toMatchObject({
      authorityHost: 'https://localhost:8443',
      graphBaseUrl: 'https://127.0.0.1:8443',
    });
  });

  it('rejects plain http and unknown cloud names', () => {
    expect(
      issuesOf(
        withChanges({ cloud: { authorityHost: 'http://localhost', graphBaseUrl: 'https://x.example' } }),
      ),
    ).toEqual(['cloud.authorityHost: must be an absolute https:// URL']);
    expect(issuesOf(withChanges({ cloud: 'germany' }))[0]).toMatch(
      /^cloud: must be one of global, usgov, usgovdod, china/,
    );
  });
});

describe('connection document: scope', () => {
  it('rejects a missing operator', () => {
    expect(
      issuesOf(withChanges({ scope: { filters: [{ clauses: [{ attribute: 'department' }] }] } }))[0],
    ).toMatch(
      /^scope\.filters\[0\]\.clauses\[0\]\.operator: a missing operator is not an operator; use one of /,
    );
  });

  it('rejects an unknown operator, listing the known ones', () => {
    const [issue] = issuesOf(
      withChanges({
        scope: { filters: [{ clauses: [{ attribute: 'department', operator: 'EQUAL', value: 'x' }] }] },
      }),
    );
    expect(issue).toMatch(
      /^scope\.filters\[0\]\.clauses\[0\]\.operator: "EQUAL" is not an operator; use one of IS_NULL, /,
    );
    expect(issue).toContain('REGEX_MATCH');
  });

  it('checks the value each operator needs', () => {
    const clauses = [
      { attribute: 'department', operator: 'EQUALS' },
      { attribute: 'department', operator: 'IS_NULL', value: 'x' },
      { attribute: 'department', operator: 'IN', value: [] },
      { attribute: 'employeeId', operator: 'GREATER_THAN', value: '10' },
      { attribute: 'department', operator: 'REGEX_MATCH', value: '([a-z]' },
    ];
    const issues = issuesOf(withChanges({ scope: { filters: [{ clauses }] } }));
    expect(issues).toEqual([
      'scope.filters[0].clauses[0].value: Invalid input: expected string, received undefined',
      'scope.filters[0].clauses[1].value: unknown key; check the spelling (unknown keys are rejected so that typos cannot pass silently)',
      'scope.filters[0].clauses[2].value: Too small: expected array to have >=1 items',
      'scope.filters[0].clauses[3].value: Invalid input: expected number, received string',
      'scope.filters[0].clauses[4].value: invalid regular expression: /([a-z]/: Unterminated group',
    ]);
  });

  it('rejects unknown and multi-valued attributes in clauses', () => {
    const clauses = [
      { attribute: 'departmnet', operator: 'IS_NULL' },
      { attribute: 'proxyAddresses', operator: 'IS_NULL' },
    ];
    expect(issuesOf(withChanges({ scope: { filters: [{ clauses }] } }))).toEqual([
      'scope.filters[0].clauses[0].attribute: unknown user property "departmnet"; did you mean "department"?',
      'scope.filters[0].clauses[1].attribute: "proxyAddresses" is multi-valued; scoping filters take single values',
    ]);
  });

  it('rejects a group reference that is neither an id nor a display name', () => {
    expect(issuesOf(withChanges({ scope: { groups: ['Sales'] } }))).toEqual([
      'scope.groups[0]: must be { "id": "<group object id>" } or { "displayName": "<exact group name>" }',
    ]);
    expect(issuesOf(withChanges({ scope: { groups: [{ id: 'sales' }] } }))).toEqual([
      'scope.groups[0].id: Invalid GUID',
    ]);
  });
});

describe('connection document: attributes', () => {
  it('lays the connection’s attributes over the defaults, and null drops one', () => {
    const config = parseConnectionConfig(
      withChanges({
        attributes: { department: '[department]', company: { constant: 'Contoso' }, givenName: null },
      }),
    );
    expect(Object.keys(config.attributes)).toEqual([
      'userName',
      'mail',
      'sn',
      'displayName',
      'accountEnabled',
      'department',
      'company',
    ]);
    expect(config.attributes['company']).toEqual({ kind: 'constant', value: 'Contoso' });
  });

  it('reports a bad expression with its position', () => {
    expect(issuesOf(withChanges({ attributes: { mail: 'Coalesce([mail], [userPrincipalName]' } }))).toEqual([
      'attributes.mail: expression error at position 37: "Coalesce(" is not closed by ")"',
    ]);
  });

  it('does not let userName or mail be dropped', () => {
    expect(issuesOf(withChanges({ attributes: { userName: null, mail: null } }))).toEqual([
      'attributes.userName: userName is required and cannot be dropped',
      'attributes.mail: mail is required and cannot be dropped',
    ]);
  });

  it('rejects attribute names that storage cannot hold, and values of the wrong form', () => {
    expect(issuesOf(withChanges({ attributes: { 'cost-centre': '[department]' } }))[0]).toMatch(
      /^attributes\["cost-centre"\]: /,
    );
    expect(issuesOf(withChanges({ attributes: { country: { constnt: 'DE' } } }))).toEqual([
      'attributes.country: must be an expression string, { "constant": value }, or null to drop a default',
    ]);
  });
});

describe('connection document: groups, licences, schedule', () => {
  it('needs every licence a group mapping gives, and the default, to have seats', () => {
    expect(
      issuesOf(
        withChanges({
          licenses: { seats: { basic: 10 }, default: 'gold' },
          groupMappings: [{ group: { displayName: 'Sales' }, license: 'pro' }],
        }),
      ),
    ).toEqual([
      'licenses.default: "gold" is not listed in seats',
      'groupMappings[0].license: "pro" is not listed in licenses.seats',
    ]);
  });

  it('needs a group mapping to give something', () => {
    expect(issuesOf(withChanges({ groupMappings: [{ group: { displayName: 'Sales' } }] }))).toEqual([
      'groupMappings[0]: a group mapping needs an appGroup, a license or roles',
    ]);
  });

  it('rejects negative or fractional seat counts', () => {
    expect(issuesOf(withChanges({ licenses: { seats: { basic: -1, pro: 1.5 } } }))).toHaveLength(2);
  });

  it('takes minutes or a five-field cron', () => {
    expect(parseConnectionConfig(withChanges({ schedule: { everyMinutes: 30 } })).schedule).toEqual({
      everyMinutes: 30,
    });
    expect(parseConnectionConfig(withChanges({ schedule: { cron: '0 */4 * * 1-5' } })).schedule).toEqual({
      cron: '0 */4 * * 1-5',
    });
    expect(issuesOf(withChanges({ schedule: { everyMinutes: 0 } }))).toEqual([
      'schedule.everyMinutes: Too small: expected number to be >=1',
    ]);
    expect(issuesOf(withChanges({ schedule: { cron: '0 0 * *' } }))).toEqual([
      'schedule.cron: a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has 4',
    ]);
    expect(issuesOf(withChanges({ schedule: '*/5 * * * *' }))).toEqual([
      'schedule: must be { "everyMinutes": N } or { "cron": "m h dom mon dow" }',
    ]);
  });

  it('parses cron fields into their values', () => {
    expect(parseCron('*/15 9-17/4 1,15 * 0,7')).toEqual({
      ok: true,
      schedule: {
        fields: [
          [0, 15, 30, 45],
          [9, 13, 17],
          [1, 15],
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
          [0, 7],
        ],
      },
    });
    const stepped = parseCron('5/20 * * * *');
    expect(stepped.ok && stepped.schedule.fields[0]).toEqual([5, 25, 45]);
    for (const bad of [
      '60 * * * *',
      '* 24 * * *',
      '* * 0 * *',
      '* * * 13 *',
      '* * * * 8',
      '5-1 * * * *',
      '*/0 * * * *',
      'a * * * *',
    ]) {
      expect(parseCron(bad).ok, bad).toBe(false);
    }
  });
});

describe('connection document: policy', () => {
  it('accepts each allowed action for each situation', () => {
    for (const situation of CONFIGURABLE_SITUATIONS) {
      for (const action of ALLOWED_ACTIONS[situation]) {
        const result = validateConnectionConfig(
          withChanges({ policy: { actions: { [situation]: action } } }),
        );
        expect(result.ok, `${situation} -> ${action}`).toBe(true);
      }
    }
  });

  it('rejects each action that makes no sense for a situation, naming the situation and the allowed actions', () => {
    let rejected = 0;
    for (const situation of CONFIGURABLE_SITUATIONS) {
      const allowed: readonly string[] = ALLOWED_ACTIONS[situation];
      for (const action of ACTIONS.filter((candidate) => !allowed.includes(candidate))) {
        expect(issuesOf(withChanges({ policy: { actions: { [situation]: action } } }))).toEqual([
          `policy.actions.${situation}: ${action} is not an action for ${situation}; allowed: ${allowed.join(', ')}`,
        ]);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(40);
  });

  it.each([
    ['SOURCE_DELETED', 'CREATE'],
    ['ABSENT', 'DELETE'],
    ['ABSENT', 'LINK'],
    ['CONFLICT', 'LINK'],
    ['AMBIGUOUS', 'CREATE'],
    ['FOUND', 'CREATE'],
    ['CONFIRMED', 'DELETE'],
    ['NO_SEAT', 'CREATE'],
    ['RESTORED', 'DELETE'],
    ['UNQUALIFIED', 'UPDATE'],
  ])('rejects %s -> %s', (situation, action) => {
    expect(issuesOf(withChanges({ policy: { actions: { [situation]: action } } }))[0]).toMatch(
      new RegExp(`^policy\\.actions\\.${situation}: ${action} is not an action for ${situation}`),
    );
  });

  it('rejects an action that does not exist', () => {
    expect(issuesOf(withChanges({ policy: { actions: { ABSENT: 'create' } } }))).toEqual([
      'policy.actions.ABSENT: create is not an action for ABSENT; allowed: CREATE, EXCEPTION, IGNORE',
    ]);
  });

  it('takes a deletion threshold as a count, a percentage, or both', () => {
    const thresholdOf = (deletionThreshold: unknown) =>
      parseConnectionConfig(withChanges({ policy: { deletionThreshold } })).policy.deletionThreshold;
    expect(thresholdOf({ count: 50 })).toEqual({ count: 50 });
    expect(thresholdOf({ percent: 5 })).toEqual({ percent: 5 });
    expect(thresholdOf({ count: 50, percent: 5 })).toEqual({ count: 50, percent: 5 });
    expect(issuesOf(withChanges({ policy: { deletionThreshold: {} } }))).toEqual([
      'policy.deletionThreshold: give a count, a percent, or both (the smaller limit applies)',
    ]);
    expect(issuesOf(withChanges({ policy: { deletionThreshold: { percent: 120 } } }))).toEqual([
      'policy.deletionThreshold.percent: Too big: expected number to be <=100',
    ]);
  });

  it('keeps the defaults of the other situations when one is overridden', () => {
    const document: ConnectionConfigDocument = {
      ...connectionDocument(),
      policy: { actions: { UNQUALIFIED: 'IGNORE' } },
    };
    expect(parseConnectionConfig(document).policy).toEqual({
      actions: { UNQUALIFIED: 'IGNORE' },
      deletionThreshold: { count: 500, percent: 20 },
    });
  });
});
