import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { createClient } from '@hangar/sdk';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openSignedIn } from './browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

// Agents, Policies and the Approvals inbox in real Chromium against a real server.

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
let server: TestServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(DIST_INDEX))
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  await Promise.all([startServer().then((s) => (server = s)), launchChromium().then((b) => (browser = b))]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function signedIn(): Promise<{ page: Page; pageErrors: Error[]; close: () => Promise<void> }> {
  return openSignedIn(browser!, server!.url, server!.adminKey);
}

const nav = (page: Page, pillar: string) =>
  page.getByRole('navigation', { name: 'Pillars' }).getByRole('link', { name: pillar, exact: true });

describe('identity and policy in the web UI', () => {
  it('lists agents with their credentials, edits policies with line-level errors, and tests a decision', async () => {
    const client = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const agent = await client.agents.create({
      name: 'researcher',
      owner: 'team-search',
      labels: { env: 'prod' },
    });
    const { credential } = await client.agents.issueCredential(agent.id, {
      actingFor: { type: 'user', id: 'alice' },
      scopes: { models: ['*'] },
      spendCapMicros: 1000,
    });
    const { page, pageErrors, close } = await signedIn();

    await nav(page, 'Agents').click();
    const agents = page.getByRole('table', { name: 'Agents' });
    await agents.waitFor();
    expect(await agents.textContent()).toContain('env=prod');
    await agents.getByRole('button', { name: 'researcher' }).click();
    const creds = page.getByRole('table', { name: 'Credentials' });
    await creds.waitFor();
    expect(await creds.textContent()).toContain(credential.id);
    expect(await creds.textContent()).toContain(`user:alice → agent:${agent.id}`);

    await nav(page, 'Policies').click();
    await page.getByLabel('Policy name').fill('search');
    await page
      .getByLabel('Cedar')
      .fill(
        'permit(principal, action == Action::"tool.call", resource == Tool::"search")\n  when { context.amout < 5 };',
      );
    await page.getByRole('button', { name: 'Save' }).click();
    const problems = page.getByRole('list', { name: 'Problems' });
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(/Line 2, column \d+: .*amout/);
    await page
      .getByLabel('Cedar')
      .fill('permit(principal, action == Action::"tool.call", resource == Tool::"search");');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved search.' }).waitFor();
    expect((await client.policies.list()).policies.map((p) => p.name)).toEqual(['search']);

    const tester = page.getByRole('region', { name: 'Would this be allowed?' });
    await tester.getByRole('button', { name: 'Check' }).click();
    await tester.getByRole('status').filter({ hasText: 'allow' }).waitFor();
    await tester.getByLabel('Resource').fill('shell');
    await tester.getByRole('button', { name: 'Check' }).click();
    await tester.getByRole('status').filter({ hasText: 'deny' }).waitFor();
    expect(pageErrors).toEqual([]);
    await close();
  }, 60_000);

  it('approves a pending request from the inbox', async () => {
    // A pending request as the server writes one when policy requires approval (no HTTP route runs
    // actions until the gateway is wired to the pipeline, so it is put in the database directly).
    const db = new SQLite(path.join(server!.dataDir, 'hangar.db'));
    const now = new Date();
    db.prepare(
      `insert into approvals (id, project_id, status, kind, resource, args_sha256, args, cost_micros, actor, reason, policy_ids, requested_at, expires_at)
       values ('apr_ui1', 'proj_default', 'pending', 'payment.create', 'acme', ?, '{"memo":"invoice 7"}', 42000000, ?, 'allowed once approved (pol_x)', '["pol_x"]', ?, ?)`,
    ).run(
      'a'.repeat(64),
      JSON.stringify({
        principals: [
          { type: 'user', id: 'alice' },
          { type: 'agent', id: 'agt_buyer' },
        ],
      }),
      now.toISOString(),
      new Date(now.getTime() + 3600_000).toISOString(),
    );
    db.close();

    const { page, pageErrors, close } = await signedIn();
    await nav(page, 'Approvals').click();
    const inbox = page.getByRole('list', { name: 'Pending approvals' });
    await inbox.waitFor();
    expect(await inbox.textContent()).toContain(
      'payment.create acme by user:alice → agent:agt_buyer, up to 42 USD',
    );
    expect(await inbox.textContent()).toContain('invoice 7');
    await inbox.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Approved payment.create acme.' }).waitFor();
    await page.getByText('Nothing waits for approval.').waitFor();
    const decided = await createClient({ baseUrl: server!.url, apiKey: server!.adminKey }).approvals.get(
      'apr_ui1',
    );
    expect(decided.status).toBe('approved');
    expect(decided.token).toMatch(/^ey/);
    expect(pageErrors).toEqual([]);
    await close();
  }, 60_000);

  it('shows the audit log and finds an event changed behind its back', async () => {
    const { page, pageErrors, close } = await signedIn();
    await nav(page, 'Audit').click();
    await page.getByRole('button', { name: 'Verify every chain' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toMatch(/^Intact: \d+ events in \d+ streams/);

    await page.getByLabel('Stream prefix').fill('admin');
    await page.getByRole('button', { name: 'Filter' }).click();
    const streams = page.getByRole('table', { name: 'Streams' });
    await streams.getByRole('button', { name: 'Open' }).first().click();
    const events = page.getByRole('table', { name: 'Events' });
    await events.waitFor();
    expect(await events.textContent()).toContain('key.created');

    // someone edits the database directly: the check names the stream and the event
    const db = new SQLite(path.join(server!.dataDir, 'hangar.db'));
    db.prepare(
      `update journal_events set payload = '{"tampered":true}' where stream = 'admin' and seq = 1`,
    ).run();
    db.close();
    await page.getByRole('button', { name: 'Verify every chain' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('admin at seq 1 (payload mismatch)');
    await page.screenshot({
      path: fileURLToPath(new URL('./artifacts/audit.png', import.meta.url)),
      fullPage: true,
    });
    expect(pageErrors).toEqual([]);
    await close();
  });
});
