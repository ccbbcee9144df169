import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../shared/errors.js';
import { loadSettings } from '../../shared/settings.js';

const local = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('loadSettings', () => {
  it('applies the documented defaults', () => {
    const settings = loadSettings(local);
    expect(settings.SYNC_SCHEDULE).toBe('0 */15 * * * *');
    expect(settings.IMPORT_QUEUE_NAME).toBe('entrasync-import');
    expect(settings.TABLE_PREFIX).toBe('EntraSync');
    expect(settings.GRAPH_RETRY_BUDGET_SECONDS).toBe(300);
    expect(settings.KEY_VAULT_URL).toBeUndefined();
    expect(settings.storage).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
  });

  it('names the missing storage setting and says what to set', () => {
    const error = (() => {
      try {
        loadSettings({});
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).message).toContain('AzureWebJobsStorage');
    expect((error as SettingsError).nextStep).toContain('UseDevelopmentStorage=true');
  });

  it('names every bad setting at once', () => {
    const bad = {
      ...local,
      SYNC_SCHEDULE: '*/15 * * * *',
      IMPORT_QUEUE_NAME: 'Bad_Queue',
      KEY_VAULT_URL: 'vault',
    };
    const message = (() => {
      try {
        loadSettings(bad);
        return '';
      } catch (caught) {
        return (caught as Error).message;
      }
    })();
    expect(message).toMatch(/SYNC_SCHEDULE: must be a six-field NCRONTAB/);
    expect(message).toMatch(/IMPORT_QUEUE_NAME: must be 3-63 lowercase/);
    expect(message).toMatch(/KEY_VAULT_URL: /);
  });

  it('accepts identity-based storage settings and rejects incomplete ones', () => {
    const settings = loadSettings({
      AzureWebJobsStorage__accountName: 'stentrasync',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
    });
    expect(settings.storage).toMatchObject({ kind: 'identity', accountName: 'stentrasync' });
    expect(() => loadSettings({ AzureWebJobsStorage__credential: 'managedidentity' })).toThrow(
      /AzureWebJobsStorage__accountName/,
    );
  });

  it('coerces numbers and rejects out-of-range values', () => {
    expect(loadSettings({ ...local, GRAPH_RETRY_BUDGET_SECONDS: '60' }).GRAPH_RETRY_BUDGET_SECONDS).toBe(60);
    expect(() => loadSettings({ ...local, GRAPH_RETRY_BUDGET_SECONDS: '-1' })).toThrow(
      /GRAPH_RETRY_BUDGET_SECONDS/,
    );
  });
});

describe('local.settings.sample.json', () => {
  it('lists every setting with a value that parses', async () => {
    const { readFile } = await import('node:fs/promises');
    const { settingsSchema } = await import('../../shared/settings.js');
    const sample = JSON.parse(
      await readFile(new URL('../../local.settings.sample.json', import.meta.url), 'utf8'),
    ) as {
      Values: Record<string, string>;
    };
    const hostOnly = ['FUNCTIONS_WORKER_RUNTIME'];
    expect(
      Object.keys(sample.Values)
        .filter((key) => !hostOnly.includes(key))
        .sort(),
    ).toEqual(Object.keys(settingsSchema.shape).sort());
    expect(() => loadSettings(sample.Values)).not.toThrow();
  });
});

describe('README settings table', () => {
  it('documents every setting', async () => {
    const { readFile } = await import('node:fs/promises');
    const { settingsSchema } = await import('../../shared/settings.js');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(settingsSchema.shape))
      expect(readme).toMatch(new RegExp(`\\|\\s*\`${name}\`\\s*\\|`));
  });
});
