import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Budget } from '@hangar/protocol';
import { createTestApp, type TestApp } from '../test-app.js';

const HOUR = 3_600_000;

describe('budgets over HTTP', () => {
  let t: TestApp;
  let readOnly: string;

  beforeAll(async () => {
    t = await createTestApp();
    readOnly = (await t.request('POST', '/v1/keys', { body: { name: 'viewer', role: 'read-only' } })).json.key;
  });
  afterAll(async () => {
    await t.close();
  });

  it("shows a period's use, burn rate and forecast against the limit, as a read-only key sees them", async () => {
    await t.request('POST', '/v1/budgets', {
      body: { name: 'tight', scope: 'agent', scopeId: 'agt_a', period: 'daily', timeZone: 'Europe/Paris', limitMicros: 100_000 },
    });
    await t.request('POST', '/v1/budgets', {
      body: { name: 'roomy', scope: 'project', scopeId: 'proj_default', period: 'monthly', limitMicros: 1_000_000_000_000 },
    });
    const forever = (await t.request('POST', '/v1/budgets', {
      body: { name: 'forever', scope: 'agent', scopeId: 'agt_a', period: 'total', limitMicros: 100_000 },
    })).json;
    const chain = [{ scope: 'agent', id: 'agt_a' }, { scope: 'project', id: 'proj_default' }];
    const r = await t.request('POST', '/v1/budgets/reserve', { body: { chain, amountMicros: 80_000, idempotencyKey: 'call-1' } });
    expect(r.json.holdIds).toHaveLength(3);
    await t.request('POST', '/v1/budgets/settle', { body: { holdIds: r.json.holdIds, actualMicros: 60_000 } });

    const list = await t.request('GET', '/v1/budgets', { key: readOnly });
    expect(list.status).toBe(200);
    const byName = new Map<string, Budget>(list.json.budgets.map((b: Budget) => [b.name, b]));
    const day = byName.get('tight')!.current;
    expect(day).toMatchObject({ postedMicros: 60_000, pendingMicros: 0, usedMicros: 60_000, remainingMicros: 40_000 });
    // today in Paris: from local midnight to the next, 23 to 25 hours, and now inside it
    const [start, end, asOf] = [Date.parse(day.periodStart), Date.parse(day.periodEnd!), Date.parse(day.asOf)];
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', timeStyle: 'short' }).format(start)).toBe('00:00');
    expect(end - start).toBeGreaterThanOrEqual(23 * HOUR);
    expect(end - start).toBeLessThanOrEqual(25 * HOUR);
    expect(start <= asOf && asOf < end).toBe(true);
    // created moments ago: $0.06 paced over the minimum hour is $1.44 a day, and the rest of today at
    // that pace passes the $0.10 limit
    expect(day.burnRateMicrosPerDay).toBe(1_440_000);
    expect(day.forecastMicros).toBe(60_000 + Math.floor((60_000 * (end - asOf)) / HOUR));
    expect(day.forecastExceedsLimit).toBe(day.forecastMicros! > 100_000);
    expect(day.forecastExceedsLimit).toBe(end - asOf > 40 * 60_000); // true unless run in the day's last 40 minutes

    const month = byName.get('roomy')!.current;
    expect(month).toMatchObject({ usedMicros: 60_000, forecastExceedsLimit: false });
    expect(new Date(month.periodStart).toISOString()).toMatch(/-01T00:00:00.000Z$/);

    const total = (await t.request('GET', `/v1/budgets/${forever.id}`, { key: readOnly })).json.current;
    expect(total).toMatchObject({ periodKey: 'total', periodEnd: null, forecastMicros: null, forecastExceedsLimit: false, usedMicros: 60_000 });
    expect(total.periodStart).toBe(forever.createdAt);
  });

  it('documents the forecast in the OpenAPI schema', async () => {
    const doc = (await t.request('GET', '/openapi.json')).json;
    const current = doc.paths['/v1/budgets/{id}'].get.responses['200'].content['application/json'].schema.properties.current;
    expect(Object.keys(current.properties)).toEqual(
      expect.arrayContaining(['usedMicros', 'periodStart', 'periodEnd', 'burnRateMicrosPerDay', 'forecastMicros', 'forecastExceedsLimit']),
    );
  });
});
