import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../cli/entra-sync.js';
import { uniqueName } from '../harness/names.js';
import { startSyncFixture, type SyncFixture } from '../harness/sync-fixture.js';

let fixture: SyncFixture;
let workdir: string;
let connectionFile: string;
let env: Record<string, string>;

async function cli(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    interactive: false,
    env: { ...env, ...extraEnv },
    cwd: workdir,
    trustedCa: fixture.sim.ca,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  fixture = await startSyncFixture({ users: 80, groups: 4, seed: 3 });
  workdir = await mkdtemp(join(tmpdir(), 'entra-sync-cli-'));
  env = {
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    TABLE_PREFIX: uniqueName('cli'),
    GRAPH_RETRY_BUDGET_SECONDS: '1',
    ...fixture.env,
  };
  connectionFile = join(workdir, 'contoso.json');
  await writeFile(connectionFile, JSON.stringify(fixture.connection()));
});

afterAll(async () => {
  await fixture.close();
});

describe('entra-sync CLI', () => {
  it('applies a connection and imports, printing exactly one JSON document with --json', async () => {
    expect((await cli(['connections', 'apply', '--file', connectionFile, '--json'])).code).toBe(0);
    const result = await cli(['import', '--connection', 'contoso', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const field of [
      'runId',
      'mode',
      'status',
      'situations',
      'actions',
      'exceptions',
      'graphRequests',
      'storageTransactions',
      'durationMs',
    ]) {
      expect(report).toHaveProperty(field);
    }
    expect(report).toMatchObject({ mode: 'import', status: 'succeeded' });
    expect((report.actions as Record<string, number>).CREATE).toBeGreaterThan(0);
  });

  it('lists app users with the promised fields', async () => {
    const result = await cli(['users', '--connection', 'contoso', '--json']);
    expect(result.code).toBe(0);
    const users = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(users.length).toBeGreaterThan(0);
    for (const field of [
      'sourceId',
      'userName',
      'mail',
      'givenName',
      'sn',
      'displayName',
      'status',
      'appGroups',
      'roles',
      'license',
      'division',
    ]) {
      expect(users[0]).toHaveProperty(field);
    }
    const source = fixture.tenant.getUser(String(users[0]?.sourceId));
    expect(users[0]?.userName).toBe(source?.userPrincipalName);
  });

  it('imports selected users by userPrincipalName', async () => {
    const ids = fixture.tenant.liveUserIds().slice(0, 2);
    const upns = ids.map((id) => fixture.tenant.getUser(id)?.userPrincipalName ?? '');
    const result = await cli([
      'import',
      '--connection',
      'contoso',
      '--users',
      `${upns.join(',')},nobody@nowhere.example`,
      '--json',
    ]);
    const report = JSON.parse(result.stdout) as { usersRead: number; exceptions: { user: string }[] };
    expect(report.usersRead).toBe(2);
    expect(report.exceptions.map((exception) => exception.user)).toContain('nobody@nowhere.example');
  });

  it('says which secret reference failed, never the secret, when the secret is wrong', async () => {
    const result = await cli(['sync', '--connection', 'contoso'], {
      [fixture.secretVariable]: 'not-the-secret-xyz',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(fixture.secretVariable));
    expect(result.stderr).not.toContain('not-the-secret-xyz');
    expect(result.stdout).toBe('');
  });

  it('prints the admin consent URL when consent is missing', async () => {
    const app = fixture.sim.apps[0];
    if (!app) throw new Error('no app');
    fixture.tenant.revokeConsent(app.clientId);
    try {
      const result = await cli(['sync', '--connection', 'contoso']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/consent/i);
      expect(result.stderr).toContain('/adminconsent?');
      expect(result.stderr).toContain(app.clientId);
    } finally {
      fixture.tenant.grantConsent(app.clientId);
    }
  });

  it('says when to retry when Graph throttles beyond the retry budget', async () => {
    fixture.sim.injectFault({ status: 429, retryAfter: 30, count: 5, path: '/v1.0/groups/delta' });
    const result = await cli(['sync', '--connection', 'contoso']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/throttl/i);
    expect(result.stderr).toMatch(/Retry at: \d{4}-\d\d-\d\dT/);
    fixture.sim.faults.clear();
  });

  it('rejects unknown commands and missing options with usage (exit 2)', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const missing = await cli(['import']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--connection is required/);
  });

  it('runs as a program: the bin entry answers --help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'cli/entra-sync.ts',
      '--help',
    ]);
    expect(stdout).toMatch(/^Usage: entra-sync/);
  });
});
