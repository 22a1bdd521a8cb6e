import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';

const otlpSpan = (spanId: string) => ({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: '1'.repeat(32),
              spanId,
              name: 'chat',
              startTimeUnixNano: '1760000000000000000',
              endTimeUnixNano: '1760000001000000000',
              attributes: [
                { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: 1_000_000 } },
                { key: 'gen_ai.usage.output_tokens', value: { intValue: 0 } },
              ],
            },
          ],
        },
      ],
    },
  ],
});

describe('GET and PUT /v1/prices', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the built-in table and no overrides at first', async () => {
    const res = await t.request('GET', '/v1/prices');
    expect(res.status).toBe(200);
    expect(res.json.overrides).toEqual([]);
    expect(res.json.builtIn).toContainEqual(expect.objectContaining({ provider: 'openai', model: 'gpt-4o-mini*', input: 150_000, output: 600_000 }));
  });

  it('an override prices spans recorded after it; clearing it restores the table', async () => {
    expect((await t.request('POST', '/v1/traces', { body: otlpSpan('0000000000000001') })).status).toBe(200);
    const override = { provider: 'openai', model: 'gpt-4o-mini*', effectiveFrom: '2025-01-01', input: 120_000, output: 480_000 };
    const put = await t.request('PUT', '/v1/prices', { body: { overrides: [override] } });
    expect([put.status, put.json.overrides]).toEqual([200, [override]]);
    expect((await t.request('POST', '/v1/traces', { body: otlpSpan('0000000000000002') })).status).toBe(200);
    expect((await t.request('PUT', '/v1/prices', { body: { overrides: [] } })).json.overrides).toEqual([]);
    expect((await t.request('POST', '/v1/traces', { body: otlpSpan('0000000000000003') })).status).toBe(200);
    const costs = (await t.traces.trace('proj_default', '1'.repeat(32))).sort((a, b) => a.spanId.localeCompare(b.spanId)).map((s) => s.costMicros);
    expect(costs).toEqual([150_000, 120_000, 150_000]);
  });

  it('rejects a malformed entry and keeps the overrides as they were', async () => {
    const bad = await t.request('PUT', '/v1/prices', { body: { overrides: [{ provider: 'openai', model: 'x', effectiveFrom: 'soon', input: 1.5, output: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('validation_failed');
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['json.overrides.0.effectiveFrom', 'json.overrides.0.input']);
    expect((await t.request('GET', '/v1/prices')).json.overrides).toEqual([]);
  });

  it('changing prices needs admin; reading needs read', async () => {
    const member = (await t.request('POST', '/v1/keys', { body: { name: 'm', role: 'member' } })).json.key as string;
    const ingest = (await t.request('POST', '/v1/keys', { body: { name: 'i', role: 'ingest-only' } })).json.key as string;
    expect((await t.request('PUT', '/v1/prices', { key: member, body: { overrides: [] } })).status).toBe(403);
    expect((await t.request('GET', '/v1/prices', { key: member })).status).toBe(200);
    expect((await t.request('GET', '/v1/prices', { key: ingest })).status).toBe(403);
  });
});
