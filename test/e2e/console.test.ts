import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_SECRET_VARIABLE, startDevServer, type DevServer } from '../../scripts/dev/dev-server.js';
import { uniqueName } from '../harness/names.js';
import { axeViolations, hasChromium, openBrowser, type ConsoleBrowser } from './browser.js';

/**
 * The admin console end to end, as an administrator uses it: the built console served by the dev
 * server (the registered functions with their CSP, Azurite, the import queue's trigger, a simulated
 * tenant), driven in Chromium by role and label. Sign in, create a connection, grant admin consent,
 * map two groups, preview (a user another division holds is a conflict), import ticked users, import
 * everyone with the progress bar, see the users and the runs, and approve held deletions after a mass
 * delete. Every screen passes axe and is photographed into test-results/e2e/.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-results', 'e2e');
const CONNECTION = 'contoso';
const DIVISION = 'Contoso';

let dev: DevServer;
let browser: ConsoleBrowser;
let page: Page;
let shot = 0;
/** The dev server's last lines, printed when a step fails. */
const serverLog: string[] = [];

/** Builds the console when its build is missing or older than its sources (npm install builds it too). */
async function ensureConsoleBuilt(): Promise<void> {
  const built = join(ROOT, 'dist', 'console', 'index.html');
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  if (existsSync(built) && statSync(built).mtimeMs > newest(join(ROOT, 'console'))) return;
  await build({ configFile: join(ROOT, 'console', 'vite.config.ts'), logLevel: 'warn' });
}

/** A screenshot for people to look at, and an axe check that must come back clean. */
async function check(name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  shot += 1;
  const file = join(SHOTS, `${String(shot).padStart(2, '0')}-${name}`);
  await page.screenshot({ path: `${file}.png`, fullPage: true });
  // What a person sees first: the README shows two of these (docs/images/).
  await page.screenshot({ path: `${file}.viewport.png` });
  expect(await axeViolations(page), `accessibility of ${name}`).toEqual([]);
}

function tenant() {
  const found = dev.sim.tenants[0];
  if (!found) throw new Error('the dev server has no simulated tenant');
  return found;
}

/** Groups of a handful of members or more, smallest first. */
function smallGroups(): { id: string; displayName: string }[] {
  return tenant()
    .liveGroupIds()
    .map((id) => ({
      id,
      displayName: tenant().getGroup(id)?.displayName ?? '',
      size: tenant().membersOf(id).length,
    }))
    .filter((group) => group.size >= 5 && group.displayName !== '')
    .sort((a, b) => a.size - b.size);
}

/** Enabled members of the tenant (guests and disabled accounts are out of scope by default). */
function members(): { id: string; userPrincipalName: string }[] {
  return tenant()
    .liveUserIds()
    .map((id) => tenant().getUser(id))
    .filter((user) => user !== undefined && user.accountEnabled && user.userType === 'Member')
    .map((user) => ({ id: user?.id ?? '', userPrincipalName: user?.userPrincipalName ?? '' }));
}

describe.skipIf(!hasChromium)('the admin console in a browser', () => {
  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    await ensureConsoleBuilt();
    dev = await startDevServer({
      console: 'built',
      azuriteConnectionString: inject('azuriteConnectionString'),
      tablePrefix: uniqueName('E2e'),
      queueName: uniqueName('e2eq'),
      tenant: { users: 300, groups: 12, seed: 17, domain: 'contoso.example', displayName: 'Contoso' },
      simulator: { quirks: false },
      // The test syncs when it means to; a timer would hold or take over runs at random.
      timerSeconds: 0,
      log: (line) => {
        if (!line.startsWith('GET /api/jobs/')) serverLog.push(line);
        if (serverLog.length > 200) serverLog.shift();
      },
    });
    browser = await openBrowser();
    page = browser.page;
  }, 120_000);

  // What the browser showed when a step failed says more than the locator that timed out.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      const alerts = await page.getByRole('alert').allTextContents();
      process.stderr.write(
        `alerts on the page: ${JSON.stringify(alerts)}\n${serverLog.slice(-40).join('\n')}\n`,
      );
      await page.screenshot({
        path: join(SHOTS, `failed-${context.task.name.replace(/\W+/g, '-')}.png`),
        fullPage: true,
      });
    }
  });

  afterAll(async () => {
    await browser.close();
    await dev.close();
  });

  it('signs the administrator in with Microsoft Entra ID', async () => {
    await page.goto(dev.consoleUrl);
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).waitFor();
    await check('sign-in');
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await page.getByRole('button', { name: /Ada Admin/ }).click();
    await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'No connections yet' }).waitFor();
    await check('connections-empty');
  }, 60_000);

  it('creates a connection, validated in the browser with the API schema', async () => {
    await page.getByRole('link', { name: 'New connection' }).click();
    await page.getByRole('button', { name: 'Create connection' }).click();
    await expect(page.getByText('Fix these before saving').isVisible()).resolves.toBe(true);
    await page.getByLabel('Tenant ID or domain').fill('not a tenant');
    await expect(page.getByLabel('Tenant ID or domain').getAttribute('aria-invalid')).resolves.toBe('true');
    await check('new-connection-errors');

    await page.getByLabel('Connection ID').fill(CONNECTION);
    await page.getByLabel('Display name').fill('Contoso staff');
    await page.getByLabel('Tenant ID or domain').fill(tenant().domain);
    await page.getByLabel('Cloud').selectOption('custom');
    await page.getByLabel('Login endpoint').fill(dev.sim.authorityHost);
    await page.getByLabel('Graph endpoint').fill(dev.sim.graphBaseUrl);
    await page.getByLabel('Application (client) ID').fill(dev.sim.apps[0]?.clientId ?? '');
    await page.getByLabel('Client secret').check();
    await page.getByLabel('An app setting').check();
    await page.getByLabel('Credential reference').fill(DEV_SECRET_VARIABLE);
    await page.getByLabel('Division').fill(DIVISION);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Contoso staff' }).waitFor();
    await check('overview-new');
  }, 60_000);

  it('grants admin consent in a new tab and shows when it completed', async () => {
    const popup = page.waitForEvent('popup');
    await page.getByRole('button', { name: 'Grant admin consent' }).click();
    const consentTab = await popup;
    await consentTab.getByRole('heading', { name: 'Consent granted' }).waitFor({ timeout: 20_000 });
    await consentTab.close();
    await page.getByText('Consent granted').waitFor({ timeout: 20_000 });
    await expect(page.getByRole('button', { name: 'Grant admin consent again' }).isVisible()).resolves.toBe(
      true,
    );
    await check('overview-consented');
  }, 60_000);

  it('maps two Entra groups to app groups, with a licence pool', async () => {
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('heading', { name: 'Entra groups' }).waitFor();
    // Two small groups, found by searching: the first gives a licence, so most people hold none.
    const [first = '', second = ''] = smallGroups().map((group) => group.displayName);
    for (const name of [first, second]) {
      await page.getByLabel('Search groups').fill(name);
      await page.getByRole('button', { name: `Map ${name}`, exact: true }).click();
    }
    await page.getByRole('button', { name: 'Add licence' }).click();
    await page.getByLabel('Name of licence 1').fill('standard');
    await page.getByLabel('Seats of standard').fill('1000');
    await page.getByLabel(`App group for ${first}`).fill('sales');
    await page.getByLabel(`Roles for ${first}`).fill('seller, reader');
    await page.getByLabel(`Licence for ${first}`).selectOption('standard');
    await page.getByLabel(`App group for ${second}`).fill('staff');
    await page.getByRole('button', { name: 'Save groups and scope' }).click();
    await page.getByText('Saved.').waitFor();
    await check('groups');
    const stored = await dev.app.service.getConnection(CONNECTION);
    expect(stored.config.groupMappings.map((mapping) => mapping.appGroup)).toEqual(['sales', 'staff']);
  }, 60_000);

  it('previews every user with a status, and a user of another division is a conflict', async () => {
    // Another division already has two of the tenant's people, with the same e-mail addresses.
    const [taken1, taken2] = members();
    await dev.app.service.applyConnection({
      id: 'northwind',
      tenantId: tenant().domain,
      clientId: dev.sim.apps[0]?.clientId,
      clientSecret: { env: DEV_SECRET_VARIABLE },
      cloud: { authorityHost: dev.sim.authorityHost, graphBaseUrl: dev.sim.graphBaseUrl },
      division: 'Northwind',
    });
    await dev.app.service.import('northwind', {
      users: [taken1?.userPrincipalName ?? '', taken2?.userPrincipalName ?? ''],
    });

    await page.getByRole('link', { name: 'Preview', exact: true }).click();
    await page.getByRole('button', { name: 'Run preview' }).click();
    await page.getByRole('heading', { name: 'Preview result' }).waitFor({ timeout: 90_000 });
    const filters = page.getByRole('group', { name: 'Filter by status' });
    // By keyboard: the status filters are buttons in the tab order, and say which one is on.
    const conflictFilter = filters.getByRole('button', { name: /^Conflict/ });
    await conflictFilter.focus();
    await page.keyboard.press('Enter');
    await expect(conflictFilter.getAttribute('aria-pressed')).resolves.toBe('true');
    const conflict = page.locator('tbody [data-status="conflict"]');
    await conflict.first().waitFor();
    expect(await conflict.count()).toBe(2);
    await expect(
      page.getByRole('row', { name: new RegExp(taken1?.userPrincipalName ?? '-') }).isVisible(),
    ).resolves.toBe(true);

    await filters.getByRole('button', { name: /^Create/ }).click();
    await page.locator('tbody [data-status="create"]').first().waitFor();
    await page
      .getByRole('button', { name: /^Show \d+ changes? for / })
      .first()
      .click();
    await page.getByRole('table', { name: /^Changes for / }).waitFor();
    await check('preview');
  }, 120_000);

  it('imports the users ticked in the preview', async () => {
    const ticks = page.getByRole('checkbox', { name: /^Tick .+@/ });
    for (let i = 0; i < 3; i += 1) await ticks.nth(i).check();
    await page.getByRole('link', { name: 'Import the ticked users' }).click();
    await expect(page.getByLabel('The 3 users ticked in the preview').isChecked()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Start import' }).click();
    await page.getByRole('heading', { name: 'Last import' }).waitFor({ timeout: 90_000 });
    await expect(
      page.getByRole('progressbar', { name: 'Import progress' }).getAttribute('aria-valuenow'),
    ).resolves.toBe('100');
    expect(await page.getByRole('row', { name: /Create the app user/ }).textContent()).toContain('3');
  }, 120_000);

  it('imports everyone in scope with a progress bar fed by the job', async () => {
    // Every user of the tenant is read; the finished bar says so.
    const done = page.getByText(
      new RegExp(`^${tenant().liveUserCount.toLocaleString('en-US')} users processed`),
    );
    await page.getByLabel('All users in scope').check();
    await page.getByRole('button', { name: 'Start import' }).click();
    const bar = page.getByRole('progressbar', { name: 'Import progress' });
    const seen: number[] = [];
    await expect
      .poll(
        async () => {
          if (await page.getByRole('heading', { name: 'Import in progress' }).isVisible()) {
            const now = Number((await bar.getAttribute('aria-valuenow')) ?? 'NaN');
            if (!Number.isNaN(now)) seen.push(now);
          }
          return await done.isVisible();
        },
        { timeout: 120_000, interval: 200 },
      )
      .toBe(true);
    await expect(bar.getAttribute('aria-valuenow')).resolves.toBe('100');
    // The bar never goes back, though its measure changes from an estimate to pages done.
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await check('import');

    await page.getByRole('link', { name: 'See the users' }).click();
    await page.getByRole('heading', { name: 'App users' }).waitFor();
    await page.getByRole('navigation', { name: 'App users pages' }).waitFor();
    await check('users');
  }, 180_000);

  it('lists the runs with what each did', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    await page
      .getByRole('row', { name: /Import/ })
      .first()
      .waitFor();
    await check('runs');
    await page
      .getByRole('row', { name: /Import/ })
      .first()
      .getByRole('link')
      .click();
    await page.getByRole('heading', { name: /^Import of / }).waitFor();
    await page.getByRole('group', { name: 'Filter by status' }).waitFor();
    await check('run');
  }, 60_000);

  it('holds a mass deletion and approves it with a button that says what it does', async () => {
    // A mistake upstream: 100 people deleted from the tenant at once, well beyond the threshold,
    // licensed ones among them (approving gives their seats back).
    const gone = members().slice(2, 102);
    expect(gone).toHaveLength(100);
    for (const user of gone) tenant().hardDeleteUser(user.id);
    const held = await dev.app.service.sync(CONNECTION);
    expect(held.status).toBe('deletions_held');

    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('row', { name: /Deletions held/ }).waitFor();
    await page
      .getByRole('row', { name: /Deletions held/ })
      .getByRole('link')
      .click();
    const approve = page.getByRole('button', { name: /^Approve: / });
    await approve.waitFor();
    expect(await approve.textContent()).toMatch(
      new RegExp(`^Approve: delete \\d+ users in division ${DIVISION}$`),
    );
    await check('held');
    // Escape cancels the confirmation and gives focus back to the button that opened it.
    await approve.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Approve the held changes?' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    const focused = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } })
          .document.activeElement?.textContent,
    );
    expect(focused).toMatch(/^Approve: /);
    await approve.click();
    const dialog = page.getByRole('dialog', { name: 'Approve the held changes?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(new RegExp(`Delete \\d+ users in division ${DIVISION}\\.`));
    await check('approve-dialog');
    await dialog.getByRole('button', { name: 'Approve and apply' }).click();
    await page.getByText(/changes? applied/).waitFor({ timeout: 60_000 });
    await check('approved');
  }, 120_000);

  it('keeps the schedule, threshold and actions in Settings', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByLabel('On a cron schedule (UTC)').check();
    await page.getByLabel('Cron expression').fill('15 */2 * * *');
    await page.getByLabel('Most deletions and suspensions per run', { exact: true }).fill('50');
    await page.getByLabel('Action for SOURCE_DELETED').selectOption('SUSPEND');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    await check('settings');
    const { config } = await dev.app.service.getConnection(CONNECTION);
    expect(config.schedule).toEqual({ cron: '15 */2 * * *' });
    expect(config.policy.deletionThreshold.count).toBe(50);
    expect(config.policy.actions.SOURCE_DELETED).toBe('SUSPEND');

    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    await page.getByRole('link', { name: 'Contoso staff' }).waitFor();
    await check('connections');
    expect(browser.problems).toEqual([]);
  }, 60_000);
});
