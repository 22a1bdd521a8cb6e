import { generateKeyPairSync, sign } from 'node:crypto';
import { MandateTerms } from '@hangar/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createLedger, type Ledger } from '../ledger/ledger-service.js';
import { newId } from '../util/ids.js';
import { createSandboxRail } from './payment-rail.js';
import { createPayments, mandateSigningBytes, type Payments } from './payments-service.js';

const DOLLAR = 1_000_000;
const alice = generateKeyPairSync('ed25519');
const mallory = generateKeyPairSync('ed25519');
const publicKey = alice.publicKey.export({ format: 'jwk' }).x!;

for (const dialect of DIALECTS) {
  describe(`payments on ${dialect}`, () => {
    let t: TestDatabase;
    let ledger: Ledger;
    let payments: Payments;
    let P: string;
    let signerId: string;

    beforeAll(async () => {
      t = await openTestDatabase(dialect);
      ledger = createLedger({ db: t.db, direct: t.direct });
      payments = createPayments({ db: t.db, ledger, rail: createSandboxRail({ db: t.db, failPayees: ['shop:broken'] }) });
    });
    afterAll(async () => {
      await t.close();
    });
    beforeEach(async () => {
      P = newId('proj');
      signerId = (await payments.registerSigner(P, { name: 'alice@example.com', publicKey })).id;
      await payments.setLimits(P, 'agt_buyer', { perTransactionMicros: 50 * DOLLAR, perDayMicros: 80 * DOLLAR, approvalOverMicros: 40 * DOLLAR });
    });

    async function mandate(overrides: Partial<Parameters<typeof MandateTerms.parse>[0]> = {}, key = alice.privateKey) {
      const terms = MandateTerms.parse({
        signerId,
        agentId: 'agt_buyer',
        amountCapMicros: 100 * DOLLAR,
        currency: 'USD',
        payees: ['shop:books', 'shop:broken'],
        merchantCategories: ['travel'],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        use: 'multiple',
        nonce: newId('n'),
        ...overrides,
      });
      return payments.createMandate(P, { terms, signature: sign(null, mandateSigningBytes(terms), key).toString('base64url') });
    }
    const pay = (mandateId: string, amount: number, key: string, extra: Record<string, unknown> = {}) =>
      payments.create(P, { agentId: 'agt_buyer', mandateId, payee: 'shop:books', amountMicros: amount, currency: 'USD', purpose: 'a book', idempotencyKey: key, ...extra });

    it('pays under a signed mandate: the payee is credited, the mandate cap shrinks, a replay pays nothing more', async () => {
      const m = await mandate();
      expect(m).toMatchObject({ status: 'active', remainingMicros: 100 * DOLLAR });
      const p = await pay(m.id, 12 * DOLLAR, 'order-1');
      expect(p).toMatchObject({ status: 'captured', rail: 'sandbox', railRef: expect.stringMatching(/^sbx_/) });
      expect(await pay(m.id, 12 * DOLLAR, 'order-1')).toEqual(p);
      await expect(pay(m.id, 13 * DOLLAR, 'order-1')).rejects.toMatchObject({ code: 'idempotency_conflict' });
      const [view] = await payments.listMandates(P);
      expect(view!.remainingMicros).toBe(88 * DOLLAR);
      expect((await ledger.getAccountByCode(P, 'payee:USD:shop:books'))!.balanceMicros).toBe(12 * DOLLAR);
      expect((await ledger.verify(P)).ok).toBe(true);

      const refunded = await payments.refund(P, p.id);
      expect(refunded.status).toBe('refunded');
      expect((await payments.listMandates(P))[0]!.remainingMicros).toBe(100 * DOLLAR);
    });

    it('a request whose key another request is paying with (holds taken, payment not yet recorded) is told to retry, and changes nothing', async () => {
      const m = await mandate();
      const [mandateAccount, funding] = await Promise.all([ledger.getAccountByCode(P, `mandate:${m.id}`), ledger.getAccountByCode(P, 'payments:funding:USD')]);
      // the other request, between its holds and its payment row
      await ledger.hold(P, { debitAccountId: mandateAccount!.id, creditAccountId: funding!.id, amountMicros: DOLLAR, timeoutMs: 60_000, idempotencyKey: 'payment:twin:mandate', metadata: { paymentId: 'pay_other' } });
      const before = (await payments.listMandates(P))[0]!;
      await expect(pay(m.id, 2 * DOLLAR, 'twin')).rejects.toMatchObject({ code: 'conflict', details: { idempotencyKey: 'twin' } });
      expect((await payments.listMandates(P))[0]).toEqual(before);
      expect(await payments.list(P)).toEqual([]);
    });

    it('refuses a mandate whose signature is not the signer’s', async () => {
      await expect(mandate({}, mallory.privateKey)).rejects.toMatchObject({ code: 'validation_failed' });
      expect(await payments.listMandates(P)).toEqual([]);
    });

    it('enforces limits and the mandate, naming the rule', async () => {
      const m = await mandate({ amountCapMicros: 30 * DOLLAR });
      const reason = async (promise: Promise<unknown>) => {
        const error = (await promise.then(() => null, (e: unknown) => e)) as { code: string; details: { reason: string } } | null;
        return error && `${error.code}:${error.details.reason}`;
      };
      expect(await reason(pay(m.id, 51 * DOLLAR, 'a'))).toBe('payment_refused:per_transaction');
      expect(await reason(pay(m.id, 1, 'b', { payee: 'shop:other' }))).toBe('payment_refused:mandate_scope');
      expect(await reason(pay(m.id, 1, 'c', { payee: 'airline', merchantCategory: 'travel' }))).toBeNull(); // category covers it
      expect(await reason(pay(m.id, 31 * DOLLAR, 'd'))).toBe('payment_refused:mandate_cap');
      expect(await reason(pay(m.id, 1, 'e', { agentId: 'agt_other' }))).toBe('payment_refused:no_limits');
      await payments.setLimits(P, 'agt_buyer', { payees: ['shop:books'] });
      expect(await reason(pay(m.id, 1, 'f', { payee: 'airline', merchantCategory: 'travel' }))).toBe('payment_refused:payee_not_allowed');
      const expired = await mandate({ expiresAt: new Date(Date.now() + 50).toISOString() });
      await new Promise((r) => setTimeout(r, 60));
      expect(await reason(pay(expired.id, 1, 'g'))).toBe('payment_refused:mandate_expired');
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('a single-use mandate pays once; the day limit holds across mandates', async () => {
      const once = await mandate({ use: 'single' });
      await pay(once.id, 5 * DOLLAR, 'one');
      await expect(pay(once.id, 5 * DOLLAR, 'two')).rejects.toMatchObject({ code: 'payment_refused', details: { reason: 'mandate_used' } });
      const m = await mandate();
      await pay(m.id, 40 * DOLLAR, 'three');
      await expect(pay(m.id, 36 * DOLLAR, 'four')).rejects.toMatchObject({ code: 'payment_refused', details: { reason: 'per_day', remainingMicros: 35 * DOLLAR } });
    });

    it('records a payment over the approval threshold and refuses it with approval_required', async () => {
      const m = await mandate();
      const error = (await pay(m.id, 45 * DOLLAR, 'big').catch((e: unknown) => e)) as { code: string; details: { paymentId: string } };
      expect(error.code).toBe('approval_required');
      expect(await payments.get(P, error.details.paymentId)).toMatchObject({ status: 'pending_approval', amountMicros: 45 * DOLLAR });
      await expect(pay(m.id, 45 * DOLLAR, 'big')).rejects.toMatchObject({ code: 'approval_required' });
      expect((await payments.listMandates(P))[0]!.remainingMicros).toBe(100 * DOLLAR);
    });

    it('a payment the rail declines fails, and its holds are released', async () => {
      const m = await mandate();
      const p = await pay(m.id, 10 * DOLLAR, 'declined', { payee: 'shop:broken' });
      expect(p).toMatchObject({ status: 'failed', failureReason: 'sandbox: declined' });
      expect((await payments.listMandates(P))[0]!.remainingMicros).toBe(100 * DOLLAR);
      expect(await ledger.verify(P)).toMatchObject({ ok: true, openHolds: 0 });
    });

    it('the sandbox rail declines at its configured rate and answers after its configured delay', async () => {
      const m = await mandate();
      const flaky = createPayments({ db: t.db, ledger, rail: createSandboxRail({ db: t.db, failureRate: 1, delayMs: 150 }) });
      const started = Date.now();
      const declined = await flaky.create(P, { agentId: 'agt_buyer', mandateId: m.id, payee: 'shop:books', amountMicros: DOLLAR, currency: 'USD', purpose: 'a book', idempotencyKey: 'flaky-1' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140); // one authorize call, delayed
      expect(declined).toMatchObject({ status: 'failed', failureReason: 'sandbox: declined' });
      expect((await payments.listMandates(P))[0]!.remainingMicros).toBe(100 * DOLLAR); // the hold was released
      const reliable = createPayments({ db: t.db, ledger, rail: createSandboxRail({ db: t.db, failureRate: 0, delayMs: 0 }) });
      expect((await reliable.create(P, { agentId: 'agt_buyer', mandateId: m.id, payee: 'shop:books', amountMicros: DOLLAR, currency: 'USD', purpose: 'a book', idempotencyKey: 'steady-1' })).status).toBe('captured');
    });

    it('requests with one key at the same moment make one payment, held once, under a single-use mandate', async () => {
      const m = await mandate({ use: 'single' });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => new Promise((r) => setTimeout(r, i)).then(() => pay(m.id, 5 * DOLLAR, 'same-moment'))),
      );
      const paid = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []));
      expect(paid.length).toBeGreaterThan(0);
      expect(new Set(paid.map((p) => p.id)).size).toBe(1);
      expect(new Set(refused)).toEqual(new Set(refused.length ? ['conflict'] : []));
      expect((await payments.list(P)).filter((p) => p.idempotencyKey === 'same-moment')).toMatchObject([{ status: 'captured' }]);
      expect(await ledger.transfersByKeys(P, ['payment:same-moment:mandate', 'payment:same-moment:day'])).toHaveLength(2);
      expect((await payments.listMandates(P))[0]).toMatchObject({ status: 'used', remainingMicros: 95 * DOLLAR });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('a request that takes over the holds of another still under way with the same key: both answer its one payment', async () => {
      const m = await mandate({ use: 'single' });
      // the first request stops right after its holds are committed, until the second has paid
      let resume!: () => void;
      let held!: () => void;
      const holdsCommitted = new Promise<void>((r) => (held = r));
      const slow = createPayments({
        db: t.db,
        rail: createSandboxRail({ db: t.db }),
        ledger: {
          ...ledger,
          async commit(projectId, ops) {
            const result = await ledger.commit(projectId, ops);
            if (ops.some((op) => op.type === 'hold')) {
              held();
              await new Promise<void>((r) => (resume = r));
            }
            return result;
          },
        },
      });
      const request = { agentId: 'agt_buyer', mandateId: m.id, payee: 'shop:books', amountMicros: 5 * DOLLAR, currency: 'USD', purpose: 'a book', idempotencyKey: 'taken-over' };
      const first = slow.create(P, request);
      await holdsCommitted;
      const second = await payments.create(P, request);
      expect(second.status).toBe('captured');
      resume();
      expect(await first).toEqual(second);
      expect((await payments.list(P)).filter((p) => p.idempotencyKey === 'taken-over')).toHaveLength(1);
      expect((await payments.listMandates(P))[0]).toMatchObject({ status: 'used', remainingMicros: 95 * DOLLAR });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('concurrent payments never spend past the mandate cap', async () => {
      await payments.setLimits(P, 'agt_buyer', {});
      const m = await mandate({ amountCapMicros: 10 * DOLLAR });
      const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => pay(m.id, DOLLAR, `c${i}`)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      expect((await payments.listMandates(P))[0]!.remainingMicros).toBe(0);
      expect((await ledger.verify(P)).ok).toBe(true);
    });
  });
}
