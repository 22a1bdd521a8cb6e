import { sql, type Kysely } from 'kysely';
import type { ColumnTypes } from '../dialects/dialect.js';

/**
 * Fewer index writes per transfer (see docs/benchmarks.md, "Ledger"). Both ledger tables are rebuilt,
 * rows copied as they are:
 *
 * - `ledger_transfers` is keyed by (project_id, id): the key index is the one a project's transfers
 *   are listed by, so `ledger_transfers_project` goes. `ledger_transfers_pending` (unique pending_id)
 *   goes too: a resolution's idempotency key is `hold:<pending_id>:resolve` — now a check constraint
 *   — so the unique key index already lets a hold be resolved only once, and finds the resolution.
 *   Five b-trees per row instead of seven.
 * - An account's bounds and balances move to `ledger_balances`, one narrow row per account: the
 *   conditional update every transfer makes twice rewrites ~60 bytes instead of the whole account
 *   (name, code, metadata…), and more accounts share a page. On SQLite the rows live in the key's
 *   b-tree (`without rowid`).
 * - `ledger_open_holds` is keyed by (timeout_at, transfer_id), the order the sweeper reads it in, so
 *   it needs no second index; closing a hold names its timeout (the hold's row has it). On SQLite its
 *   narrow rows live in the key's b-tree itself (`without rowid`): one b-tree instead of three.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('ledger_transfers_016')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('debit_account_id', 'text', (c) => c.notNull())
    .addColumn('credit_account_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('pending_id', 'text')
    .addColumn('timeout_at', 'text')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('memo', 'text')
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_transfers_pk', ['project_id', 'id'])
    .addCheckConstraint(
      'ledger_transfers_resolution_key',
      sql`pending_id is null or idempotency_key = 'hold:' || pending_id || ':resolve'`,
    )
    .execute();
  await sql`insert into ledger_transfers_016 (id, project_id, kind, debit_account_id, credit_account_id,
      amount, currency, pending_id, timeout_at, batch_id, idempotency_key, request_hash, memo, metadata, created_at)
    select id, project_id, kind, debit_account_id, credit_account_id, amount, currency, pending_id, timeout_at,
      batch_id, idempotency_key, request_hash, memo, metadata, created_at from ledger_transfers`.execute(db);
  await db.schema.dropTable('ledger_transfers').execute();
  await db.schema.alterTable('ledger_transfers_016').renameTo('ledger_transfers').execute();
  await db.schema
    .createIndex('ledger_transfers_key')
    .unique()
    .on('ledger_transfers')
    .columns(['project_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('ledger_transfers_debit').on('ledger_transfers').columns(['debit_account_id', 'id']).execute();
  await db.schema.createIndex('ledger_transfers_credit').on('ledger_transfers').columns(['credit_account_id', 'id']).execute();

  await db.schema
    .createTable('ledger_balances')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('min_balance', 'bigint')
    .addColumn('max_balance', 'bigint')
    .addColumn('debits_posted', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('credits_posted', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('debits_pending', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('credits_pending', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('ledger_balances_pk', ['account_id'])
    .$call((t) => (types.withoutRowid ? t.modifyEnd(sql`without rowid`) : t))
    .execute();
  await sql`insert into ledger_balances (account_id, project_id, min_balance, max_balance, debits_posted,
      credits_posted, debits_pending, credits_pending)
    select id, project_id, min_balance, max_balance, debits_posted, credits_posted, debits_pending,
      credits_pending from ledger_accounts`.execute(db);
  for (const column of ['min_balance', 'max_balance', 'debits_posted', 'credits_posted', 'debits_pending', 'credits_pending'])
    await db.schema.alterTable('ledger_accounts').dropColumn(column).execute();

  await db.schema
    .createTable('ledger_open_holds_016')
    .addColumn('timeout_at', 'text', (c) => c.notNull())
    .addColumn('transfer_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_open_holds_pk', ['timeout_at', 'transfer_id'])
    .$call((t) => (types.withoutRowid ? t.modifyEnd(sql`without rowid`) : t))
    .execute();
  await sql`insert into ledger_open_holds_016 (timeout_at, transfer_id, project_id)
    select timeout_at, transfer_id, project_id from ledger_open_holds`.execute(db);
  await db.schema.dropTable('ledger_open_holds').execute();
  await db.schema.alterTable('ledger_open_holds_016').renameTo('ledger_open_holds').execute();
}
