import { generateKeyPairSync, sign } from 'node:crypto';
import { MandateTerms } from '@hangar/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { mandateSigningBytes } from '../payments/payments-service.js';
import { createTestApp, type TestApp } from '../test-app.js';

const DOLLAR = 1_000_000;

/**
 * Issue #5: "Replaying any request with the same idempotency key changes nothing" — every money route
 * that takes a key (or is keyed by what it resolves), sent a second time over HTTP, answers as the
 * first time and leaves every row of the money tables as it was.
 */
for (const dialect of DIALECTS) {
  describe(`replaying money requests on ${dialect}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => {
      await t.close();
    });

    const money = async () => {
      const db = t.database.db;
      const rows = await Promise.all(
        (['ledger_accounts', 'ledger_balances', 'ledger_transfers', 'ledger_open_holds', 'budgets', 'payments', 'mandates', 'sandbox_rail_entries'] as const).map((table) =>
          db.selectFrom(table).selectAll().execute().then((r) => r.map((x) => JSON.stringify(x)).sort()),
        ),
      );
      return JSON.stringify(rows);
    };
    /** Sends the request, then the same again: the same status and body, and nothing changed by the second. */
    async function replayed(method: string, path: string, body?: unknown) {
      const first = await t.request(method, path, { body });
      expect(first.status, `${path}: ${first.text}`).toBeLessThan(300);
      const before = await money();
      const again = await t.request(method, path, { body });
      expect([again.status, again.json], path).toEqual([first.status === 201 && path.endsWith('/accounts') ? 200 : first.status, first.json]);
      expect(await money(), `${path} changed something on replay`).toBe(before);
      return first.json;
    }

    it('accounts, transfers, holds and their posts and voids, budget reservations and settlements, mandates and payments', async () => {
      const card = (await replayed('POST', '/v1/ledger/accounts', { kind: 'funding_source', name: 'card', currency: 'USD', code: 'card' })).id as string;
      const wallet = (await replayed('POST', '/v1/ledger/accounts', { kind: 'agent', name: 'w', currency: 'USD', code: 'wallet', minBalanceMicros: 0 })).id as string;
      await replayed('POST', '/v1/ledger/transfers', { transfers: [{ debitAccountId: card, creditAccountId: wallet, amountMicros: 10 * DOLLAR, idempotencyKey: 'fund' }] });
      const hold = (await replayed('POST', '/v1/ledger/holds', { debitAccountId: wallet, creditAccountId: card, amountMicros: DOLLAR, timeoutMs: 60_000, idempotencyKey: 'h1' })).id as string;
      await replayed('POST', `/v1/ledger/holds/${hold}/post`, { amountMicros: 400_000 });
      const other = (await replayed('POST', '/v1/ledger/holds', { debitAccountId: wallet, creditAccountId: card, amountMicros: DOLLAR, timeoutMs: 60_000, idempotencyKey: 'h2' })).id as string;
      await replayed('POST', `/v1/ledger/holds/${other}/void`);

      // (creating a budget takes no key: it is configuration, not money)
      expect((await t.request('POST', '/v1/budgets', { body: { name: 'p', scope: 'project', scopeId: 'proj_default', period: 'total', limitMicros: DOLLAR } })).status).toBe(201);
      const reserved = await replayed('POST', '/v1/budgets/reserve', { chain: [{ scope: 'project', id: 'proj_default' }], amountMicros: 50_000, idempotencyKey: 'run_1:step_1' });
      expect(reserved.holdIds).toHaveLength(1);
      await replayed('POST', '/v1/budgets/settle', { holdIds: reserved.holdIds, actualMicros: 12_000 });

      const human = generateKeyPairSync('ed25519');
      const signerId = (await t.request('POST', '/v1/mandates/signers', { body: { name: 'alice', publicKey: human.publicKey.export({ format: 'jwk' }).x } })).json.id as string;
      const terms = MandateTerms.parse({
        signerId, agentId: 'agt_buyer', amountCapMicros: 100 * DOLLAR, currency: 'USD', payees: ['shop:books'], merchantCategories: null,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(), use: 'multiple', nonce: `n-${dialect}`,
      });
      const mandate = await replayed('POST', '/v1/mandates', { terms, signature: sign(null, mandateSigningBytes(terms), human.privateKey).toString('base64url') });
      expect((await t.request('PUT', '/v1/payments/limits/agt_buyer', { body: { perTransactionMicros: 50 * DOLLAR } })).status).toBe(200);
      expect((await t.request('POST', '/v1/policies', { body: { name: 'pay', text: 'permit(principal, action == Action::"payment.create", resource);' } })).status).toBe(201);
      const payment = await replayed('POST', '/v1/payments', { agentId: 'agt_buyer', mandateId: mandate.id, payee: 'shop:books', amountMicros: 7 * DOLLAR, purpose: 'a book', idempotencyKey: 'order-1' });
      expect(payment.status).toBe('captured');

      // and the books still verify
      expect((await t.request('POST', '/v1/ledger/verify')).json).toMatchObject({ ok: true, problems: [] });
    });
  });
}
