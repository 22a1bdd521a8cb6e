import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createLedger, type Ledger } from '../ledger/ledger-service.js';
import { newId } from '../util/ids.js';
import { createWebhooks, signature, type Webhooks } from '../webhooks/webhook-service.js';
import { burnRate, periodBounds, periodKey } from './budget-periods.js';
import { createBudgets, type Budgets } from './budgets-service.js';

const CENT = 10_000;
const DOLLAR = 1_000_000;

describe('budget periods', () => {
  it('align days and months to midnight in the budget time zone', () => {
    const at = new Date('2026-11-30T16:30:00Z');
    expect(periodKey('daily', 'UTC', at)).toBe('2026-11-30');
    expect(periodKey('daily', 'Asia/Tokyo', at)).toBe('2026-12-01'); // 01:30 the next day there
    expect(periodKey('monthly', 'Asia/Tokyo', at)).toBe('2026-12');
    expect(periodKey('daily', 'America/Los_Angeles', new Date('2026-12-01T07:59:00Z'))).toBe('2026-11-30');
    expect(periodKey('total', 'Europe/Paris', at)).toBe('total');
  });

  it('start and end at local midnight, across DST changes and where midnight does not exist', () => {
    const iso = (b: { start: number; end: number } | null) => b && [new Date(b.start).toISOString(), new Date(b.end).toISOString()];
    expect(iso(periodBounds('daily', 'Europe/Paris', new Date('2026-11-25T10:00:00Z')))).toEqual(['2026-11-24T23:00:00.000Z', '2026-11-25T23:00:00.000Z']);
    // the day clocks go forward is 23 hours long, the day they go back 25
    expect(iso(periodBounds('daily', 'Europe/Paris', new Date('2026-03-29T10:00:00Z')))).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(iso(periodBounds('daily', 'America/New_York', new Date('2026-11-01T10:00:00Z')))).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
    // Santiago skips from 23:59 to 01:00 on 6 September 2026: that day starts at 01:00 (-03)
    expect(iso(periodBounds('daily', 'America/Santiago', new Date('2026-09-06T12:00:00Z')))).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
    // 01:00 on 1 January in Tokyo is in January, across the year
    expect(iso(periodBounds('monthly', 'Asia/Tokyo', new Date('2026-12-31T16:00:00Z')))).toEqual(['2026-12-31T15:00:00.000Z', '2027-01-31T15:00:00.000Z']);
    expect(periodBounds('total', 'UTC', new Date())).toBeNull();
  });

  it('burn rate is use per day so far, counted over at least an hour; the forecast extends it to the period end', () => {
    const midnight = Date.parse('2026-11-25T00:00:00Z');
    const HOUR = 3_600_000;
    const day = { since: midnight, end: midnight + 24 * HOUR, limitMicros: 20 * DOLLAR };
    expect(burnRate({ ...day, usedMicros: 6 * DOLLAR, now: midnight + 6 * HOUR })).toEqual({
      burnRateMicrosPerDay: 24 * DOLLAR,
      forecastMicros: 24 * DOLLAR,
      forecastExceedsLimit: true,
    });
    expect(burnRate({ ...day, usedMicros: 4 * DOLLAR, now: midnight + 6 * HOUR })).toEqual({
      burnRateMicrosPerDay: 16 * DOLLAR,
      forecastMicros: 16 * DOLLAR,
      forecastExceedsLimit: false,
    });
    // a cent one minute into the day: paced over an hour, not over a minute (which would say $14.40)
    expect(burnRate({ ...day, usedMicros: CENT, now: midnight + 60_000 }).forecastMicros).toBe(CENT + Math.floor((CENT * (24 * HOUR - 60_000)) / HOUR));
    // integer micro-units, rounded down; no forecast for a period that never ends
    expect(burnRate({ ...day, usedMicros: 1, now: midnight + 7 * HOUR })).toEqual({ burnRateMicrosPerDay: 3, forecastMicros: 3, forecastExceedsLimit: false });
    expect(burnRate({ ...day, end: null, usedMicros: DOLLAR, now: midnight + 12 * HOUR })).toEqual({
      burnRateMicrosPerDay: 2 * DOLLAR,
      forecastMicros: null,
      forecastExceedsLimit: false,
    });
  });
});

/** A webhook receiver on a real socket; answers 500 to the first `failFirst` requests. */
async function receiver(failFirst = 0) {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  let failures = failFirst;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = failures-- > 0 ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const dialect of DIALECTS) {
  describe(`budgets on ${dialect}`, () => {
    let t: TestDatabase;
    let clock: number;
    let ledger: Ledger;
    let webhooks: Webhooks;
    let budgets: Budgets;
    let P: string;

    beforeAll(async () => {
      t = await openTestDatabase(dialect);
    });
    afterAll(async () => {
      await t.close();
    });
    beforeEach(() => {
      P = newId('proj');
      clock = Date.parse('2026-11-25T10:00:00Z');
      ledger = createLedger({ db: t.db, direct: t.direct, now: () => clock });
      webhooks = createWebhooks({ db: t.db, now: () => clock, backoffBaseMs: 1 });
      budgets = createBudgets({ db: t.db, ledger, webhooks, now: () => clock });
    });

    const chain = () => [
      { scope: 'run' as const, id: 'run_1' },
      { scope: 'agent' as const, id: 'agt_1' },
      { scope: 'project' as const, id: P },
    ];

    it('reserves on every budget of the chain, refuses naming the narrowest that cannot pay, and settles the actual', async () => {
      const project = await budgets.create(P, { name: 'project', scope: 'project', scopeId: P, limitMicros: DOLLAR });
      const run = await budgets.create(P, { name: 'run cap', scope: 'run', scopeId: 'run_1', limitMicros: 30 * CENT });
      await budgets.create(P, { name: 'other run', scope: 'run', scopeId: 'run_2', limitMicros: CENT });

      const r1 = await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: 20 * CENT, timeoutMs: 60_000, idempotencyKey: 'step-1' });
      expect(r1.holdIds).toHaveLength(2);
      expect(r1.budgets.map((b) => [b.budgetId, b.remainingMicros])).toEqual([
        [run.id, 10 * CENT],
        [project.id, 80 * CENT],
      ]);

      await expect(
        budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: 20 * CENT, timeoutMs: 60_000, idempotencyKey: 'step-2' }),
      ).rejects.toMatchObject({
        code: 'budget_exceeded',
        details: { budget: { id: run.id, scope: 'run', scopeId: 'run_1' }, remainingMicros: 10 * CENT, requestedMicros: 20 * CENT },
      });
      // the refusal reserved nothing anywhere
      expect((await budgets.get(P, project.id, { includeSecrets: false })).current).toMatchObject({ pendingMicros: 20 * CENT, remainingMicros: 80 * CENT });

      const settled = await budgets.settle(P, r1.holdIds, 7 * CENT);
      expect(settled).toEqual({
        settled: r1.holdIds.map((holdId) => ({ holdId, postedMicros: 7 * CENT, releasedMicros: 13 * CENT })),
        overrunMicros: 0,
      });
      expect((await budgets.get(P, run.id, { includeSecrets: false })).current).toMatchObject({
        periodKey: '2026-11',
        accountId: expect.any(String),
        postedMicros: 7 * CENT,
        pendingMicros: 0,
        remainingMicros: 23 * CENT,
        usedMicros: 7 * CENT,
      });
      // settling again is a replay; settling with another amount is refused
      expect(await budgets.settle(P, r1.holdIds, 7 * CENT)).toEqual(settled);
      await expect(budgets.settle(P, r1.holdIds, 8 * CENT)).rejects.toMatchObject({ code: 'idempotency_conflict' });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('replays a reservation with the same key instead of reserving twice', async () => {
      await budgets.create(P, { name: 'p', scope: 'project', scopeId: P, limitMicros: DOLLAR });
      const input = { projectId: P, chain: chain(), amountMicros: 60 * CENT, timeoutMs: 60_000, idempotencyKey: 'same' };
      const a = await budgets.holdForAction(input);
      const b = await budgets.holdForAction(input);
      expect(b.holdIds).toEqual(a.holdIds);
      await expect(budgets.holdForAction({ ...input, amountMicros: 61 * CENT })).rejects.toMatchObject({ code: 'idempotency_conflict' });
    });

    it('reserves nothing when no budget applies', async () => {
      expect(await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: 1, timeoutMs: 1000, idempotencyKey: 'x' })).toEqual({
        holdIds: [],
        budgets: [],
      });
    });

    it('starts a daily budget afresh at midnight in its time zone', async () => {
      const daily = await budgets.create(P, { name: 'daily', scope: 'agent', scopeId: 'agt_1', period: 'daily', timeZone: 'Asia/Tokyo', limitMicros: 50 * CENT });
      clock = Date.parse('2026-11-25T14:00:00Z'); // 23:00 in Tokyo
      const r = await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: 50 * CENT, timeoutMs: 3_600_000, idempotencyKey: 'late' });
      await budgets.settle(P, r.holdIds, 50 * CENT);
      await expect(
        budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: CENT, timeoutMs: 60_000, idempotencyKey: 'later' }),
      ).rejects.toMatchObject({ code: 'budget_exceeded', details: { budget: { periodKey: '2026-11-25' }, remainingMicros: 0 } });
      clock = Date.parse('2026-11-25T15:00:00Z'); // midnight in Tokyo
      const next = await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: CENT, timeoutMs: 60_000, idempotencyKey: 'next-day' });
      expect(next.budgets[0]!.remainingMicros).toBe(49 * CENT);
      expect((await budgets.get(P, daily.id, { includeSecrets: false })).current.periodKey).toBe('2026-11-26');
    });

    it("paces a daily budget from when it was created, and warns when the period's forecast passes the limit", async () => {
      // created at 10:00 UTC on a UTC day: the pace counts from 10:00, not from midnight
      const daily = await budgets.create(P, { name: 'daily', scope: 'project', scopeId: P, period: 'daily', limitMicros: 20 * DOLLAR });
      const spend = async (key: string, amount: number) => {
        const r = await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: amount, timeoutMs: 60_000, idempotencyKey: key });
        await budgets.settle(P, r.holdIds, amount);
      };
      await spend('morning', 3 * DOLLAR);
      clock = Date.parse('2026-11-25T16:00:00Z');
      expect((await budgets.get(P, daily.id, { includeSecrets: false })).current).toMatchObject({
        periodKey: '2026-11-25',
        periodStart: '2026-11-25T00:00:00.000Z',
        periodEnd: '2026-11-26T00:00:00.000Z',
        asOf: '2026-11-25T16:00:00.000Z',
        usedMicros: 3 * DOLLAR,
        remainingMicros: 17 * DOLLAR,
        burnRateMicrosPerDay: 12 * DOLLAR, // $3 in 6 hours
        forecastMicros: 7 * DOLLAR, // + 8 more hours at $0.50 an hour
        forecastExceedsLimit: false,
      });
      // a reservation not yet settled counts as used too
      await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: 6 * DOLLAR, timeoutMs: 60_000, idempotencyKey: 'open' });
      expect((await budgets.list(P, { includeSecrets: false }))[0]!.current).toMatchObject({
        usedMicros: 9 * DOLLAR,
        remainingMicros: 11 * DOLLAR,
        burnRateMicrosPerDay: 36 * DOLLAR,
        forecastMicros: 21 * DOLLAR,
        forecastExceedsLimit: true,
      });
    });

    it('a soft budget never refuses, and its thresholds fire signed webhooks once per period, retried until delivered', async () => {
      const hook = await receiver(1);
      try {
        const soft = await budgets.create(P, { name: 'soft', scope: 'project', scopeId: P, mode: 'soft', limitMicros: DOLLAR, webhookUrl: hook.url });
        expect(soft.webhookSecret).toMatch(/^whsec_/);
        const spend = async (key: string, amount: number) => {
          const r = await budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: amount, timeoutMs: 60_000, idempotencyKey: key });
          await budgets.settle(P, r.holdIds, amount);
        };
        await spend('a', 40 * CENT); // 40 %: nothing
        await spend('b', 20 * CENT); // 60 %: 50
        await spend('c', 10 * CENT); // 70 %: nothing new
        await spend('d', 60 * CENT); // 130 %: 80 and 100, past the limit without refusal
        for (let i = 0; i < 5; i++) {
          clock += 10;
          await webhooks.deliverDue();
        }
        const deliveries = await webhooks.list(P);
        expect(deliveries.every((d) => d.delivered_at !== null)).toBe(true);
        const byThreshold = new Map(deliveries.map((d) => [JSON.parse(d.body).data.threshold as number, d]));
        expect([...byThreshold.keys()].sort((a, b) => a - b)).toEqual([50, 80, 100]);
        expect(byThreshold.get(50)!.attempts).toBe(2); // the receiver failed the first attempt
        const bodies = hook.received.filter((_, i) => i > 0);
        expect(bodies.map((r) => JSON.parse(r.body).data.threshold as number).sort((a, b) => a - b)).toEqual([50, 80, 100]);
        for (const r of hook.received) {
          const t = Number(/t=(\d+)/.exec(String(r.headers['hangar-signature']))![1]);
          expect(r.headers['hangar-signature']).toBe(signature(soft.webhookSecret!, r.body, t));
          expect(r.headers['hangar-event']).toBe('budget.threshold');
        }
        expect((await budgets.get(P, soft.id, { includeSecrets: false })).current.remainingMicros).toBe(-30 * CENT);
      } finally {
        await hook.close();
      }
    });

    it('500 concurrent reservations of $0.01 against $1.00: exactly 100 succeed', async () => {
      await budgets.create(P, { name: 'dollar', scope: 'project', scopeId: P, limitMicros: DOLLAR });
      const results = await Promise.allSettled(
        Array.from({ length: 500 }, (_, i) =>
          budgets.holdForAction({ projectId: P, chain: chain(), amountMicros: CENT, timeoutMs: 60_000, idempotencyKey: `r${i}` }),
        ),
      );
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []));
      expect(ok).toHaveLength(100);
      expect(codes).toEqual(Array(400).fill('budget_exceeded'));
      await Promise.all(ok.map((r) => budgets.settle(P, r.holdIds, CENT)));
      const [b] = await budgets.list(P, { includeSecrets: false });
      expect(b!.current).toMatchObject({ postedMicros: DOLLAR, pendingMicros: 0, remainingMicros: 0 });
      expect((await ledger.verify(P)).ok).toBe(true);
    }, 60_000);
  });
}
