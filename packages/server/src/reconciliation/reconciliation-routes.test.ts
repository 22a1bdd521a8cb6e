import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import type { SpanInput } from '../traces/traces-service.js';

const TRACE = 'c'.repeat(32);

function call(spanId: string, provider: string, providerCostMicros: number | null): SpanInput {
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: null,
    name: 'chat gpt-4o',
    kind: 'llm',
    status: 'ok',
    statusMessage: null,
    errorType: null,
    startTime: '2026-03-01T10:00:00.000Z',
    endTime: '2026-03-01T10:00:01.000Z',
    durationMs: 1000,
    serviceName: 'hangar-gateway',
    agent: 'planner',
    provider,
    model: 'gpt-4o',
    usage: { input: 1000, output: 500, cacheRead: null, cacheWrite: null, reasoning: null },
    providerCostMicros,
    toolName: null,
    attributes: {},
    source: 'gateway',
  };
}

describe('GET /v1/reconciliation', () => {
  let t: TestApp;
  let priced: number;

  beforeAll(async () => {
    t = await createTestApp();
    const [probe] = await t.traces.record('proj_default', [call('0'.repeat(16), 'openai', null)]);
    priced = probe!.costMicros!;
    expect(priced).toBeGreaterThan(0);
    await t.traces.record('proj_default', [
      call('1'.repeat(16), 'openai', priced), // agrees
      call('2'.repeat(16), 'openai', priced + 5), // the deliberate difference
      call('3'.repeat(16), 'anthropic', null), // reports no cost: nothing to compare
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  it("lists each provider's totals and every call whose reported cost differs from Hangar's", async () => {
    const res = await t.request('GET', '/v1/reconciliation?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(false);
    expect(res.json.providers).toEqual([
      { provider: 'anthropic', calls: 1, hangarMicros: priced, reportedCalls: 0, providerMicros: 0, hangarMicrosOfReported: 0, differenceMicros: 0 },
      { provider: 'openai', calls: 3, hangarMicros: 3 * priced, reportedCalls: 2, providerMicros: 2 * priced + 5, hangarMicrosOfReported: 2 * priced, differenceMicros: -5 },
    ]);
    expect(res.json.differences).toEqual([
      expect.objectContaining({ kind: 'provider_cost', source: 'openai', spanId: `${TRACE}/${'2'.repeat(16)}`, hangarMicros: priced, externalMicros: priced + 5 }),
    ]);
    expect(res.json.rails).toEqual([{ rail: 'sandbox', payments: 0, statementEntries: 0, ledgerMicros: 0, railMicros: 0, differenceMicros: 0 }]);
  });

  it('a window without calls has no differences; a bad window is a 400', async () => {
    expect((await t.request('GET', '/v1/reconciliation?from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z')).json).toMatchObject({ ok: true, providers: [], differences: [] });
    const bad = await t.request('GET', '/v1/reconciliation?from=2026-04-02T00:00:00Z&to=2026-04-01T00:00:00Z');
    expect([bad.status, bad.json.error.code]).toEqual([400, 'validation_failed']);
    expect((await t.request('GET', '/v1/reconciliation?from=yesterday')).status).toBe(400);
  });
});
