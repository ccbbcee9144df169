import { describe, expect, it } from 'vitest';
import { errorFromResponse, normalizePath } from '../../console/src/api/errors.js';
import type { ConnectionConfigDocument } from '../../console/src/api/types.js';
import { approvalSentence } from '../../console/src/lib/approval.js';
import { applyIdentity, identityFromDocument } from '../../console/src/lib/identity-form.js';
import { nextSync, upcomingCronTimes } from '../../console/src/lib/next-sync.js';
import { validateDocument } from '../../console/src/lib/validation.js';
import { applyGroupsForm, groupsFormFrom } from '../../console/src/screens/connection/groups-form.js';
import { applySettingsForm, settingsFormFrom } from '../../console/src/screens/connection/settings-form.js';

/**
 * The console's logic that needs no browser: forms that turn a connection document into fields and
 * back without losing anything, the words on the Approve button, error answers, and the next sync.
 */

const DOCUMENT: ConnectionConfigDocument = {
  id: 'contoso-emea',
  displayName: 'Contoso EMEA',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  certificate: { keyVault: 'contoso-emea-sync-certificate' },
  cloud: 'global',
  division: 'Contoso EMEA',
  scope: {
    groups: [{ displayName: 'EMEA Staff' }, { id: '0c4a7f52-93d6-4c1e-8b5a-2f7e9d3c1a60' }],
    nestedGroups: true,
    filters: [
      {
        name: 'Employees',
        clauses: [
          { attribute: 'employeeType', operator: 'IN', value: ['Employee', 'Contractor'] },
          { attribute: 'employeeId', operator: 'GREATER_THAN', value: 1000 },
          { attribute: 'department', operator: 'IS_NOT_NULL' },
        ],
      },
    ],
    includeGuests: false,
    includeDisabled: false,
  },
  groupMappings: [
    {
      group: { id: '5d2b8e41-7a3c-4f09-9e6d-1c8a4b7f2e35' },
      appGroup: 'administrators',
      license: 'enterprise',
      roles: ['administrator'],
    },
    { group: { displayName: 'EMEA Staff' }, appGroup: 'staff', roles: ['reader', 'writer'] },
  ],
  licenses: { seats: { standard: 800, enterprise: 10 }, default: 'standard' },
  policy: {
    actions: { FOUND: 'EXCEPTION', SOURCE_DELETED: 'SUSPEND' },
    deletionThreshold: { count: 100, percent: 10 },
  },
  schedule: { cron: '15 */2 * * *' },
};

describe('connection forms', () => {
  it('give back the document they were filled from', () => {
    expect(validateDocument(DOCUMENT)).toEqual([]);
    const groups = applyGroupsForm(DOCUMENT, groupsFormFrom(DOCUMENT));
    const settings = applySettingsForm(groups, settingsFormFrom(groups));
    const identity = applyIdentity(settings, identityFromDocument(settings));
    expect(identity).toEqual(DOCUMENT);
  });

  it('write what was edited, and the schema names the field that is wrong', () => {
    const form = groupsFormFrom(DOCUMENT);
    const badSeats = applyGroupsForm(DOCUMENT, {
      ...form,
      seats: form.seats.map((row) => (row.name === 'standard' ? { ...row, seats: 'many' } : row)),
    });
    expect(validateDocument(badSeats).map((issue) => issue.path)).toEqual(['licenses.seats.standard']);
    const unknownLicence = applyGroupsForm(DOCUMENT, {
      ...form,
      mappings: form.mappings.map((row, index) => (index === 1 ? { ...row, license: 'platinum' } : row)),
    });
    expect(validateDocument(unknownLicence).map((issue) => issue.path)).toEqual(['groupMappings.1.license']);
  });

  it('drop an override when the default action is chosen again, and the schedule when the timer rules', () => {
    const form = settingsFormFrom(DOCUMENT);
    const edited = applySettingsForm(DOCUMENT, {
      ...form,
      scheduleKind: 'timer',
      actions: { ...form.actions, FOUND: '' },
      thresholdCount: '',
      thresholdPercent: '',
    });
    expect(edited.schedule).toBeUndefined();
    expect(edited.policy).toEqual({ actions: { SOURCE_DELETED: 'SUSPEND' } });
  });

  it('keep one credential: switching to a client secret removes the certificate', () => {
    const identity = identityFromDocument(DOCUMENT);
    const edited = applyIdentity(DOCUMENT, {
      ...identity,
      credential: 'clientSecret',
      store: 'env',
      reference: 'SECRET',
    });
    expect(edited.clientSecret).toEqual({ env: 'SECRET' });
    expect(edited.certificate).toBeUndefined();
    expect(validateDocument(edited)).toEqual([]);
  });
});

describe('the Approve button', () => {
  it('says exactly what approving does', () => {
    expect(approvalSentence({ SUSPEND: 12, DELETE: 480 }, 'Contoso EMEA')).toBe(
      'Suspend 12 users and delete 480 users in division Contoso EMEA',
    );
    expect(approvalSentence({ DELETE: 1, UNLINK: 2, SUSPEND: 0 }, 'X')).toBe(
      'Delete 1 user and unlink 2 users in division X',
    );
  });
});

describe('error answers', () => {
  it('carry the next step and the invalid fields, whichever way the path is spelt', () => {
    const error = errorFromResponse(400, 'Bad Request', {
      error: {
        code: 'bad_request',
        message: 'The connection configuration is invalid.',
        details: {
          nextStep: 'Correct the listed settings.',
          info: { issues: [{ path: 'scope.filters[0].clauses[1].value', message: 'too small' }] },
        },
      },
    });
    expect(error.nextStep).toBe('Correct the listed settings.');
    expect(error.issues).toEqual([{ path: 'scope.filters.0.clauses.1.value', message: 'too small' }]);
    expect(normalizePath('licenses.seats["Pro plan"]')).toBe('licenses.seats.Pro plan');
    expect(errorFromResponse(502, 'Bad Gateway', '<html>').code).toBe('http_502');
  });
});

describe('the next sync', () => {
  const now = new Date('2026-03-02T10:20:00Z');

  it('follows the schedule as the timer does', () => {
    expect(nextSync(undefined, null, now)).toEqual({ kind: 'every-timer-run' });
    expect(nextSync({ everyMinutes: 30 }, new Date('2026-03-02T10:00:00Z'), now)).toEqual({
      kind: 'at',
      at: new Date('2026-03-02T10:30:00Z'),
    });
    expect(nextSync({ cron: '15 */2 * * *' }, new Date('2026-03-02T08:15:00Z'), now)).toEqual({
      kind: 'due-now',
    });
    expect(nextSync({ cron: '15 */2 * * *' }, new Date('2026-03-02T10:15:00Z'), now)).toEqual({
      kind: 'at',
      at: new Date('2026-03-02T12:15:00Z'),
    });
  });

  it('finds a yearly schedule without walking every minute', () => {
    expect(upcomingCronTimes('0 0 1 1 *', now, 1)).toEqual([new Date('2027-01-01T00:00:00Z')]);
  });
});
