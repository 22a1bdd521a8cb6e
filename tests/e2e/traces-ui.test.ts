import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './browser.js';
import { createClient } from '@hangar/sdk';
import { openDatabase, type OpenDatabase } from '@hangar/server';
import { createBlobStore } from '../../packages/server/src/blobs/blob-store.js';
import { createTraces, type SpanInput } from '../../packages/server/src/traces/traces-service.js';
import { startServer, type TestServer } from './harness.js';

// The Traces page in real Chromium against the real server, with spans written into the server's
// SQLite data dir by this process (WAL lets a second process write next to the server).

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const MINUTE = 60_000;
const DAY = 86_400_000;

let server: TestServer | undefined;
let browser: Browser | undefined;
let database: OpenDatabase | undefined;

const now = Date.now();
const at = (msAgo: number) => new Date(now - msAgo).toISOString();
let nextId = 1;
const id = (width: number) => (nextId++).toString(16).padStart(width, '0');

/** A span `agoMs` before now lasting `durationMs`. */
function span(traceId: string, agoMs: number, durationMs: number, more: Partial<SpanInput>): SpanInput {
  return {
    traceId,
    spanId: id(16),
    parentSpanId: null,
    name: 'span',
    kind: 'other',
    status: 'ok',
    statusMessage: null,
    errorType: null,
    startTime: at(agoMs),
    endTime: at(agoMs - durationMs),
    durationMs,
    serviceName: 'travel-agent',
    agent: null,
    provider: null,
    model: null,
    usage: { input: null, output: null, cacheRead: null, cacheWrite: null, reasoning: null },
    providerCostMicros: null,
    toolName: null,
    attributes: {},
    source: 'otlp',
    ...more,
  };
}

const usage = (input: number, output: number) => ({
  input,
  output,
  cacheRead: null,
  cacheWrite: null,
  reasoning: null,
});

/** A trip-planning agent: an LLM call that asks for a tool, the tool, and the final answer. */
function planTrip(): { spans: SpanInput[]; costs: Array<[string, number]> } {
  const trace = id(32);
  const root = span(trace, 10 * MINUTE, 4200, {
    name: 'Plan a trip to Lisbon',
    kind: 'agent',
    agent: 'planner',
  });
  const firstCall = span(trace, 10 * MINUTE - 100, 1500, {
    parentSpanId: root.spanId,
    name: 'chat gpt-4o',
    kind: 'llm',
    agent: 'planner',
    provider: 'openai',
    model: 'gpt-4o',
    usage: usage(420, 38),
    attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.system': 'openai' },
    input: [
      { role: 'system', content: 'You plan trips. Use web_search for opening hours.' },
      { role: 'user', content: 'Plan a day in Lisbon for Saturday.' },
    ],
    output: [
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          {
            id: 'call_1',
            name: 'web_search',
            arguments: { query: 'Jerónimos Monastery opening hours Saturday' },
          },
        ],
      },
    ],
  });
  const tool = span(trace, 10 * MINUTE - 1700, 800, {
    parentSpanId: root.spanId,
    name: 'execute_tool web_search',
    kind: 'tool',
    agent: 'planner',
    toolName: 'web_search',
    input: { query: 'Jerónimos Monastery opening hours Saturday' },
    output: { results: ['Open 09:30–18:00, closed Mondays'] },
  });
  const finalCall = span(trace, 10 * MINUTE - 2600, 1500, {
    parentSpanId: root.spanId,
    name: 'chat gpt-4o',
    kind: 'llm',
    agent: 'planner',
    provider: 'openai',
    model: 'gpt-4o',
    usage: usage(510, 160),
    attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.system': 'openai' },
    input: [{ role: 'user', content: 'Plan a day in Lisbon for Saturday.' }],
    output: [
      { role: 'assistant', content: 'Start at Jerónimos Monastery at 09:30, then pastéis de nata in Belém.' },
    ],
  });
  return {
    spans: [root, firstCall, tool, finalCall],
    costs: [
      [firstCall.spanId, 1430],
      [finalCall.spanId, 2875],
    ],
  };
}

/** An inbox summarizer on Claude whose mail tool failed. */
function summarizeInbox(agoMs: number): { spans: SpanInput[]; costs: Array<[string, number]> } {
  const trace = id(32);
  const root = span(trace, agoMs, 2500, { name: 'Summarize inbox', kind: 'chain', agent: 'writer' });
  const call = span(trace, agoMs - 50, 2000, {
    parentSpanId: root.spanId,
    name: 'chat claude-sonnet-4',
    kind: 'llm',
    agent: 'writer',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    usage: usage(2200, 300),
    input: [{ role: 'user', content: 'Summarize my unread mail.' }],
    output: [{ role: 'assistant', content: 'You have 3 unread messages.' }],
  });
  const tool = span(trace, agoMs - 2100, 300, {
    parentSpanId: root.spanId,
    name: 'execute_tool fetch_mail',
    kind: 'tool',
    agent: 'writer',
    toolName: 'fetch_mail',
    status: 'error',
    statusMessage: 'IMAP connection refused',
    errorType: 'ConnectionError',
  });
  return { spans: [root, call, tool], costs: [[call.spanId, 11_100]] };
}

beforeAll(async () => {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  }
  await Promise.all([startServer().then((s) => (server = s)), launchChromium().then((b) => (browser = b))]);

  const me = await createClient({ baseUrl: server!.url, apiKey: server!.adminKey }).whoami();
  database = await openDatabase({ dataDir: server!.dataDir });
  const traces = createTraces({ db: database.db, blobs: createBlobStore({ dir: database.blobDir }) });
  // Today's two traces, and one inbox run on each of the five days before, for the cost chart.
  const seeded = [
    planTrip(),
    summarizeInbox(5 * MINUTE),
    ...[1, 2, 3, 4, 5].map((d) => summarizeInbox(d * DAY + MINUTE)),
  ];
  for (const { spans, costs } of seeded) {
    await traces.record(me.project.id, spans);
    // Cost comes from the price table once pricing lands; until then the test sets it on the row.
    for (const [spanId, costMicros] of costs) {
      await database.db
        .updateTable('spans')
        .set({ cost_micros: costMicros })
        .where('span_id', '=', spanId)
        .execute();
    }
  }
});

afterAll(async () => {
  await database?.close();
  await browser?.close();
  await server?.stop();
});

async function signedInPage(): Promise<{ page: Page; pageErrors: Error[]; close: () => Promise<void> }> {
  const { page, pageErrors, close } = await openPage(browser!, server!.url, { width: 1280, height: 900 });
  await page.getByLabel('API key', { exact: true }).fill(server!.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Traces', level: 1 }).waitFor();
  return { page, pageErrors, close };
}

const traceRows = (page: Page) =>
  page
    .getByRole('table')
    .getByRole('row')
    .filter({ has: page.getByRole('link') });

describe('Traces UI', () => {
  it('finds the seeded traces through the SDK', async () => {
    const client = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const window = { from: at(DAY), to: at(-MINUTE) };
    const byAttr = await client.traces.list({ ...window, attributes: { 'gen_ai.request.model': 'gpt-4o' } });
    expect(byAttr.traces.map((t) => [t.rootName, t.spanCount, t.costMicros, t.totalTokens])).toEqual([
      ['Plan a trip to Lisbon', 4, 4305, 1128],
    ]);
    const errors = await client.traces.search({ ...window, status: 'error', kind: ['tool'] });
    expect(errors.spans.map((s) => s.statusMessage)).toEqual(['IMAP connection refused']);
    const byModel = await client.traces.aggregates({ ...window, kind: 'llm' }, 'model');
    expect(byModel.groups.map((g) => [g.key, g.calls, g.costMicros])).toEqual([
      ['claude-sonnet-4', 1, 11_100],
      ['gpt-4o', 2, 4305],
    ]);
  });

  it('lists traces, filters them, and opens one as a waterfall with its conversation', async () => {
    const { page, pageErrors, close } = await signedInPage();

    // Last 24 hours: today's two traces, newest first, with their totals.
    await expect.poll(() => traceRows(page).count()).toBe(2);
    expect(await traceRows(page).nth(0).textContent()).toContain('Summarize inbox');
    const plan = traceRows(page).filter({ hasText: 'Plan a trip to Lisbon' });
    for (const text of ['planner', 'gpt-4o', '4.20 s', '1,128', '$0.0043'])
      expect(await plan.textContent()).toContain(text);
    expect(await traceRows(page).nth(0).textContent()).toContain('1 error');

    // Filter by model, then by status; the filters live in the address.
    await page.getByLabel('Model', { exact: true }).selectOption('claude-sonnet-4');
    await expect.poll(() => traceRows(page).count()).toBe(1);
    expect(await traceRows(page).nth(0).textContent()).toContain('Summarize inbox');
    expect(page.url()).toContain('model=claude-sonnet-4');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => traceRows(page).count()).toBe(2);
    await page.getByLabel('Min span cost (USD)', { exact: true }).fill('0.01');
    await page.getByLabel('Min span cost (USD)', { exact: true }).press('Enter');
    await expect.poll(() => traceRows(page).count()).toBe(1);
    expect(await traceRows(page).nth(0).textContent()).toContain('Summarize inbox');
    await page.getByRole('button', { name: 'Clear filters' }).click();

    // Seven days: six inbox runs and the trip; the chart adds up every day's cost.
    await page.getByLabel('Time window', { exact: true }).selectOption('7d');
    await expect.poll(() => traceRows(page).count()).toBe(7);
    const chart = page.getByRole('img', { name: /Cost per day/ });
    expect(await chart.getAttribute('aria-label')).toBe('Cost per day, $0.0709 in total'); // 6 × 11,100 + 4,305 micros
    expect(await chart.locator('rect.bar').count()).toBe(8);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}traces-list.png`, fullPage: true });

    // The trip: a tree of four spans with a waterfall, and the first model call's conversation.
    await page.getByRole('link', { name: 'Plan a trip to Lisbon' }).click();
    await page.getByRole('heading', { name: 'Plan a trip to Lisbon', level: 1 }).waitFor();
    const tree = page.getByRole('tree');
    expect(await tree.getByRole('treeitem').count()).toBe(4);
    expect(
      await tree.getByRole('treeitem').evaluateAll((items) => items.map((i) => i.getAttribute('aria-level'))),
    ).toEqual(['1', '2', '2', '2']);
    const bars = tree.locator('.span-bar');
    expect(await bars.nth(0).getAttribute('style')).toMatch(/left: 0%/);
    const width = async (i: number) => (await bars.nth(i).boundingBox())!.width;
    expect(await width(3)).toBeGreaterThan(await width(2)); // 1.5 s of model call against 0.8 s of tool
    expect(await width(0)).toBeGreaterThan(await width(3)); // the root spans the whole trace

    await tree.getByRole('treeitem').nth(1).click();
    const conversation = page.getByRole('region', { name: 'Conversation' });
    await conversation.getByText('Plan a day in Lisbon for Saturday.').waitFor();
    expect(await conversation.getByRole('article').count()).toBe(3); // system, user, the assistant's tool call
    await conversation.getByText('web_search', { exact: true }).waitFor(); // the tool call, with its arguments
    expect(await conversation.locator('.tool-call pre').textContent()).toContain(
      'Jerónimos Monastery opening hours Saturday',
    );
    const detail = page.getByRole('region', { name: 'Span detail' });
    for (const text of ['gpt-4o', '420 in · 38 out', '$0.00143'])
      expect(await detail.textContent()).toContain(text);
    await page.screenshot({ path: `${ARTIFACTS}trace-view.png`, fullPage: true });

    // The tool span shows its arguments and result.
    await tree.getByRole('treeitem').nth(2).click();
    await page.getByRole('region', { name: 'Result' }).getByText('Open 09:30–18:00').waitFor();

    // Back to the list keeps the window.
    await page.getByRole('link', { name: '← Traces' }).click();
    await expect.poll(() => traceRows(page).count()).toBe(7);
    expect(pageErrors).toEqual([]);
    await close();
  });
});
