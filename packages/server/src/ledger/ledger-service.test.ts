import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId } from '../util/ids.js';
import { createLedger, resolutionRequestHash, transferRequestHash, type Ledger } from './ledger-service.js';

const USD = 1_000_000;

for (const dialect of DIALECTS) {
  describe(`ledger on ${dialect}`, () => {
    let t: TestDatabase;
    let ledger: Ledger;
    let clock: number;
    let funding: string;
    let wallet: string;
    let payee: string;
    let P: string;

    // one database per dialect, a fresh project per test: projects share nothing
    beforeAll(async () => {
      t = await openTestDatabase(dialect);
    });
    afterAll(async () => {
      await t.close();
    });
    beforeEach(async () => {
      P = newId('proj');
      clock = Date.parse('2026-11-25T10:00:00Z');
      ledger = createLedger({ db: t.db, direct: t.direct, now: () => clock });
      funding = (await ledger.createAccount(P, { kind: 'funding_source', name: 'card', currency: 'USD' })).account.id;
      wallet = (await ledger.createAccount(P, { kind: 'agent', name: 'planner', currency: 'USD', minBalanceMicros: 0 })).account.id;
      payee = (await ledger.createAccount(P, { kind: 'external_payee', name: 'shop', currency: 'USD' })).account.id;
      await ledger.transfer(P, [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: 1 * USD, idempotencyKey: 'fund-1' }]);
    });

    it('moves money between two accounts and keeps both sides', async () => {
      await ledger.transfer(P, [{ debitAccountId: wallet, creditAccountId: payee, amountMicros: 250_000, idempotencyKey: 'buy-1' }]);
      expect((await ledger.getAccount(P, wallet)).balanceMicros).toBe(750_000);
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(250_000);
      expect((await ledger.getAccount(P, funding)).balanceMicros).toBe(-1 * USD);
      expect(await ledger.verify(P)).toMatchObject({ ok: true, accounts: 3, transfers: 2, problems: [] });
    });

    it('refuses a transfer past a bound and changes nothing', async () => {
      await expect(
        ledger.transfer(P, [{ debitAccountId: wallet, creditAccountId: payee, amountMicros: USD + 1, idempotencyKey: 'too-much' }]),
      ).rejects.toMatchObject({ code: 'insufficient_balance', details: { accountId: wallet, availableMicros: USD } });
      expect((await ledger.getAccount(P, wallet)).balanceMicros).toBe(USD);
      expect((await ledger.listTransfers(P, { limit: 10 })).transfers).toHaveLength(1);
    });

    it('commits linked transfers all or nothing', async () => {
      await expect(
        ledger.transfer(P, [
          { debitAccountId: wallet, creditAccountId: payee, amountMicros: 600_000, idempotencyKey: 'l-1' },
          { debitAccountId: wallet, creditAccountId: payee, amountMicros: 600_000, idempotencyKey: 'l-2' },
        ]),
      ).rejects.toMatchObject({ code: 'insufficient_balance' });
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(0);
      // the first key was not used up by the failed batch
      const [ok] = await ledger.transfer(P, [{ debitAccountId: wallet, creditAccountId: payee, amountMicros: 600_000, idempotencyKey: 'l-1' }]);
      expect(ok!.amountMicros).toBe(600_000);
    });

    it('changes many accounts in one batch, and refuses the whole batch naming the account past its bound', async () => {
      const agents: string[] = [];
      for (let i = 0; i < 6; i++) agents.push((await ledger.createAccount(P, { kind: 'agent', name: `a${i}`, currency: 'USD', minBalanceMicros: 0 })).account.id);
      await ledger.transfer(P, agents.map((id, i) => ({ debitAccountId: funding, creditAccountId: id, amountMicros: 100, idempotencyKey: `f${i}` })));
      const spend = (amounts: number[], key: string) =>
        ledger.transfer(P, agents.map((id, i) => ({ debitAccountId: id, creditAccountId: payee, amountMicros: amounts[i]!, idempotencyKey: `${key}${i}` })));
      await expect(spend([10, 10, 10, 101, 10, 10], 'bad')).rejects.toMatchObject({
        code: 'insufficient_balance',
        details: { accountId: agents[3], availableMicros: 100 },
      });
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(0);
      await spend([10, 20, 30, 40, 50, 60], 'ok');
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(210);
      expect((await Promise.all(agents.map((id) => ledger.getAccount(P, id)))).map((a) => a.balanceMicros)).toEqual([90, 80, 70, 60, 50, 40]);
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('replays the same key and body without changing anything; another body is idempotency_conflict', async () => {
      const req = { debitAccountId: wallet, creditAccountId: payee, amountMicros: 100_000, idempotencyKey: 'k' };
      const [first] = await ledger.transfer(P, [req]);
      const [again] = await ledger.transfer(P, [req]);
      expect(again).toEqual(first);
      await expect(ledger.transfer(P, [{ ...req, amountMicros: 100_001 }])).rejects.toMatchObject({ code: 'idempotency_conflict' });
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(100_000);
      // the same key in another project is another transfer altogether
      const PB = newId('proj');
      const f2 = (await ledger.createAccount(PB, { kind: 'funding_source', name: 'x', currency: 'USD' })).account.id;
      const w2 = (await ledger.createAccount(PB, { kind: 'agent', name: 'y', currency: 'USD' })).account.id;
      const [other] = await ledger.transfer(PB, [{ debitAccountId: f2, creditAccountId: w2, amountMicros: 5, idempotencyKey: 'k' }]);
      expect(other!.id).not.toBe(first!.id);
    });

    it('refuses accounts of another project, other currencies and one account on both sides', async () => {
      const eur = (await ledger.createAccount(P, { kind: 'agent', name: 'eu', currency: 'EUR' })).account.id;
      const foreign = (await ledger.createAccount(newId('proj'), { kind: 'agent', name: 'b', currency: 'USD' })).account.id;
      const base = { amountMicros: 1, idempotencyKey: 'x' };
      await expect(ledger.transfer(P, [{ ...base, debitAccountId: wallet, creditAccountId: foreign }])).rejects.toMatchObject({ code: 'not_found' });
      await expect(ledger.transfer(P, [{ ...base, debitAccountId: wallet, creditAccountId: eur }])).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(ledger.transfer(P, [{ ...base, debitAccountId: wallet, creditAccountId: wallet }])).rejects.toMatchObject({ code: 'validation_failed' });
    });

    it('counts a hold against the available balance at once; post charges the actual and releases the rest', async () => {
      const hold = await ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: 800_000, timeoutMs: 60_000, idempotencyKey: 'h1' });
      expect(hold.status).toBe('pending');
      expect(await ledger.getAccount(P, wallet)).toMatchObject({ balanceMicros: USD, availableMicros: 200_000, debitsPendingMicros: 800_000 });
      await expect(
        ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: 200_001, timeoutMs: 60_000, idempotencyKey: 'h2' }),
      ).rejects.toMatchObject({ code: 'insufficient_balance' });
      await expect(ledger.post(P, hold.id, 800_001)).rejects.toMatchObject({ code: 'validation_failed' });

      const posted = await ledger.post(P, hold.id, 300_000);
      expect(posted).toMatchObject({ status: 'posted', resolution: { kind: 'post_pending', amountMicros: 300_000 } });
      expect(await ledger.getAccount(P, wallet)).toMatchObject({ balanceMicros: 700_000, availableMicros: 700_000, debitsPendingMicros: 0 });
      expect((await ledger.getAccount(P, payee)).balanceMicros).toBe(300_000);
      // posting again with the same amount is a replay; anything else is refused
      expect((await ledger.post(P, hold.id, 300_000)).resolution!.id).toBe(posted.resolution!.id);
      await expect(ledger.post(P, hold.id, 1)).rejects.toMatchObject({ code: 'idempotency_conflict' });
      await expect(ledger.void(P, hold.id)).rejects.toMatchObject({ code: 'conflict', details: { status: 'posted' } });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('voids a hold, giving the whole amount back', async () => {
      const hold = await ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: USD, timeoutMs: 60_000, idempotencyKey: 'h' });
      expect((await ledger.void(P, hold.id)).status).toBe('voided');
      expect(await ledger.getAccount(P, wallet)).toMatchObject({ availableMicros: USD, debitsPendingMicros: 0 });
      expect(await ledger.getAccount(P, payee)).toMatchObject({ balanceMicros: 0, creditsPendingMicros: 0 });
      await expect(ledger.post(P, hold.id)).rejects.toMatchObject({ code: 'conflict', details: { status: 'voided' } });
      await expect(ledger.void(P, 'hld_nope')).rejects.toMatchObject({ code: 'not_found' });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('never takes an account past its bound under concurrent holds', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 150 }, (_, i) =>
          ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: 10_000, timeoutMs: 60_000, idempotencyKey: `c${i}` }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code: string }).code);
      expect(ok).toHaveLength(100);
      expect(new Set(refused)).toEqual(new Set(['insufficient_balance']));
      expect(await ledger.getAccount(P, wallet)).toMatchObject({ availableMicros: 0, debitsPendingMicros: USD });
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('concurrent batches stand alone: a refused linked batch leaves nothing, the others commit, a key sent twice commits once', async () => {
      const to = (amountMicros: number, idempotencyKey: string) => ({ debitAccountId: wallet, creditAccountId: payee, amountMicros, idempotencyKey });
      const [good, bad, first, second] = await Promise.allSettled([
        ledger.transfer(P, [to(100_000, 'good')]),
        ledger.transfer(P, [to(200_000, 'bad-1'), to(2 * USD, 'bad-2')]),
        ledger.commitDetailed(P, [{ type: 'transfer', ...to(1, 'twice') }]),
        ledger.commitDetailed(P, [{ type: 'transfer', ...to(1, 'twice') }]),
      ]);
      expect(good.status).toBe('fulfilled');
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'insufficient_balance', details: { accountId: wallet } } });
      const replays = [first, second].map((r) => (r.status === 'fulfilled' ? r.value.replayed : 'failed'));
      expect(replays.sort()).toEqual([false, true]);
      expect((await ledger.getAccount(P, wallet)).balanceMicros).toBe(USD - 100_001);
      const { transfers } = await ledger.listTransfers(P, { accountId: payee, limit: 10 });
      expect(transfers.map((x) => x.idempotencyKey).sort()).toEqual(['good', 'twice']);
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it('concurrent batches refused before and after they write leave the others committed, group after group', async () => {
      // On SQLite one transaction takes them all: a batch refused before writing (an unknown account)
      // needs no undo; one refused after writing (the second transfer past the bound) makes the group
      // run again with a savepoint per batch, and the next groups too.
      const to = (amountMicros: number, idempotencyKey: string, debitAccountId = wallet) => ({ debitAccountId, creditAccountId: payee, amountMicros, idempotencyKey });
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled([
          ledger.transfer(P, [to(1_000, `r${round}-a`)]),
          ledger.transfer(P, [to(1_000, `r${round}-unknown`, 'acc_missing')]),
          ledger.transfer(P, [to(1_000, `r${round}-b`)]),
          ledger.transfer(P, [to(1_000, `r${round}-bad-1`), to(2 * USD, `r${round}-bad-2`)]),
          ledger.transfer(P, [to(1_000, `r${round}-c`)]),
        ]);
        expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))).toEqual([
          'ok',
          'not_found',
          'ok',
          'insufficient_balance',
          'ok',
        ]);
      }
      expect((await ledger.getAccount(P, wallet)).balanceMicros).toBe(USD - 9 * 1_000);
      const { transfers } = await ledger.listTransfers(P, { accountId: payee, limit: 20 });
      expect(transfers.map((x) => x.idempotencyKey).sort()).toEqual(['r0-a', 'r0-b', 'r0-c', 'r1-a', 'r1-b', 'r1-c', 'r2-a', 'r2-b', 'r2-c']);
      expect((await ledger.verify(P)).ok).toBe(true);
    });

    it("lists an account's transfers on both sides, page by page, and only that account's", async () => {
      const other = (await ledger.createAccount(P, { kind: 'agent', name: 'other', currency: 'USD' })).account.id;
      await ledger.transfer(P, [{ debitAccountId: funding, creditAccountId: other, amountMicros: 5, idempotencyKey: 'not-the-wallet' }]);
      for (let i = 0; i < 3; i++) {
        await ledger.transfer(P, [{ debitAccountId: wallet, creditAccountId: payee, amountMicros: 10 + i, idempotencyKey: `out-${i}` }]);
        await ledger.transfer(P, [{ debitAccountId: payee, creditAccountId: wallet, amountMicros: 1, idempotencyKey: `back-${i}` }]);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.listTransfers(P, { accountId: wallet, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.transfers.length).toBeLessThanOrEqual(3);
        seen.push(...page.transfers.map((x) => x.idempotencyKey));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen.sort()).toEqual(['back-0', 'back-1', 'back-2', 'fund-1', 'out-0', 'out-1', 'out-2']);
      const all = (await ledger.listTransfers(P, { limit: 20 })).transfers.map((x) => x.id);
      expect(all).toEqual([...all].sort());
      expect(all).toHaveLength(8);
    });

    it('the sweeper voids expired holds once, even with two sweepers, and a late post is refused', async () => {
      const a = await ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: 400_000, timeoutMs: 1000, idempotencyKey: 'a' });
      const b = await ledger.hold(P, { debitAccountId: wallet, creditAccountId: payee, amountMicros: 400_000, timeoutMs: 60_000, idempotencyKey: 'b' });
      clock += 5000;
      const other = createLedger({ db: t.db, direct: t.direct, now: () => clock });
      const swept = await Promise.all([ledger.sweepExpired(), other.sweepExpired()]);
      expect(swept[0] + swept[1]).toBe(1);
      expect((await ledger.getHold(P, a.id)).status).toBe('expired');
      expect((await ledger.getHold(P, b.id)).status).toBe('pending');
      expect((await ledger.getAccount(P, wallet)).availableMicros).toBe(600_000);
      await expect(ledger.post(P, a.id)).rejects.toMatchObject({ code: 'conflict', details: { status: 'expired' } });
      expect(await ledger.verify(P)).toMatchObject({ ok: true, openHolds: 1 });
    });

    it('verify finds a balance changed behind its back', async () => {
      await sql`update ledger_balances set credits_posted = credits_posted + 5 where account_id = ${wallet}`.execute(t.db);
      const report = await ledger.verify(P);
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual({ reason: 'balance_drift', accountId: wallet, field: 'creditsPosted', expected: USD, actual: USD + 5 });
      expect(report.problems.map((p) => p.reason)).toContain('unbalanced');
    });

    it('creates an account by code once', async () => {
      const first = await ledger.createAccount(P, { kind: 'run', name: 'r', currency: 'USD', code: 'run:1' });
      const again = await ledger.createAccount(P, { kind: 'run', name: 'r', currency: 'USD', code: 'run:1' });
      expect([first.created, again.created, again.account.id]).toEqual([true, false, first.account.id]);
      await expect(ledger.createAccount(P, { kind: 'run', name: 'r', currency: 'EUR', code: 'run:1' })).rejects.toMatchObject({ code: 'conflict' });
    });
  });
}

describe('request hashes', () => {
  // Stored with every transfer and compared on a replay: a replay after an upgrade must still match.
  it('are the sha256 of the canonical JSON of the request, as transfers have always stored', () => {
    const transfer = {
      kind: 'pending',
      debit: 'acc_1',
      credit: 'acc_2',
      amount: 1234,
      memo: 'tea "for" two ☕',
      metadata: canonicalJson({ z: 1, a: [2, { y: null }] }),
      timeoutMs: 600_000,
    };
    expect(transferRequestHash(transfer)).toBe(sha256Hex(canonicalJson(transfer)));
    const plain = { ...transfer, kind: 'posted', memo: null, metadata: null, timeoutMs: null };
    expect(transferRequestHash(plain)).toBe(sha256Hex(canonicalJson(plain)));
    const resolution = { kind: 'post_pending', hold: 'hld_1', amount: 617 };
    expect(resolutionRequestHash(resolution)).toBe(sha256Hex(canonicalJson(resolution)));
  });
});
