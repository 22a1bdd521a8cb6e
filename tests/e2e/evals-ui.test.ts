import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type HangarClient } from '@hangar/sdk';
import type { TrialResult } from '@hangar/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openSignedIn } from './browser.js';
import { startServer, type TestServer } from './harness.js';

// The Evals pages in real Chromium against a real server, seeded through the SDK and OTLP.

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
let server: TestServer | undefined;
let browser: Browser | undefined;
let hangar: HangarClient;

beforeAll(async () => {
  if (!existsSync(DIST_INDEX))
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  await Promise.all([
    startServer({ env: { HANGAR_ONLINE_EVAL_INTERVAL_MS: '200' } }).then((s) => (server = s)),
    launchChromium().then((b) => (browser = b)),
  ]);
  hangar = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
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

/** Spans over OTLP/JSON: one chat span per (start time, answer). */
async function ingest(
  spans: Array<{ traceId: string; spanId: string; name: string; startMs: number; answer: string }>,
) {
  const res = await fetch(`${server!.url}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server!.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                name: s.name,
                kind: 3,
                startTimeUnixNano: String(BigInt(s.startMs) * 1_000_000n),
                endTimeUnixNano: String(BigInt(s.startMs + 1) * 1_000_000n),
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  {
                    key: 'gen_ai.output.messages',
                    value: {
                      stringValue: JSON.stringify([
                        { role: 'assistant', parts: [{ type: 'text', content: s.answer }] },
                      ]),
                    },
                  },
                ],
              })),
            },
          ],
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** `−0.750` as the UI writes deltas. */
const delta = (n: number) =>
  n < 0 ? `−${Math.abs(n).toFixed(3)}` : n > 0 ? `+${n.toFixed(3)}` : n.toFixed(3);

describe('evals in the web UI', () => {
  it('lists experiments, shows every trial with its trace, compares with a verdict and CI', async () => {
    const caseIds = Array.from({ length: 20 }, (_, i) => `c${i + 1}`);
    await hangar.datasets.create({
      name: 'support',
      cases: caseIds.map((id) => ({ id, input: `question ${id}`, expected: `answer ${id}` })),
    });
    const traceId = 'a'.repeat(32);
    await ingest([
      { traceId, spanId: 'b'.repeat(16), name: 'answer c1', startMs: Date.now(), answer: 'answer c1' },
    ]);

    // Both score `polite` the same; the candidate gets `exact` wrong on 15 of 20 cases.
    const run = async (name: string, exactFor: (caseId: string) => number) => {
      const exp = await hangar.experiments.create({ name, datasetId: 'support', trials: 2 });
      const results: TrialResult[] = caseIds.flatMap((caseId, i) =>
        [0, 1].map((trial) => ({
          caseId,
          trial,
          output: exactFor(caseId) ? `answer ${caseId}` : `wrong ${caseId}`,
          durationMs: 100 + i,
          costMicros: 1000,
          traceId: caseId === 'c1' && trial === 0 ? traceId : null,
          scores: [
            { name: 'exact', value: exactFor(caseId), pass: exactFor(caseId) === 1 },
            { name: 'polite', value: 0.5 + (i % 5) / 10 },
          ],
        })),
      );
      await hangar.experiments.postResults(exp.id, results);
      await hangar.experiments.finish(exp.id);
      return exp;
    };
    const baseline = await run('prompt-v1', () => 1);
    const candidate = await run('prompt-v2', (caseId) => (Number(caseId.slice(1)) <= 15 ? 0 : 1));
    const expected = await hangar.experiments.compare(candidate.id, baseline.id);
    const exact = expected.metrics.find((m) => m.name === 'exact')!;
    expect(exact.verdict).toBe('regressed');

    const { page, pageErrors, close } = await signedIn();
    await nav(page, 'Evals').click();
    const list = page.getByRole('table', { name: 'Experiments' });
    await list.waitFor();
    const row = list.getByRole('row').filter({ hasText: 'prompt-v2' });
    expect(await row.textContent()).toMatch(/support@1.*completed.*40 \/ 40/);
    expect(await row.textContent()).toContain('exact 0.25');

    await row.getByRole('link', { name: 'prompt-v2' }).click();
    const summaries = page.getByRole('table', { name: 'Score summaries' });
    await summaries.waitFor();
    expect(await summaries.getByRole('row').filter({ hasText: 'exact' }).textContent()).toContain('25.0%');
    expect(await page.getByRole('img', { name: 'Distribution of exact' }).count()).toBe(1);
    const trials = page.getByRole('table', { name: 'Trials' });
    await trials.waitFor();
    // 20 cases × 2 trials, each its own row under its case.
    expect(await trials.locator('tbody tr').count()).toBe(40);
    expect(await trials.locator('tbody tr[data-case="c3"]').first().textContent()).toContain('wrong c3');

    await trials.getByRole('link', { name: 'Trace of c1 trial 0' }).click();
    await page.getByRole('heading', { name: 'answer c1' }).first().waitFor();
    expect(page.url()).toContain(`#/traces/${traceId}`);
    await page.goBack();

    await page.getByLabel('Compare with…').selectOption(baseline.id);
    await page.getByRole('button', { name: 'Compare' }).click();
    const metrics = page.getByRole('table', { name: 'Metrics' });
    await metrics.waitFor();
    const exactRow = await metrics.locator('tr[data-metric="exact"]').textContent();
    expect(exactRow).toContain('regressed');
    expect(exactRow).toContain(`[${delta(exact.ciLow!)}, ${delta(exact.ciHigh!)}]`);
    expect(exact.ciHigh!).toBeLessThan(0);
    expect(await metrics.locator('tr[data-metric="polite"]').textContent()).toContain(
      'no significant change',
    );
    expect(await page.getByRole('img', { name: /^exact: delta −0\.750, 95% CI/ }).count()).toBe(1);
    const firstCase = page.getByRole('table', { name: 'Per-case deltas' }).locator('tbody tr').first();
    expect(await firstCase.textContent()).toMatch(/^c11 → 0 \(−1\.000\)/);

    // The dataset the experiments ran on, version by version.
    await page.getByRole('navigation', { name: 'Evals' }).getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('table', { name: 'Datasets' }).getByRole('link', { name: 'support' }).click();
    await page.getByRole('table', { name: 'Versions' }).getByRole('link', { name: 'v1' }).waitFor();
    const cases = page.getByRole('table', { name: 'Cases' });
    await cases.waitFor();
    expect(await cases.locator('tbody tr').count()).toBe(20);
    expect(await cases.locator('tbody tr').first().textContent()).toContain('question c1');
    expect(pageErrors).toEqual([]);
    await close();
  }, 90_000);

  it('shows a drift alert raised by the worker and acknowledges it', async () => {
    const rule = await hangar.onlineEvals.create({
      name: 'says yes',
      scorer: { type: 'includes', text: 'yes' },
      drift: { windowHours: 1, referenceHours: 24, alpha: 0.01 },
    });
    // Twelve good answers five hours ago, twelve bad ones now.
    const now = Date.now();
    await ingest(
      Array.from({ length: 24 }, (_, i) => ({
        traceId: hex(0xd000 + i, 32),
        spanId: hex(0xe000 + i, 16),
        name: 'chat',
        startMs: i < 12 ? now - 5 * 3_600_000 + i : now - 1000 + i,
        answer: i < 12 ? 'yes, of course' : 'no',
      })),
    );
    let alerts: Awaited<ReturnType<typeof hangar.onlineEvals.alerts>>['alerts'] = [];
    for (let i = 0; i < 150 && alerts.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      alerts = (await hangar.onlineEvals.alerts({ ruleId: rule.id })).alerts;
    }
    expect(alerts).toHaveLength(1);

    const { page, pageErrors, close } = await signedIn();
    await nav(page, 'Evals').click();
    await page.getByRole('navigation', { name: 'Evals' }).getByRole('link', { name: 'Online evals' }).click();
    expect(await page.getByRole('table', { name: 'Online eval rules' }).textContent()).toContain(
      'includes “yes”',
    );
    const alertRow = page
      .getByRole('table', { name: 'Drift alerts' })
      .locator(`tr[data-alert="${alerts[0]!.id}"]`);
    expect(await alertRow.textContent()).toMatch(/says yes.*1 → 0.*12 \/ 12/);
    await alertRow.getByRole('button', { name: 'Acknowledge' }).click();
    await alertRow.getByText(/^Acknowledged /).waitFor();
    expect((await hangar.onlineEvals.alerts({ unacknowledged: true })).alerts).toEqual([]);
    expect(pageErrors).toEqual([]);
    await close();
  }, 90_000);
});
