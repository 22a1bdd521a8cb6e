import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { createLedger } from '../ledger/ledger-service.js';
import { LATEST_MIGRATION, migrateToLatest, pendingMigrations } from './migrations/index.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from './test-databases.js';

describe('migrations', () => {
  const opened: TestDatabase[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  for (const dialect of DIALECTS) {
    it(`leave nothing pending on ${dialect}`, async () => {
      const t = await openTestDatabase(dialect);
      opened.push(t);
      expect(await pendingMigrations(t.db, t.types)).toEqual([]);
      expect(LATEST_MIGRATION).toBe('019-payment-actions');
    });
  }

  for (const dialect of DIALECTS) {
    it(`016 keeps the ledger as it was, and a hold is still resolved once, on ${dialect}`, async () => {
      const t = await openTestDatabase(dialect, '014-config-generation');
      opened.push(t);
      const at = '2026-11-25T10:00:00.000Z';
      const account = (id: string, min: number | null, dPo: number, cPo: number, dPe: number, cPe: number) => ({
        id, project_id: 'p1', code: null, kind: 'agent', name: id, currency: 'USD', min_balance: min, max_balance: null,
        debits_posted: dPo, credits_posted: cPo, debits_pending: dPe, credits_pending: cPe, metadata: null, created_at: at,
      });
      const transfer = (id: string, kind: string, debit: string, credit: string, amount: number, extra: object) => ({
        id, project_id: 'p1', kind, debit_account_id: debit, credit_account_id: credit, amount, currency: 'USD',
        pending_id: null, timeout_at: null, batch_id: `bat_${id}`, idempotency_key: id, request_hash: 'h', memo: null,
        metadata: null, created_at: at, ...extra,
      });
      // funded 100; a hold of 30 posted as 20; a hold of 10 still open
      await t.db.insertInto('ledger_accounts').values([account('card', null, 100, 0, 0, 0), account('wallet', 0, 20, 100, 10, 0), account('shop', null, 0, 20, 0, 10)]).execute();
      await t.db.insertInto('ledger_transfers').values([
        transfer('trf_fund', 'posted', 'card', 'wallet', 100, {}),
        transfer('hld_a', 'pending', 'wallet', 'shop', 30, { timeout_at: '2026-11-25T10:10:00.000Z' }),
        transfer('trf_post', 'post_pending', 'wallet', 'shop', 20, { pending_id: 'hld_a', idempotency_key: 'hold:hld_a:resolve' }),
        transfer('hld_b', 'pending', 'wallet', 'shop', 10, { timeout_at: '2026-11-25T10:20:00.000Z' }),
      ]).execute();
      await t.db.insertInto('ledger_open_holds').values({ transfer_id: 'hld_b', project_id: 'p1', timeout_at: '2026-11-25T10:20:00.000Z' }).execute();

      await migrateToLatest(t.db, t.types);
      const ledger = createLedger({ db: t.db, direct: t.direct, now: () => Date.parse(at) });
      expect(await ledger.verify('p1')).toMatchObject({ ok: true, accounts: 3, transfers: 4, openHolds: 1 });
      expect(await ledger.getHold('p1', 'hld_a')).toMatchObject({ status: 'posted', resolution: { id: 'trf_post', amountMicros: 20 } });
      await expect(ledger.void('p1', 'hld_a')).rejects.toMatchObject({ code: 'conflict', details: { status: 'posted' } });
      expect(await ledger.post('p1', 'hld_b', 4)).toMatchObject({ status: 'posted', resolution: { amountMicros: 4 } });
      expect(await ledger.verify('p1')).toMatchObject({ ok: true, transfers: 5, openHolds: 0 });
      // the database itself refuses a second resolution of a hold, or one under another key
      const again = transfer('trf_again', 'void_pending', 'wallet', 'shop', 0, { pending_id: 'hld_a', idempotency_key: 'hold:hld_a:resolve' });
      await expect(t.db.insertInto('ledger_transfers').values(again).execute()).rejects.toThrow();
      await expect(t.db.insertInto('ledger_transfers').values({ ...again, idempotency_key: 'other' }).execute()).rejects.toThrow();
    });
  }

  it.runIf(process.env.HANGAR_TEST_PG_URL)('keep two Hangars in two schemas of one Postgres database apart', async () => {
    // Kysely looked for its bookkeeping tables in every schema: the second schema found the first's
    // and skipped creating its own, then failed ("hangar_migrations_lock does not exist").
    const first = await openTestDatabase('postgres');
    opened.push(first);
    const second = await openTestDatabase('postgres');
    opened.push(second);
    expect(await pendingMigrations(second.db, second.types)).toEqual([]);
    expect(await second.db.selectFrom('journal_events').selectAll().execute()).toEqual([]);
  });

  it.runIf(process.env.HANGAR_TEST_PG_URL)('are safe when several pools migrate at once (Postgres advisory lock)', async () => {
    const t = await openTestDatabase('postgres');
    opened.push(t);
    // an empty schema: drop everything openTestDatabase migrated, then race four pools
    const schema = t.describe.split(' schema ')[1]!;
    await sql.raw(`drop schema ${schema} cascade; create schema ${schema}`).execute(t.db);
    const url = new URL(process.env.HANGAR_TEST_PG_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const all = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: url.toString(), dataDir: t.dataDir })));
    for (const d of all) expect(await pendingMigrations(d.db, d.types)).toEqual([]);
    await Promise.all(all.map((d) => d.close()));
  });
});
