import { sql, type Kysely, type Selectable } from 'kysely';
import type { DirectConnection, DirectStatement } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';

/** An account with its bounds and balances (two tables since migration 016). */
export type AccountRow = Selectable<Database['ledger_accounts']> &
  Omit<Selectable<Database['ledger_balances']>, 'account_id' | 'project_id'>;
export type NewAccountRow = Selectable<Database['ledger_accounts']> &
  Pick<AccountRow, 'min_balance' | 'max_balance'>;
export type TransferRow = Selectable<Database['ledger_transfers']>;
export type AccountCurrency = Pick<AccountRow, 'id' | 'currency'>;

/** What one batch changes on one account; all four in micro-units, each may be negative. */
export interface BalanceDelta {
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}

/** Per account, sums recomputed from transfers (for verify). */
export interface RecomputedSums {
  accountId: string;
  side: 'debit' | 'credit';
  kind: 'posted' | 'pending';
  total: number;
}

export type OpenHoldRow = Selectable<Database['ledger_open_holds']>;
/** What names an open hold: its id and its timeout (the open-hold table is kept in timeout order). */
export interface OpenHoldKey {
  id: string;
  timeout_at: string;
}

/**
 * The idempotency key of a hold's resolution (its post, void or expiry): one per hold, so the unique
 * key index lets a hold be resolved once, and finds the resolution. Migration 016 checks that every
 * resolution's key is this.
 */
export const resolutionKey = (holdId: string): string => `hold:${holdId}:resolve`;

/** `resolutionKey` of the transfer aliased `alias`, in SQL: compared with the key index's column. */
const resolutionKeyOf = (alias: string) =>
  sql<string>`${sql.lit('hold:')} || ${sql.ref(`${alias}.id`)} || ${sql.lit(':resolve')}`;

/**
 * Accounts, transfers and open holds. Transfers are only ever inserted. Account balance rows and
 * open-hold rows are derived state, changed in the same transaction as the transfers they follow.
 */
export function createLedgerStore(db: Kysely<Database>) {
  /** The project's holds (`p`) with no resolution (post, void or expiry). */
  const unresolvedHolds = (projectId: string) =>
    db
      .selectFrom('ledger_transfers as p')
      .where('p.project_id', '=', projectId)
      .where('p.kind', '=', 'pending')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('ledger_transfers as r')
              .select('r.id')
              .whereRef('r.project_id', '=', 'p.project_id')
              .where('r.idempotency_key', '=', resolutionKeyOf('p'))
              .whereRef('r.pending_id', '=', 'p.id'),
          ),
        ),
      );

  /** Accounts with their balance rows. */
  const accounts = () =>
    db
      .selectFrom('ledger_accounts as a')
      .innerJoin('ledger_balances as b', 'b.account_id', 'a.id')
      .selectAll('a')
      .select([
        'b.min_balance',
        'b.max_balance',
        'b.debits_posted',
        'b.credits_posted',
        'b.debits_pending',
        'b.credits_pending',
      ]);
  return {
    /**
     * Inserts the account (and its balance row, in one transaction) unless one with its (project,
     * code) exists; true when inserted.
     */
    async insertAccount(row: NewAccountRow): Promise<boolean> {
      const { min_balance, max_balance, ...account } = row;
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .insertInto('ledger_accounts')
          .values(account)
          .onConflict((oc) => oc.columns(['project_id', 'code']).doNothing())
          .executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
        await trx
          .insertInto('ledger_balances')
          .values({ account_id: row.id, project_id: row.project_id, min_balance, max_balance })
          .execute();
        return true;
      });
    },

    async getAccount(projectId: string, id: string): Promise<AccountRow | undefined> {
      return accounts().where('a.project_id', '=', projectId).where('a.id', '=', id).executeTakeFirst();
    },

    async getAccountByCode(projectId: string, code: string): Promise<AccountRow | undefined> {
      return accounts().where('a.project_id', '=', projectId).where('a.code', '=', code).executeTakeFirst();
    },

    async getAccounts(projectId: string, ids: string[]): Promise<AccountRow[]> {
      if (ids.length === 0) return [];
      return accounts().where('a.project_id', '=', projectId).where('a.id', 'in', ids).execute();
    },

    async listAccounts(
      projectId: string,
      options: { kind?: string; after?: string; limit: number },
    ): Promise<AccountRow[]> {
      let q = accounts().where('a.project_id', '=', projectId).orderBy('a.id').limit(options.limit);
      if (options.kind) q = q.where('a.kind', '=', options.kind);
      if (options.after) q = q.where('a.id', '>', options.after);
      return q.execute();
    },

    /**
     * Adds the delta to the account's balance columns only if its bounds still hold afterwards, where
     * pending debits count against the lower bound and pending credits against the upper one. One
     * conditional statement: the database re-checks it under the row's write lock, so concurrent
     * writers (other requests, other processes) can never take the account past a bound together.
     */
    async applyDelta(projectId: string, accountId: string, d: BalanceDelta): Promise<boolean> {
      const result = await db
        .updateTable('ledger_balances')
        .set((eb) => ({
          debits_posted: eb('debits_posted', '+', d.debitsPosted),
          credits_posted: eb('credits_posted', '+', d.creditsPosted),
          debits_pending: eb('debits_pending', '+', d.debitsPending),
          credits_pending: eb('credits_pending', '+', d.creditsPending),
        }))
        .where('account_id', '=', accountId)
        .where('project_id', '=', projectId)
        .where(
          sql<boolean>`(min_balance is null or credits_posted + ${d.creditsPosted} - debits_posted - ${d.debitsPosted} - debits_pending - ${d.debitsPending} >= min_balance)`,
        )
        .where(
          sql<boolean>`(max_balance is null or credits_posted + ${d.creditsPosted} + credits_pending + ${d.creditsPending} - debits_posted - ${d.debitsPosted} <= max_balance)`,
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * `applyDelta` for many accounts in one statement (UPDATE … FROM, on SQLite and Postgres alike):
     * each row is changed only if its bounds still hold. Returns the ids it changed; an id missing
     * from the result was refused. Row locks are taken in join order, so callers keep the number of
     * concurrent batches touching the same accounts low or retry on deadlock.
     */
    async applyDeltas(projectId: string, deltas: Array<[string, BalanceDelta]>): Promise<Set<string>> {
      const rows = deltas.map(
        ([id, d]) =>
          sql`select cast(${id} as text) as aid, cast(${d.debitsPosted} as bigint) as dpo, cast(${d.creditsPosted} as bigint) as cpo, cast(${d.debitsPending} as bigint) as dpe, cast(${d.creditsPending} as bigint) as cpe`,
      );
      const result = await sql<{ account_id: string }>`
        update ledger_balances set
          debits_posted = debits_posted + d.dpo,
          credits_posted = credits_posted + d.cpo,
          debits_pending = debits_pending + d.dpe,
          credits_pending = credits_pending + d.cpe
        from (${sql.join(rows, sql` union all `)}) as d
        where ledger_balances.account_id = d.aid and ledger_balances.project_id = ${projectId}
          and (min_balance is null or credits_posted + d.cpo - debits_posted - d.dpo - debits_pending - d.dpe >= min_balance)
          and (max_balance is null or credits_posted + d.cpo + credits_pending + d.cpe - debits_posted - d.dpo <= max_balance)
        returning ledger_balances.account_id`.execute(db);
      return new Set(result.rows.map((r) => r.account_id));
    },

    async findTransfersByKeys(projectId: string, keys: string[]): Promise<TransferRow[]> {
      if (keys.length === 0) return [];
      return db
        .selectFrom('ledger_transfers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('idempotency_key', 'in', keys)
        .execute();
    },

    /**
     * Inserts the transfers, skipping any whose idempotency key (or resolved hold) is already taken —
     * by a concurrent transaction that committed first. Returns how many were inserted.
     */
    async insertTransfers(rows: TransferRow[]): Promise<number> {
      if (rows.length === 0) return 0;
      const result = await db
        .insertInto('ledger_transfers')
        .values(rows)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0);
    },

    async getTransfer(projectId: string, id: string): Promise<TransferRow | undefined> {
      return db
        .selectFrom('ledger_transfers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async getTransfers(projectId: string, ids: string[]): Promise<TransferRow[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('ledger_transfers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', 'in', ids)
        .execute();
    },

    /** The posts, voids and expiries of these holds (at most one each), found by their idempotency keys. */
    async getResolutions(projectId: string, holdIds: string[]): Promise<TransferRow[]> {
      if (holdIds.length === 0) return [];
      return db
        .selectFrom('ledger_transfers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('idempotency_key', 'in', holdIds.map(resolutionKey))
        .where('pending_id', 'is not', null)
        .execute();
    },

    /**
     * A page of the project's transfers by id, or of one account's. An account's page is the two
     * index ranges (debit side, credit side) merged: with `debit = ? or credit = ?` the databases walk
     * the whole project by id instead, filtering. A transfer never has one account on both sides.
     */
    async listTransfers(
      projectId: string,
      options: { accountId?: string; after?: string; limit: number },
    ): Promise<TransferRow[]> {
      const page = (column?: 'debit_account_id' | 'credit_account_id') => {
        let q = db
          .selectFrom('ledger_transfers')
          .selectAll()
          .where('project_id', '=', projectId)
          .orderBy('id')
          .limit(options.limit);
        if (column) q = q.where(column, '=', options.accountId!);
        if (options.after) q = q.where('id', '>', options.after);
        return q;
      };
      if (!options.accountId) return page().execute();
      return db
        .selectFrom((eb) =>
          eb
            .selectFrom(page('debit_account_id').as('d'))
            .selectAll()
            .unionAll(eb.selectFrom(page('credit_account_id').as('c')).selectAll())
            .as('t'),
        )
        .selectAll()
        .orderBy('id')
        .limit(options.limit)
        .execute();
    },

    async insertOpenHolds(rows: OpenHoldRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto('ledger_open_holds').values(rows).execute();
    },

    /** Removes the holds from the open set; returns how many were open (the others were resolved). */
    async closeHolds(projectId: string, holds: OpenHoldKey[]): Promise<number> {
      if (holds.length === 0) return 0;
      const result = await db
        .deleteFrom('ledger_open_holds')
        .where('project_id', '=', projectId)
        .where((eb) =>
          eb(
            eb.refTuple('timeout_at', 'transfer_id'),
            'in',
            holds.map((h) => eb.tuple(h.timeout_at, h.id)),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async expiredHolds(
      now: string,
      limit: number,
    ): Promise<Array<{ transfer_id: string; project_id: string }>> {
      return db
        .selectFrom('ledger_open_holds')
        .select(['transfer_id', 'project_id'])
        .where('timeout_at', '<=', now)
        .orderBy('timeout_at')
        .limit(limit)
        .execute();
    },

    async openHoldIds(projectId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('ledger_open_holds')
        .select('transfer_id')
        .where('project_id', '=', projectId)
        .execute();
      return rows.map((r) => r.transfer_id);
    },

    async allAccounts(projectId: string): Promise<AccountRow[]> {
      return accounts().where('a.project_id', '=', projectId).execute();
    },

    async countTransfers(projectId: string): Promise<number> {
      const row = await db
        .selectFrom('ledger_transfers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Sums of transfer amounts per account and side, recomputed from the transfers alone. */
    async recomputeSums(projectId: string): Promise<RecomputedSums[]> {
      const out: RecomputedSums[] = [];
      for (const side of ['debit', 'credit'] as const) {
        const column = side === 'debit' ? 'debit_account_id' : 'credit_account_id';
        const posted = await db
          .selectFrom('ledger_transfers')
          .select([`${column} as account`, (eb) => eb.fn.sum<number>('amount').as('total')])
          .where('project_id', '=', projectId)
          .where('kind', 'in', ['posted', 'post_pending'])
          .groupBy(column)
          .execute();
        for (const r of posted)
          out.push({ accountId: r.account, side, kind: 'posted', total: Number(r.total) });
        const pending = await unresolvedHolds(projectId)
          .select([`p.${column} as account`, (eb) => eb.fn.sum<number>('p.amount').as('total')])
          .groupBy(`p.${column}`)
          .execute();
        for (const r of pending)
          out.push({ accountId: r.account, side, kind: 'pending', total: Number(r.total) });
      }
      return out;
    },

    /** Pending transfers of the project with no resolution: what the open-hold set must equal. */
    async unresolvedHoldIds(projectId: string): Promise<string[]> {
      const rows = await unresolvedHolds(projectId).select('p.id').execute();
      return rows.map((r) => r.id);
    },

    /** Resolutions that post more than their hold, release a different amount, or resolve no hold. */
    async badResolutions(
      projectId: string,
    ): Promise<Array<{ id: string; reason: 'post_exceeds_hold' | 'resolution_without_hold' }>> {
      const rows = await db
        .selectFrom('ledger_transfers as r')
        .leftJoin('ledger_transfers as p', (j) =>
          j.onRef('p.project_id', '=', 'r.project_id').onRef('p.id', '=', 'r.pending_id').on('p.kind', '=', 'pending'),
        )
        .select(['r.id', 'r.kind', 'r.amount', 'p.amount as held', 'p.id as pid'])
        .where('r.project_id', '=', projectId)
        .where('r.pending_id', 'is not', null)
        .execute();
      const out: Array<{ id: string; reason: 'post_exceeds_hold' | 'resolution_without_hold' }> = [];
      for (const r of rows) {
        if (r.pid === null) out.push({ id: r.id, reason: 'resolution_without_hold' });
        else if (Number(r.amount) > Number(r.held)) out.push({ id: r.id, reason: 'post_exceeds_hold' });
      }
      return out;
    },

    /** Transfers whose currency differs from one of their accounts'. */
    async currencyMismatches(projectId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('ledger_transfers as t')
        .innerJoin('ledger_accounts as d', 'd.id', 't.debit_account_id')
        .innerJoin('ledger_accounts as c', 'c.id', 't.credit_account_id')
        .select('t.id')
        .where('t.project_id', '=', projectId)
        .where((eb) =>
          eb.or([eb('d.currency', '!=', eb.ref('t.currency')), eb('c.currency', '!=', eb.ref('t.currency'))]),
        )
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type LedgerStore = ReturnType<typeof createLedgerStore>;

/** What one commit reads and writes: served by Kysely (any database) or by the direct SQLite handle. */
export interface LedgerCommitStore {
  getAccount(projectId: string, id: string): Promise<AccountRow | undefined> | AccountRow | undefined;
  /** The accounts' ids and currencies (all a commit needs of them until one refuses). */
  getAccounts(projectId: string, ids: string[]): Promise<AccountCurrency[]> | AccountCurrency[];
  getTransfers(projectId: string, ids: string[]): Promise<TransferRow[]> | TransferRow[];
  findTransfersByKeys(projectId: string, keys: string[]): Promise<TransferRow[]> | TransferRow[];
  closeHolds(projectId: string, holds: OpenHoldKey[]): Promise<number> | number;
  insertTransfers(rows: TransferRow[]): Promise<number> | number;
  insertOpenHolds(rows: OpenHoldRow[]): Promise<void> | void;
  applyDelta(projectId: string, accountId: string, d: BalanceDelta): Promise<boolean> | boolean;
  applyDeltas(projectId: string, deltas: Array<[string, BalanceDelta]>): Promise<Set<string>> | Set<string>;
}

const TRANSFER_COLUMNS = [
  'id',
  'project_id',
  'kind',
  'debit_account_id',
  'credit_account_id',
  'amount',
  'currency',
  'pending_id',
  'timeout_at',
  'batch_id',
  'idempotency_key',
  'request_hash',
  'memo',
  'metadata',
  'created_at',
] as const;

/**
 * The commit store over the direct (synchronous) SQLite connection: the same statements as
 * `createLedgerStore`, prepared once, one row per statement — a prepared single-row statement costs a
 * few microseconds, less than building a multi-row one. Only for use inside the group commit's
 * transaction (see ledger-service.ts).
 */
export function createDirectLedgerStore(direct: DirectConnection): LedgerCommitStore & {
  /** Rows changed through this store so far: whether a failed batch changed any. */
  readonly changes: number;
} {
  let changes = 0;
  const counted = (n: number) => {
    changes += n;
    return n;
  };
  const s = {
    account: direct.prepare(
      `select a.*, b.min_balance, b.max_balance, b.debits_posted, b.credits_posted, b.debits_pending,
         b.credits_pending from ledger_accounts a join ledger_balances b on b.account_id = a.id
       where a.project_id = ? and a.id = ?`,
    ),
    accountCurrency: direct.prepare('select id, currency from ledger_accounts where project_id = ? and id = ?'),
    transfer: direct.prepare('select * from ledger_transfers where project_id = ? and id = ?'),
    byKey: direct.prepare('select * from ledger_transfers where project_id = ? and idempotency_key = ?'),
    closeHold: direct.prepare(
      'delete from ledger_open_holds where timeout_at = ? and transfer_id = ? and project_id = ?',
    ),
    insertTransfer: direct.prepare(
      `insert into ledger_transfers (${TRANSFER_COLUMNS.join(', ')}) values (${TRANSFER_COLUMNS.map(() => '?').join(', ')}) on conflict do nothing`,
    ),
    insertOpenHold: direct.prepare(
      'insert into ledger_open_holds (timeout_at, transfer_id, project_id) values (?, ?, ?)',
    ),
    // the bound check of applyDelta above, in one conditional statement; positional parameters bind
    // faster than named ones (a quarter of the statement's cost), hence the repeats
    applyDelta: direct.prepare(
      `update ledger_balances set debits_posted = debits_posted + ?, credits_posted = credits_posted + ?,
         debits_pending = debits_pending + ?, credits_pending = credits_pending + ?
       where account_id = ? and project_id = ?
         and (min_balance is null or credits_posted + ? - debits_posted - ? - debits_pending - ? >= min_balance)
         and (max_balance is null or credits_posted + ? + credits_pending + ? - debits_posted - ? <= max_balance)`,
    ),
  };
  const many = <T>(stmt: DirectStatement, projectId: string, values: string[]) =>
    values.flatMap((v) => {
      const row = stmt.get(projectId, v) as T | undefined;
      return row ? [row] : [];
    });
  const applyDelta = (projectId: string, accountId: string, d: BalanceDelta) =>
    counted(s.applyDelta.run(
      d.debitsPosted,
      d.creditsPosted,
      d.debitsPending,
      d.creditsPending,
      accountId,
      projectId,
      d.creditsPosted,
      d.debitsPosted,
      d.debitsPending,
      d.creditsPosted,
      d.creditsPending,
      d.debitsPosted,
    ).changes) === 1;
  return {
    getAccount: (projectId, id) => s.account.get(projectId, id) as AccountRow | undefined,
    getAccounts: (projectId, ids) => many<AccountCurrency>(s.accountCurrency, projectId, ids),
    getTransfers: (projectId, ids) => many<TransferRow>(s.transfer, projectId, ids),
    findTransfersByKeys: (projectId, keys) => many<TransferRow>(s.byKey, projectId, keys),
    get changes() {
      return changes;
    },
    closeHolds: (projectId, holds) =>
      holds.reduce((n, h) => n + counted(s.closeHold.run(h.timeout_at, h.id, projectId).changes), 0),
    insertTransfers: (rows) =>
      rows.reduce(
        (n, r) =>
          n +
          counted(s.insertTransfer.run(
            r.id,
            r.project_id,
            r.kind,
            r.debit_account_id,
            r.credit_account_id,
            r.amount,
            r.currency,
            r.pending_id,
            r.timeout_at,
            r.batch_id,
            r.idempotency_key,
            r.request_hash,
            r.memo,
            r.metadata,
            r.created_at,
          ).changes),
        0,
      ),
    insertOpenHolds: (rows) => {
      for (const r of rows) counted(s.insertOpenHold.run(r.timeout_at, r.transfer_id, r.project_id).changes);
    },
    applyDelta,
    applyDeltas: (projectId, deltas) =>
      new Set(deltas.filter(([id, d]) => applyDelta(projectId, id, d)).map(([id]) => id)),
  };
}
