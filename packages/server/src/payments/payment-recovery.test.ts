import { generateKeyPairSync, sign } from 'node:crypto';
import { MandateTerms } from '@hangar/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionPipeline, type Stage } from '../actions/action-pipeline.js';
import { createBlobStore } from '../blobs/blob-store.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createJournal } from '../journal/journal-service.js';
import { createLedger, type Ledger } from '../ledger/ledger-service.js';
import { createReconciliation, type Reconciliation } from '../reconciliation/reconciliation-service.js';
import { newId } from '../util/ids.js';
import { createSandboxRail, type PaymentRail } from './payment-rail.js';
import { createPayments, mandateSigningBytes, type Payments } from './payments-service.js';

const DOLLAR = 1_000_000;
const alice = generateKeyPairSync('ed25519');

/** The process "dies" right after the rail answered this step: the call throws, nothing after it runs. */
class Killed extends Error {}

for (const dialect of DIALECTS) {
  describe(`payment recovery and rail reconciliation on ${dialect}`, () => {
    let t: TestDatabase;
    let ledger: Ledger;
    let sandbox: PaymentRail;
    let P: string;
    let mandateId: string;

    beforeAll(async () => {
      t = await openTestDatabase(dialect);
      ledger = createLedger({ db: t.db, direct: t.direct });
      sandbox = createSandboxRail({ db: t.db });
      P = newId('proj');
      const setup = createPayments({ db: t.db, ledger, rail: sandbox });
      const signerId = (await setup.registerSigner(P, { name: 'alice', publicKey: alice.publicKey.export({ format: 'jwk' }).x! })).id;
      await setup.setLimits(P, 'agt_buyer', { perTransactionMicros: 50 * DOLLAR, perDayMicros: 80 * DOLLAR });
      const terms = MandateTerms.parse({
        signerId,
        agentId: 'agt_buyer',
        amountCapMicros: 100 * DOLLAR,
        currency: 'USD',
        payees: ['shop:books'],
        merchantCategories: null,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        use: 'multiple',
        nonce: newId('n'),
      });
      mandateId = (await setup.createMandate(P, { terms, signature: sign(null, mandateSigningBytes(terms), alice.privateKey).toString('base64url') })).id;
    });
    afterAll(async () => {
      await t.close();
    });

    /** Payments whose rail kills the process right after `step` succeeded on the rail. */
    function dyingAfter(step: 'authorize' | 'capture'): Payments {
      const rail: PaymentRail = {
        ...sandbox,
        async authorize(request) {
          const result = await sandbox.authorize(request);
          if (step === 'authorize') throw new Killed();
          return result;
        },
        async capture(ref) {
          const result = await sandbox.capture(ref);
          if (step === 'capture') throw new Killed();
          return result;
        },
      };
      return createPayments({ db: t.db, ledger, rail });
    }
    const pay = (payments: Payments, amount: number, key: string) =>
      payments.create(P, { agentId: 'agt_buyer', mandateId, payee: 'shop:books', amountMicros: amount, currency: 'USD', purpose: 'a book', idempotencyKey: key });

    it('a payment killed after the rail captured it, or after it authorized, is finished by the recovery sweep; books reconcile with no difference', async () => {
      const healthy = createPayments({ db: t.db, ledger, rail: sandbox });
      const reconciliation: Reconciliation = createReconciliation({ db: t.db, ledger, payments: healthy, rails: [sandbox] });
      await expect(pay(dyingAfter('capture'), 7 * DOLLAR, 'killed-after-capture')).rejects.toBeInstanceOf(Killed);
      await expect(pay(dyingAfter('authorize'), 5 * DOLLAR, 'killed-after-authorize')).rejects.toBeInstanceOf(Killed);

      // Before recovery: the rail has 7 that the ledger has not posted, and both payments hang in between.
      const gap = await reconciliation.reconcile(P);
      expect(gap.ok).toBe(false);
      expect(gap.differences.map((d) => d.kind).sort()).toEqual(['missing_in_ledger', 'unsettled_payment', 'unsettled_payment']);
      const stuck = (await healthy.list(P)).filter((p) => p.idempotencyKey.startsWith('killed'));
      expect(stuck.map((p) => p.status).sort()).toEqual(['authorized', 'authorizing']);

      // A live request may still be working on a fresh one: the grace period leaves it alone.
      expect(await healthy.recover(60_000)).toBe(0);
      expect(await healthy.recover(0)).toBe(2);
      const after = (await healthy.list(P)).filter((p) => p.idempotencyKey.startsWith('killed'));
      expect(after.map((p) => p.status)).toEqual(['captured', 'captured']);
      const payee = (await ledger.getAccountByCode(P, 'payee:USD:shop:books'))!;
      expect(payee.balanceMicros).toBe(12 * DOLLAR);
      expect(payee.creditsPendingMicros).toBe(0);
      expect((await ledger.verify(P)).ok).toBe(true);
      expect(await reconciliation.reconcile(P)).toMatchObject({
        ok: true,
        rails: [{ rail: 'sandbox', payments: 2, statementEntries: 2, ledgerMicros: 12 * DOLLAR, railMicros: 12 * DOLLAR, differenceMicros: 0 }],
        differences: [],
      });
      expect(await healthy.recover(0)).toBe(0); // nothing twice
    });

    it('a payment killed between holding the money and recording the payment is paid by its retry, holding nothing twice', async () => {
      const setup = createPayments({ db: t.db, ledger, rail: sandbox });
      const signerId = (await setup.registerSigner(P, { name: 'bob', publicKey: alice.publicKey.export({ format: 'jwk' }).x! })).id;
      const singleUse = async () => {
        const terms = MandateTerms.parse({
          signerId,
          agentId: 'agt_buyer',
          amountCapMicros: 10 * DOLLAR,
          currency: 'USD',
          payees: ['shop:books'],
          merchantCategories: null,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          use: 'single',
          nonce: newId('n'),
        });
        return (await setup.createMandate(P, { terms, signature: sign(null, mandateSigningBytes(terms), alice.privateKey).toString('base64url') })).id;
      };
      // the process dies right after the ledger committed the holds
      const dying = createPayments({
        db: t.db,
        rail: sandbox,
        ledger: {
          ...ledger,
          async commit(projectId, ops) {
            const result = await ledger.commit(projectId, ops);
            if (ops.some((op) => op.type === 'hold')) throw new Killed();
            return result;
          },
        },
      });
      const payOnce = (payments: Payments, mandate: string, key: string) =>
        payments.create(P, { agentId: 'agt_buyer', mandateId: mandate, payee: 'shop:books', amountMicros: 4 * DOLLAR, currency: 'USD', purpose: 'a book', idempotencyKey: key });
      const heldUnder = async (key: string) => ledger.transfersByKeys(P, [`payment:${key}:mandate`, `payment:${key}:day`]);

      const m1 = await singleUse();
      await expect(payOnce(dying, m1, 'killed-after-holds')).rejects.toBeInstanceOf(Killed);
      const held = await heldUnder('killed-after-holds');
      expect(held).toHaveLength(2);
      expect((await setup.list(P)).some((p) => p.idempotencyKey === 'killed-after-holds')).toBe(false);

      const retried = await payOnce(setup, m1, 'killed-after-holds');
      expect(retried).toMatchObject({ status: 'captured', id: held[0]!.metadata!.paymentId });
      expect(retried.holdIds.sort()).toEqual(held.map((h) => h.id).sort());
      expect(await heldUnder('killed-after-holds')).toHaveLength(2);
      const mandate = (await setup.listMandates(P)).find((m) => m.id === m1)!;
      expect(mandate).toMatchObject({ status: 'used', remainingMicros: 6 * DOLLAR });
      expect((await payOnce(setup, m1, 'killed-after-holds')).id).toBe(retried.id);
      await expect(payOnce(setup, m1, 'another-key')).rejects.toMatchObject({ code: 'payment_refused', details: { reason: 'mandate_used' } });

      // Holds that ran out before the retry came: the retry records a failed payment, and nothing left.
      const m2 = await singleUse();
      await expect(payOnce(dying, m2, 'killed-then-released')).rejects.toBeInstanceOf(Killed);
      // one of the two holds ran out; the other, still pending, is released by the retry
      const left = await heldUnder('killed-then-released');
      const dayHold = left.find((h) => h.idempotencyKey === 'payment:killed-then-released:day')!;
      await ledger.void(P, left.find((h) => h !== dayHold)!.id);
      const failed = await payOnce(setup, m2, 'killed-then-released');
      expect((await ledger.getHold(P, dayHold.id)).status).toBe('voided');
      expect(failed.status).toBe('failed');
      expect(failed.failureReason).toMatch(/stopped before paying/);
      expect(failed.railRef).toBeNull();
      expect((await setup.listMandates(P)).find((m) => m.id === m2)).toMatchObject({ status: 'active', remainingMicros: 10 * DOLLAR });
      expect((await payOnce(setup, m2, 'a-fresh-key')).status).toBe('captured');
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it("finds a deliberate difference: the rail's statement says another amount than the ledger posted", async () => {
      const healthy = createPayments({ db: t.db, ledger, rail: sandbox });
      const reconciliation = createReconciliation({ db: t.db, ledger, payments: healthy, rails: [sandbox] });
      const p = await pay(healthy, 3 * DOLLAR, 'tampered');
      await sql`update sandbox_rail_entries set amount = ${3 * DOLLAR + 1} where ref = ${p.railRef}`.execute(t.db);
      const report = await reconciliation.reconcile(P);
      expect(report.ok).toBe(false);
      expect(report.differences).toEqual([
        expect.objectContaining({ kind: 'amount_mismatch', source: 'sandbox', paymentId: p.id, railRef: p.railRef, hangarMicros: 3 * DOLLAR, externalMicros: 3 * DOLLAR + 1 }),
      ]);
      expect(report.rails[0]!.differenceMicros).toBe(-1);
      await expect(reconciliation.reconcile(P, { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'validation_failed' });
    });

    it('a payment requested as an action is recorded once: after it is paid, or by the recovery sweep when the process stopped before', async () => {
      const journal = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
      const permit: Stage = {
        name: 'authorize',
        async before(ctx) {
          ctx.decision = { effect: 'allow', policyIds: ['permit-books'], reason: 'books may be bought' };
        },
      };
      const actions = createActionPipeline({ db: t.db, journal, stages: [permit] });
      const request = (key: string, amount: number, payee = 'shop:books') => ({
        projectId: P,
        actor: { principals: [{ type: 'agent' as const, id: 'agt_buyer' }] },
        input: { agentId: 'agt_buyer', mandateId, payee, amountMicros: amount, currency: 'USD', purpose: 'a book', idempotencyKey: key },
      });
      const recordsOf = async (key: string) =>
        (await journal.read(P, 'actions:agent:agt_buyer', 0, 1000)).events
          .filter((e) => (e.payload as { idempotencyKey?: string }).idempotencyKey === `payment:${key}`)
          .map((e) => ({ type: e.type, payload: e.payload as Record<string, unknown> }));

      // the process stops for good once the rail has captured: nothing after that runs
      let captured!: () => void;
      const atCapture = new Promise<void>((resolve) => (captured = resolve));
      const stopping = createPayments({
        db: t.db,
        ledger,
        actions,
        rail: {
          ...sandbox,
          async capture(ref) {
            await sandbox.capture(ref);
            captured();
            return new Promise(() => {});
          },
        },
      });
      void stopping.pay(request('stopped', 2 * DOLLAR));
      await atCapture;
      expect(await recordsOf('stopped')).toEqual([]);

      const healthy = createPayments({ db: t.db, ledger, rail: sandbox, actions });
      const paid = await healthy.pay(request('paid', 1 * DOLLAR));
      expect(paid.status).toBe('captured');
      const declining = createPayments({ db: t.db, ledger, actions, rail: { ...sandbox, authorize: async () => ({ ok: false, reason: 'card declined' }) } });
      const declined = await declining.pay(request('declined', 1 * DOLLAR));
      expect(declined.status).toBe('failed');

      expect(await healthy.recover(0)).toBe(1);
      const stopped = (await healthy.list(P)).find((p) => p.idempotencyKey === 'stopped')!;
      expect(stopped.status).toBe('captured');
      expect(await recordsOf('stopped')).toEqual([
        { type: 'action.ok', payload: expect.objectContaining({ paymentId: stopped.id, recovered: true, decision: expect.objectContaining({ policyIds: ['permit-books'] }) }) },
      ]);
      expect(await recordsOf('paid')).toEqual([{ type: 'action.ok', payload: expect.objectContaining({ paymentId: paid.id }) }]);
      expect(await recordsOf('declined')).toEqual([
        { type: 'action.error', payload: expect.objectContaining({ paymentId: declined.id, outcome: expect.objectContaining({ code: 'payment_failed' }) }) },
      ]);

      // nothing twice: the sweep again, and a replay of the request
      expect(await healthy.recover(0)).toBe(0);
      expect((await healthy.pay(request('stopped', 2 * DOLLAR))).id).toBe(stopped.id);
      expect((await recordsOf('stopped')).length).toBe(1);
      expect((await ledger.verify(P)).ok).toBe(true);
    });
  });
}
