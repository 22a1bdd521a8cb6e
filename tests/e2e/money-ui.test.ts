import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type HangarClient } from '@hangar/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openSignedIn } from './browser.js';
import { startServer, type TestServer } from './harness.js';

// Spend, Ledger and Payments in real Chromium against a real `hangar up`, with the data made the way
// users make it: model calls through the gateway (hangar/echo at a set price), a budget, ledger
// accounts with holds, and payments under a signed mandate on the sandbox rail.

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const DOLLAR = 1_000_000;
/** hangar/echo at $1,000 per million tokens in and out: $0.001 a token. */
const MICROS_PER_TOKEN = 1_000;

let server: TestServer | undefined;
let browser: Browser | undefined;
let client: HangarClient;

beforeAll(async () => {
  if (!existsSync(DIST_INDEX))
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  await Promise.all([
    startServer({ env: { HANGAR_SANDBOX_RAIL_FAIL_PAYEES: 'shop:closed' } }).then((s) => (server = s)),
    launchChromium().then((b) => (browser = b)),
  ]);
  client = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function signedIn(): Promise<{ page: Page; pageErrors: Error[]; close: () => Promise<void> }> {
  return openSignedIn(browser!, server!.url, server!.adminKey, { width: 1400, height: 1000 });
}

const nav = (page: Page, pillar: string) =>
  page.getByRole('navigation', { name: 'Pillars' }).getByRole('link', { name: pillar, exact: true });

/** `$1,234.5678` → micro-units. */
const micros = (text: string) => Math.round(Number(text.replace(/[$,\s]/g, '').replace('−', '-')) * DOLLAR);

/** A fixed UTC offset (Etc/GMT zones count the other way) in which it is about 06:00 now. */
function zoneAtSixInTheMorning(): string {
  let offset = 6 - new Date().getUTCHours();
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

/**
 * One chat call through the gateway as `agent` (in the project of `key`, the admin key's by default);
 * 40 characters of message = 10 tokens in, echoed = 10 out.
 */
async function chat(agent: string, text: string, key = server!.adminKey): Promise<void> {
  expect(text).toHaveLength(40);
  const res = await fetch(`${server!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'x-hangar-agent': agent,
    },
    body: JSON.stringify({
      model: 'hangar/echo',
      max_tokens: 10,
      messages: [{ role: 'user', content: text }],
    }),
  });
  expect(res.status).toBe(200);
}

describe('money in the web UI', () => {
  it('Spend: the day’s cost by agent, model and project (admins), and budgets with remaining, burn rate and a forecast warning', async () => {
    const me = await client.whoami();
    // a second project of the organization, with its own calls: the admin sees both By project
    const research = await client.projects.create('Research');
    const setPrices = (key: string) =>
      fetch(`${server!.url}/v1/prices`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          overrides: [
            // '*echo': the span records the model as hangar/echo, the budget's worst case prices it as echo
            {
              provider: 'hangar',
              model: '*echo',
              effectiveFrom: '2020-01-01',
              input: MICROS_PER_TOKEN * 1e6,
              output: MICROS_PER_TOKEN * 1e6,
            },
          ],
        }),
      });
    expect((await setPrices(server!.adminKey)).status).toBe(200);
    expect((await setPrices(research.key.key)).status).toBe(200);
    const daily = await client.budgets.create({
      name: 'ops daily',
      scope: 'project',
      scopeId: me.project.id,
      period: 'daily',
      timeZone: zoneAtSixInTheMorning(),
      limitMicros: DOLLAR / 2,
    });
    await client.budgets.create({
      name: 'ops monthly',
      scope: 'project',
      scopeId: me.project.id,
      period: 'monthly',
      limitMicros: 100 * DOLLAR,
    });

    await chat('planner', 'Plan a day in Lisbon for Saturday please');
    await chat('planner', 'Find opening hours of Jeronimos Monastry');
    await chat('planner', 'Book a table for two in Belem at one pm.');
    await chat('researcher', 'Summarise reviews of pasteis de nata shp');
    await chat('scout', 'List ferry times from Cais do Sodre now.', research.key.key);
    await chat('scout', 'Compare tram 28 and tuk-tuk fares daily.', research.key.key);
    const perCall = 20 * MICROS_PER_TOKEN; // $0.02
    const today = new Date().toISOString().slice(0, 10);
    const { groups } = await client.traces.aggregates(
      { from: `${today}T00:00:00Z`, to: new Date(Date.now() + 60_000).toISOString() },
      'day',
      { percentiles: false },
    );
    expect(groups.map((g) => [g.key, g.costMicros])).toEqual([[today, 4 * perCall]]);

    const { page, pageErrors, close } = await signedIn();
    try {
      await nav(page, 'Spend').click();
      // the chart: today's bar carries the day's cost, $0.08
      const chart = page.getByRole('img', { name: /^Cost per day,/ });
      await chart.waitFor();
      expect(await chart.getAttribute('aria-label')).toBe('Cost per day, $0.08 in total');
      expect(await chart.locator('title').filter({ hasText: today }).textContent()).toBe(
        `${today}: $0.08 in 4 spans`,
      );

      // stacked by agent: one bar segment each, planner $0.06 and researcher $0.02, and a legend
      await page.getByLabel('Stack by').selectOption('agent');
      const perDay = page.getByRole('region', { name: 'Cost per day' });
      await perDay.getByRole('list', { name: 'Legend' }).waitFor();
      expect(
        await perDay.getByRole('list', { name: 'Legend' }).getByRole('listitem').allTextContents(),
      ).toEqual(['planner', 'researcher']);
      expect(await chart.locator('title').filter({ hasText: today }).allTextContents()).toEqual([
        `${today} · planner: $0.06 (day: $0.08)`,
        `${today} · researcher: $0.02 (day: $0.08)`,
      ]);

      const byAgent = page.getByRole('table', { name: 'Cost by agent' });
      expect(await byAgent.getByRole('row').allInnerTexts()).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^planner\s+3\s+60\s+\$0\.06$/),
          expect.stringMatching(/^researcher\s+1\s+20\s+\$0\.02$/),
        ]),
      );
      const byModel = page.getByRole('table', { name: 'Cost by model' });
      expect(await byModel.getByRole('row', { name: /hangar\/echo/ }).innerText()).toMatch(
        /hangar\/echo\s+4\s+80\s+\$0\.08/,
      );

      // By project (an admin key): this project's $0.08 and Research's $0.04, per day and over the window
      const orgSpend = await client.organization.spend({
        from: `${today}T00:00:00Z`,
        to: new Date(Date.now() + 60_000).toISOString(),
      });
      expect(orgSpend.projects.map((p) => [p.projectName, p.costMicros, p.calls])).toEqual([
        ['Default', 4 * perCall, 4],
        ['Research', 2 * perCall, 2],
      ]);
      const byProjectChart = page.getByRole('img', { name: /^Cost per day by project/ });
      await byProjectChart.waitFor();
      expect(await byProjectChart.getAttribute('aria-label')).toBe('Cost per day by project, $0.12 in total');
      expect(await byProjectChart.locator('title').filter({ hasText: today }).allTextContents()).toEqual([
        `${today} · Default: $0.08 (day: $0.12)`,
        `${today} · Research: $0.04 (day: $0.12)`,
      ]);
      const byProject = page.getByRole('table', { name: 'Cost by project' });
      expect((await byProject.getByRole('row').allInnerTexts()).slice(1)).toEqual([
        expect.stringMatching(/^Default · this project\s+4\s+80\s+\$0\.08$/),
        expect.stringMatching(/^Research\s+2\s+40\s+\$0\.04$/),
      ]);

      // budgets: what a user reads in each row
      const budgets = page.getByRole('table', { name: 'Budgets' });
      const cells = async (name: string) =>
        budgets
          .getByRole('row', { name: new RegExp(name) })
          .getByRole('cell')
          .allInnerTexts();
      const [, , limit, used, remaining, burn, forecast, outlook] = await cells('ops daily');
      expect([limit, used, remaining]).toEqual(['$0.50', '$0.08', '$0.42']);
      // created moments ago: $0.08 paced over the minimum hour is $1.92 a day
      expect(burn).toBe('$1.92 / day');
      // about 18 hours of the day left at $0.08 an hour: far past the $0.50 limit, and the page says so
      const api = (await client.budgets.get(daily.id)).current;
      expect(api.forecastExceedsLimit).toBe(true);
      expect(Math.abs(micros(forecast!) - api.forecastMicros!)).toBeLessThan(api.forecastMicros! / 100);
      expect(micros(forecast!)).toBeGreaterThan(DOLLAR);
      expect(outlook).toBe('Forecast over limit');

      const monthly = await cells('ops monthly');
      expect(monthly.slice(2, 5)).toEqual(['$100.00', '$0.08', '$99.92']);
      expect(monthly[7]).toBe('On track');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}spend.png`, fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }

    // a read-only key sees its project's spend, and no By project (the server would refuse it)
    const viewer = await client.keys.create({ name: 'viewer', role: 'read-only' });
    const asViewer = await openSignedIn(browser!, server!.url, viewer.key, { width: 1400, height: 1000 });
    try {
      await nav(asViewer.page, 'Spend').click();
      await asViewer.page.getByRole('table', { name: 'Cost by agent' }).waitFor();
      await asViewer.page.getByRole('table', { name: 'Budgets' }).waitFor();
      expect(await asViewer.page.getByRole('heading', { name: 'By project' }).count()).toBe(0);
      expect(await asViewer.page.getByRole('img', { name: /^Cost per day by project/ }).count()).toBe(0);
      expect(asViewer.pageErrors).toEqual([]);
    } finally {
      await asViewer.close();
    }
  }, 120_000);

  it('Ledger: an account’s balance, its open hold, and a posted hold with its post', async () => {
    const card = await client.ledger.createAccount({
      kind: 'funding_source',
      name: 'company card',
      currency: 'USD',
    });
    const wallet = await client.ledger.createAccount({
      kind: 'agent',
      name: 'planner wallet',
      code: 'agent:planner',
      currency: 'USD',
      minBalanceMicros: 0,
    });
    const payable = await client.ledger.createAccount({
      kind: 'provider_payable',
      name: 'openai payable',
      currency: 'USD',
    });
    await client.ledger.transfer({
      transfers: [
        {
          debitAccountId: card.id,
          creditAccountId: wallet.id,
          amountMicros: 10 * DOLLAR,
          idempotencyKey: 'top-up-1',
          memo: 'top-up',
        },
      ],
    });
    const open = await client.ledger.hold({
      debitAccountId: wallet.id,
      creditAccountId: payable.id,
      amountMicros: 2_500_000,
      timeoutMs: 3_600_000,
      idempotencyKey: 'call-open',
      memo: 'long call',
    });
    const settled = await client.ledger.hold({
      debitAccountId: wallet.id,
      creditAccountId: payable.id,
      amountMicros: DOLLAR,
      timeoutMs: 3_600_000,
      idempotencyKey: 'call-done',
      memo: 'short call',
    });
    const posted = await client.ledger.post(settled.id, 600_000);

    const { page, pageErrors, close } = await signedIn();
    try {
      await nav(page, 'Ledger').click();
      const accounts = page.getByRole('table', { name: 'Accounts' });
      const walletRow = accounts.getByRole('row', { name: /planner wallet/ });
      await walletRow.waitFor();
      // $10 in, $0.60 charged: balance $9.40; the open $2.50 hold leaves $6.90 available
      expect((await walletRow.getByRole('cell').allInnerTexts()).slice(1)).toEqual([
        'agent',
        '$9.40',
        '$6.90',
        '$2.50',
      ]);

      await walletRow.getByRole('button', { name: 'planner wallet' }).click();
      const detail = page.getByRole('region', { name: 'Account planner wallet' });
      const holds = detail.getByRole('table', { name: 'Open holds' });
      await holds.waitFor();
      const holdRows = holds.getByRole('row');
      expect(await holdRows.count()).toBe(2); // the header and the one open hold
      expect(await holdRows.nth(1).innerText()).toMatch(
        new RegExp(`${open.id}\\s+long call\\s+this account → openai payable\\s+.+\\s+\\$2\\.50$`),
      );

      const transfers = detail.getByRole('table', { name: 'Transfers' });
      const kinds = await transfers.locator('tbody tr td:nth-child(2)').allInnerTexts();
      expect(kinds).toEqual(['post', 'hold', 'hold', 'transfer']); // newest first
      expect(await transfers.locator('tbody tr').first().innerText()).toMatch(
        /^.+\s+post\s+this account → openai payable\s+(.*\s+)?−\$0\.60$/,
      );

      // the post, opened: it resolves the $1.00 hold, which shows as posted with $0.60 charged
      await transfers.locator('tbody tr').first().getByRole('button').click();
      const transfer = page.getByRole('region', { name: `Transfer ${posted.resolution!.id}` });
      await transfer.waitFor();
      expect(await transfer.innerText()).toContain('posted $1.00 held, $0.60 charged');
      const linked = transfer.getByRole('list', { name: 'Linked transfers' });
      expect(await linked.innerText()).toMatch(
        new RegExp(`^hold\\s+${settled.id}\\s+\\$1\\.00, this account → openai payable \\(the hold\\)$`),
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}ledger.png`, fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('Payments: captured and declined payments with payee, amount, purpose and status; the mandate’s cap and what remains', async () => {
    const human = generateKeyPairSync('ed25519');
    const signer = await client.mandates.registerSigner({
      name: 'alice@example.com',
      publicKey: human.publicKey.export({ format: 'jwk' }).x!,
    });
    const terms = {
      signerId: signer.id,
      agentId: 'agt_buyer',
      amountCapMicros: 100 * DOLLAR,
      currency: 'USD',
      payees: ['shop:books', 'shop:closed'],
      merchantCategories: null,
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      use: 'multiple' as const,
      nonce: 'e2e-mandate-1',
    };
    const canonical = JSON.stringify(
      Object.fromEntries(Object.entries(terms).sort(([a], [b]) => a.localeCompare(b))),
    );
    const mandate = await client.mandates.create({
      terms,
      signature: sign(null, Buffer.from(canonical), human.privateKey).toString('base64url'),
    });
    await client.payments.setLimits('agt_buyer', {
      perTransactionMicros: 50 * DOLLAR,
      perDayMicros: 80 * DOLLAR,
    });
    // payments are denied unless a policy permits them
    await client.policies.create({
      name: 'shops',
      text: 'permit(principal, action == Action::"payment.create", resource);',
    });
    const paid = await client.payments.create({
      agentId: 'agt_buyer',
      mandateId: mandate.id,
      payee: 'shop:books',
      amountMicros: 12_340_000,
      purpose: 'Lisbon guidebook',
      idempotencyKey: 'buy-1',
    });
    const declined = await client.payments.create({
      agentId: 'agt_buyer',
      mandateId: mandate.id,
      payee: 'shop:closed',
      amountMicros: 5 * DOLLAR,
      purpose: 'Tram tickets',
      idempotencyKey: 'buy-2',
    });
    expect([paid.status, declined.status]).toEqual(['captured', 'failed']);

    const { page, pageErrors, close } = await signedIn();
    try {
      await nav(page, 'Payments').click();
      const payments = page.getByRole('table', { name: 'Payments' });
      await payments.waitFor();
      const row = (purpose: string) => payments.getByRole('row', { name: new RegExp(purpose) });
      expect(await row('Lisbon guidebook').innerText()).toMatch(
        /agt_buyer\s+shop:books\s+Lisbon guidebook\s+captured\s+sandbox .+\s+\$12\.34$/,
      );
      const failed = await row('Tram tickets').innerText();
      expect(failed).toMatch(/shop:closed\s+Tram tickets\s+failed/);
      expect(failed).toContain(declined.failureReason!);
      expect(failed).toMatch(/\$5\.00$/);

      const mandates = page.getByRole('table', { name: 'Mandates' });
      const cells = await mandates
        .getByRole('row', { name: new RegExp(mandate.id) })
        .getByRole('cell')
        .allInnerTexts();
      expect(cells.slice(1)).toEqual([
        'agt_buyer',
        'shop:books, shop:closed',
        'many times\n1 payment',
        expect.any(String),
        'active',
        '$100.00',
        '$87.66', // the declined payment's hold was released
      ]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}payments.png`, fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);
});
