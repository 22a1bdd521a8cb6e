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

  it('approves a pending request from the inbox, and shows the agent\'s actions on its page', async () => {
    // A real request: an agent's payment that policy allows once approved (the approval is asked
    // before limits and mandate are looked at, so none is needed to get here).
    const client = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const buyer = await client.agents.create({ name: 'buyer', owner: 'ops' });
    const { token } = await client.agents.issueCredential(buyer.id, {
      actingFor: { type: 'user', id: 'alice' },
      scopes: { actions: ['payment.create'] },
      spendCapMicros: 0,
    });
    const policy = await client.policies.create({
      name: 'pay-once-approved',
      text: '@effect("require_approval")\npermit(principal in User::"alice", action == Action::"payment.create", resource);',
    });
    const asked = await fetch(`${server!.url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: buyer.id, mandateId: 'mdt_any', payee: 'acme', amountMicros: 42_000_000, purpose: 'invoice 7', idempotencyKey: 'inv-7' }),
    });
    const refusal = (await asked.json()) as { error: { code: string; details: { approvalId: string } } };
    expect([asked.status, refusal.error.code]).toEqual([403, 'approval_required']);
    const approvalId = refusal.error.details.approvalId;

    const { page, pageErrors, close } = await signedIn();
    await nav(page, 'Approvals').click();
    const inbox = page.getByRole('list', { name: 'Pending approvals' });
    await inbox.waitFor();
    expect(await inbox.textContent()).toContain(
      `payment.create acme by user:alice → agent:${buyer.id}, up to 42 USD`,
    );
    expect(await inbox.textContent()).toContain('invoice 7');
    await inbox.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Approved payment.create acme.' }).waitFor();
    await page.getByText('Nothing waits for approval.').waitFor();
    const decided = await client.approvals.get(approvalId);
    expect(decided.status).toBe('approved');
    expect(decided.token).toMatch(/^ey/);

    // the agent's page lists what it did: the payment it asked for, refused until approved
    await nav(page, 'Agents').click();
    await page.getByRole('table', { name: 'Agents' }).getByRole('button', { name: 'buyer' }).click();
    const actions = page.getByRole('list', { name: 'Recent actions' });
    await actions.waitFor();
    expect(await actions.textContent()).toContain('payment.create acme: denied (approval_required)');
    await client.policies.remove(policy.id);
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
