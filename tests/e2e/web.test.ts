import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage as openBrowserPage } from './browser.js';
import { createClient, type HangarError } from '@hangar/sdk';
import { startServer, type TestServer } from './harness.js';

// The UI in real Chromium against the real server: sign in, manage keys, switch projects.

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let server: TestServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  }
  // Each is assigned as soon as it is up, so afterAll cleans up whichever started even if the other failed.
  await Promise.all([startServer().then((s) => (server = s)), launchChromium().then((b) => (browser = b))]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser profile (empty localStorage) at 1280×800 that fails the test on any uncaught page error. */
function openPage() {
  return openBrowserPage(browser!, server!.url);
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function nav(page: Page, pillar: string) {
  return page.getByRole('navigation', { name: 'Pillars' }).getByRole('link', { name: pillar, exact: true });
}

describe('web UI', () => {
  it('shows the server’s error when the key is wrong, and stays signed out', async () => {
    const { page, context, pageErrors } = await openPage();
    const wrongKey = 'hk_' + '0'.repeat(40);
    const expected = await createClient({ baseUrl: server!.url, apiKey: wrongKey })
      .whoami()
      .then(
        () => 'whoami succeeded with a made-up key',
        (e: unknown) => (e as HangarError).message,
      );

    await signIn(page, wrongKey);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(expected);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(await page.evaluate("localStorage.getItem('hangar.session')")).toBeNull();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('signs in with the admin key, creates and revokes a key, and shows empty pillars', async () => {
    const { page, context, pageErrors } = await openPage();
    await signIn(page, server!.adminKey);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const me = await createClient({ baseUrl: server!.url, apiKey: server!.adminKey }).whoami();
    expect(await page.getByRole('combobox', { name: 'Project', exact: true }).inputValue()).toBe(
      me.project.id,
    );

    await nav(page, 'Settings').click();
    expect(new URL(page.url()).hash).toBe('#/settings');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByText(me.project.id).waitFor();
    const ownRow = page.getByRole('row').filter({ hasText: 'in use' });
    await ownRow.waitFor();
    expect(await ownRow.getByRole('button').count()).toBe(0); // the key in use cannot be revoked from here

    await page.getByLabel('Key name', { exact: true }).fill('ci-bot');
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('Copy this key now — it will not be shown again.').waitFor();
    const secret = await page.getByLabel('New API key', { exact: true }).inputValue();
    expect(secret).toMatch(/^hk_/);
    const bot = await createClient({ baseUrl: server!.url, apiKey: secret }).whoami();
    expect(bot.key).toMatchObject({ name: 'ci-bot', role: 'member' });

    const row = page.getByRole('row').filter({ hasText: 'ci-bot' });
    await row.getByText('Active', { exact: true }).waitFor();
    expect(await row.textContent()).toContain('member');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}settings.png`, fullPage: true });

    await row.getByRole('button', { name: 'Revoke ci-bot' }).click();
    await row.getByRole('button', { name: 'Confirm revoking ci-bot' }).click();
    await row.getByText('Revoked', { exact: true }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    await expect(createClient({ baseUrl: server!.url, apiKey: secret }).whoami()).rejects.toMatchObject({
      status: 401,
    });

    await nav(page, 'Traces').click();
    await page.getByRole('heading', { name: 'Traces', level: 1 }).waitFor();
    await page.getByText('No traces yet.').waitFor();
    expect(await nav(page, 'Traces').getAttribute('aria-current')).toBe('page');

    // The key survives a reload, and signing out forgets it.
    await page.reload();
    await page.getByText('No traces yet.').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key', { exact: true }).waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('creates a project and switches between projects', async () => {
    const { page, context, pageErrors } = await openPage();
    await signIn(page, server!.adminKey);
    const projectName = `web-e2e-${Date.now()}`;
    await page.getByRole('button', { name: 'New project…' }).click();
    await page.getByLabel('Project name', { exact: true }).fill(projectName);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByText('Copy this key now — it will not be shown again.').waitFor();
    const secret = await page.getByLabel('New API key', { exact: true }).inputValue();
    await page.getByRole('button', { name: `Open ${projectName}` }).click();

    const created = await createClient({ baseUrl: server!.url, apiKey: secret }).whoami();
    expect(created.project.name).toBe(projectName);
    const switcher = page.getByRole('combobox', { name: 'Project', exact: true });
    await expect.poll(() => switcher.inputValue(), { timeout: 5_000 }).toBe(created.project.id);
    await nav(page, 'Settings').click();
    await page.getByText(created.project.id).waitFor();

    const first = await createClient({ baseUrl: server!.url, apiKey: server!.adminKey }).whoami();
    await switcher.selectOption(first.project.id);
    await page.getByText(first.project.id).waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('tells a non-admin key why it cannot see the project’s keys', async () => {
    const admin = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const member = await admin.keys.create({ name: 'web-e2e-member', role: 'member' });
    const { page, context, pageErrors } = await openPage();
    await signIn(page, member.key);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await page.getByRole('button', { name: 'New project…' }).count()).toBe(0);
    await nav(page, 'Settings').click();
    await page.getByText('Only an admin key can list and manage this project’s API keys.').waitFor();
    expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
