import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './browser.js';
import { createClient } from '@hangar/sdk';
import { startServer, type TestServer } from './harness.js';

// The Traces page in real Chromium against the real server, with spans sent the way an instrumented
// agent sends them: OTLP/JSON posted to /v1/traces, with GenAI attributes that ingest normalizes and
// prices (the costs asserted below come from the built-in price table).

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const MINUTE = 60_000;
const DAY = 86_400_000;

let server: TestServer | undefined;
let browser: Browser | undefined;

const now = Date.now();
const at = (msAgo: number) => new Date(now - msAgo).toISOString();
let nextId = 1;
const id = (width: number) => (nextId++).toString(16).padStart(width, '0');

type OtlpValue = { stringValue: string } | { intValue: string };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: OtlpValue }>;
  status?: { code: number; message?: string };
}

const nanos = (msAgo: number) => `${BigInt(now - msAgo) * 1_000_000n}`;
const attrs = (a: Record<string, string | number | object>) =>
  Object.entries(a).map(([key, v]) => ({
    key,
    value:
      typeof v === 'number'
        ? { intValue: String(v) }
        : { stringValue: typeof v === 'string' ? v : JSON.stringify(v) },
  }));

/** An OTLP span `agoMs` before now lasting `durationMs`. */
function span(
  traceId: string,
  agoMs: number,
  durationMs: number,
  name: string,
  attributes: Record<string, string | number | object>,
  more: Partial<OtlpSpan> = {},
): OtlpSpan {
  return {
    traceId,
    spanId: id(16),
    name,
    kind: 1,
    startTimeUnixNano: nanos(agoMs),
    endTimeUnixNano: nanos(agoMs - durationMs),
    attributes: attrs(attributes),
    ...more,
  };
}

/** A GenAI chat span (semantic conventions: operation, provider, model, usage, messages as parts). */
function chat(
  traceId: string,
  parent: OtlpSpan,
  agoMs: number,
  durationMs: number,
  call: {
    agent: string;
    provider: string;
    model: string;
    usage: [number, number];
    input: object[];
    output: object[];
  },
): OtlpSpan {
  return span(
    traceId,
    agoMs,
    durationMs,
    `chat ${call.model}`,
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': call.provider,
      'gen_ai.request.model': call.model,
      'gen_ai.agent.name': call.agent,
      'gen_ai.usage.input_tokens': call.usage[0],
      'gen_ai.usage.output_tokens': call.usage[1],
      'gen_ai.input.messages': call.input,
      'gen_ai.output.messages': call.output,
    },
    { parentSpanId: parent.spanId, kind: 3 },
  );
}

const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });

/** A trip-planning agent: an LLM call that asks for a tool, the tool, and the final answer. */
function planTrip(): OtlpSpan[] {
  const trace = id(32);
  const root = span(trace, 10 * MINUTE, 4200, 'Plan a trip to Lisbon', {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'planner',
  });
  const query = { query: 'Jerónimos Monastery opening hours Saturday' };
  const firstCall = chat(trace, root, 10 * MINUTE - 100, 1500, {
    agent: 'planner',
    provider: 'openai',
    model: 'gpt-4o',
    usage: [420, 38],
    input: [
      text('system', 'You plan trips. Use web_search for opening hours.'),
      text('user', 'Plan a day in Lisbon for Saturday.'),
    ],
    output: [
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'web_search', arguments: query }],
        finish_reason: 'tool_call',
      },
    ],
  });
  const tool = span(
    trace,
    10 * MINUTE - 1700,
    800,
    'execute_tool web_search',
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.agent.name': 'planner',
      'gen_ai.tool.name': 'web_search',
      'gen_ai.tool.call.arguments': query,
      'gen_ai.tool.call.result': { results: ['Open 09:30–18:00, closed Mondays'] },
    },
    { parentSpanId: root.spanId },
  );
  const finalCall = chat(trace, root, 10 * MINUTE - 2600, 1500, {
    agent: 'planner',
    provider: 'openai',
    model: 'gpt-4o',
    usage: [510, 160],
    input: [text('user', 'Plan a day in Lisbon for Saturday.')],
    output: [text('assistant', 'Start at Jerónimos Monastery at 09:30, then pastéis de nata in Belém.')],
  });
  return [root, firstCall, tool, finalCall];
}

/** An inbox summarizer on Claude whose mail tool failed. */
function summarizeInbox(agoMs: number): OtlpSpan[] {
  const trace = id(32);
  const root = span(trace, agoMs, 2500, 'Summarize inbox', {
    'openinference.span.kind': 'CHAIN',
    'gen_ai.agent.name': 'writer',
  });
  const call = chat(trace, root, agoMs - 50, 2000, {
    agent: 'writer',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    usage: [2200, 300],
    input: [text('user', 'Summarize my unread mail.')],
    output: [text('assistant', 'You have 3 unread messages.')],
  });
  const tool = span(
    trace,
    agoMs - 2100,
    300,
    'execute_tool fetch_mail',
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.agent.name': 'writer',
      'gen_ai.tool.name': 'fetch_mail',
      'error.type': 'ConnectionError',
    },
    { parentSpanId: root.spanId, status: { code: 2, message: 'IMAP connection refused' } },
  );
  return [root, call, tool];
}

beforeAll(async () => {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(
      `The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`,
    );
  }
  await Promise.all([startServer().then((s) => (server = s)), launchChromium().then((b) => (browser = b))]);

  // Today's two traces, and one inbox run on each of the five days before, for the cost chart: one
  // export request, as a BatchSpanProcessor would send them.
  const spans = [
    planTrip(),
    summarizeInbox(5 * MINUTE),
    ...[1, 2, 3, 4, 5].map((d) => summarizeInbox(d * DAY + MINUTE)),
  ].flat();
  const res = await fetch(`${server!.url}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server!.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: attrs({ 'service.name': 'travel-agent' }) },
          scopeSpans: [{ scope: { name: 'travel-agent' }, spans }],
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({}); // no partialSuccess: every span was stored
});

afterAll(async () => {
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

    // Seven days: six inbox runs and the trip; the chart adds up every day's cost. The filters are
    // cleared and the window widened in one go, before the page has caught up with the first change
    // (as a quick hand or a slow machine does): the second change keeps the first.
    const clear = await page.getByRole('button', { name: 'Clear filters' }).elementHandle();
    const windowPicker = await page.getByLabel('Time window', { exact: true }).elementHandle();
    await page.evaluate(
      ([button, select]) => {
        // (tests are typed without the DOM library: the two elements as far as this uses them)
        (button as unknown as { click(): void }).click();
        const windowSelect = select as unknown as { value: string; dispatchEvent(event: Event): void };
        windowSelect.value = '7d';
        windowSelect.dispatchEvent(new Event('change', { bubbles: true }));
      },
      [clear, windowPicker] as const,
    );
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
