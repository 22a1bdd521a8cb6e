import { hash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  Account,
  AccountKind,
  CreateAccountRequest,
  Hold,
  LedgerProblem,
  LedgerVerifyReport,
  Transfer,
  TransferKind,
} from '@hangar/protocol';
import { isRetryableConflict } from '../db/dialects/errors.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { canonicalJson } from '../util/hash.js';
import { newId, nowIso } from '../util/ids.js';
import type { DirectConnection } from '../db/dialects/dialect.js';
import {
  createDirectLedgerStore,
  createLedgerStore,
  type AccountRow,
  type BalanceDelta,
  resolutionKey,
  type LedgerCommitStore,
  type TransferRow,
} from './ledger-store.js';

export interface LedgerOptions {
  db: Kysely<Database>;
  /** The clock, for holds' timeouts and the sweeper; tests move it. */
  now?: () => number;
  /** The synchronous SQLite connection: commits then go through the group commit. */
  direct?: DirectConnection | undefined;
}

interface TransferFields {
  debitAccountId: string;
  creditAccountId: string;
  amountMicros: number;
  idempotencyKey: string;
  memo?: string | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}

/**
 * One step of a linked batch. Every batch commits all or nothing. `post`, `void` and `expire` resolve a
 * hold; a hold is resolved once, so their idempotency key is the hold's own.
 */
export type LedgerOp =
  | ({ type: 'transfer' } & TransferFields)
  | ({ type: 'hold'; timeoutMs: number } & TransferFields)
  | { type: 'post'; holdId: string; amountMicros?: number | undefined }
  | { type: 'void'; holdId: string }
  | { type: 'expire'; holdId: string };

const RESOLUTION_KIND = { post: 'post_pending', void: 'void_pending', expire: 'expire_pending' } as const;
const STATUS_OF_RESOLUTION: Record<string, Hold['status']> = {
  post_pending: 'posted',
  void_pending: 'voided',
  expire_pending: 'expired',
};
const MAX_ATTEMPTS = 5;
/** Above this many accounts in a batch, balances change in one statement instead of one per account. */
const BULK_UPDATE_FROM = 4;
/** Most batches one group commit takes into its transaction. */
const MAX_GROUP = 256;
/** Accounts and holds remembered per ledger. */
const CACHE_SIZE = 100_000;

/** A transaction lost a race it can win by running again (the retry sees what the winner wrote). */
class RaceLost extends Error {}

export function toAccount(row: AccountRow): Account {
  const balance = Number(row.credits_posted) - Number(row.debits_posted);
  return {
    id: row.id,
    kind: row.kind as AccountKind,
    code: row.code,
    name: row.name,
    currency: row.currency,
    minBalanceMicros: row.min_balance === null ? null : Number(row.min_balance),
    maxBalanceMicros: row.max_balance === null ? null : Number(row.max_balance),
    debitsPostedMicros: Number(row.debits_posted),
    creditsPostedMicros: Number(row.credits_posted),
    debitsPendingMicros: Number(row.debits_pending),
    creditsPendingMicros: Number(row.credits_pending),
    balanceMicros: balance,
    availableMicros: balance - Number(row.debits_pending),
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    createdAt: row.created_at,
  };
}

export function toTransfer(row: TransferRow): Transfer {
  return {
    id: row.id,
    kind: row.kind as TransferKind,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMicros: Number(row.amount),
    currency: row.currency,
    pendingId: row.pending_id,
    timeoutAt: row.timeout_at,
    batchId: row.batch_id,
    idempotencyKey: row.idempotency_key,
    memo: row.memo,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    createdAt: row.created_at,
  };
}

/**
 * What a transfer's idempotency key is bound to: the sha256 of the canonical JSON of the request
 * (`canonicalJson`, keys sorted), written out in sorted order here since it is on every commit's path
 * and canonicalJson's generic sort costs more than the hash. The hashes must never change: a replay
 * is recognized by comparing them with those stored.
 */
export function transferRequestHash(r: {
  kind: string;
  debit: string;
  credit: string;
  amount: number;
  memo: string | null;
  metadata: string | null;
  timeoutMs: number | null;
}): string {
  const { amount, credit, debit, kind, memo, metadata, timeoutMs } = r;
  return hash('sha256', JSON.stringify({ amount, credit, debit, kind, memo, metadata, timeoutMs }));
}

/** `transferRequestHash` of a hold's resolution. */
export function resolutionRequestHash(r: { kind: string; hold: string; amount: number }): string {
  const { amount, hold, kind } = r;
  return hash('sha256', JSON.stringify({ amount, hold, kind }));
}

const zero = (): BalanceDelta => ({ debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });

/**
 * The double-entry ledger. Balances live on the account rows and change only in the transaction that
 * inserts the transfers explaining them; `verify` recomputes every one of them from the transfers.
 */
export function createLedger(options: LedgerOptions) {
  const { db, direct } = options;
  const now = options.now ?? Date.now;

  function keyOf(op: LedgerOp): string {
    return op.type === 'transfer' || op.type === 'hold' ? op.idempotencyKey : resolutionKey(op.holdId);
  }

  // What never changes once written, kept so a commit need not read it again: an account's currency
  // (accounts are never deleted and their currency never changes) and a hold's transfer row.
  const accountCache = new Map<string, { id: string; projectId: string; currency: string }>();
  const holdCache = new Map<string, TransferRow>();
  const remember = <V>(cache: Map<string, V>, key: string, value: V) => {
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
  };

  /**
   * One attempt at a batch, on the store of an open transaction. `lookup`: look the idempotency keys
   * up first. The first attempt skips that and lets the insert find a key taken (RaceLost); the retry
   * then looks up and replays or refuses.
   */
  async function commitOnce(
    store: LedgerCommitStore,
    projectId: string,
    ops: LedgerOp[],
    lookup: boolean,
  ): Promise<{ rows: TransferRow[]; replayed: boolean }> {
    const holdIds = ops.flatMap((op) =>
      op.type === 'post' || op.type === 'void' || op.type === 'expire' ? [op.holdId] : [],
    );
    const holds = new Map<string, TransferRow>();
    const unknownHolds: string[] = [];
    for (const id of holdIds) {
      const cached = holdCache.get(id);
      if (cached && cached.project_id === projectId) holds.set(id, cached);
      else unknownHolds.push(id);
    }
    for (const r of await store.getTransfers(projectId, unknownHolds)) holds.set(r.id, r);
    const accounts = new Map<string, { id: string; currency: string }>();
    const unknownAccounts = new Set<string>();
    for (const op of ops) {
      if (op.type === 'transfer' || op.type === 'hold') {
        for (const id of [op.debitAccountId, op.creditAccountId]) {
          const cached = accountCache.get(id);
          if (cached && cached.projectId === projectId) accounts.set(id, cached);
          else unknownAccounts.add(id);
        }
      }
    }
    for (const a of await store.getAccounts(projectId, [...unknownAccounts])) {
      accounts.set(a.id, { id: a.id, currency: a.currency });
      remember(accountCache, a.id, { id: a.id, projectId, currency: a.currency });
    }

    // What each op would write, and its request hash for idempotency.
    const at = new Date(now());
    const createdAt = at.toISOString();
    // holds of one batch mostly share a timeout: formatted once each
    const timeouts = new Map<number, string>();
    const timeoutAt = (ms: number) =>
      timeouts.get(ms) ?? timeouts.set(ms, new Date(at.getTime() + ms).toISOString()).get(ms)!;
    const batchId = newId('bat');
    const rows: TransferRow[] = [];
    for (const [index, op] of ops.entries()) {
      if (op.type === 'transfer' || op.type === 'hold') {
        const debit = accounts.get(op.debitAccountId);
        const credit = accounts.get(op.creditAccountId);
        if (!debit || !credit) {
          const missing = !debit ? op.debitAccountId : op.creditAccountId;
          throw new ApiError('not_found', `No account ${missing} in this project.`, {
            details: { index, accountId: missing },
          });
        }
        if (debit.id === credit.id) {
          throw new ApiError('validation_failed', 'A transfer needs two different accounts.', {
            details: { index },
          });
        }
        if (debit.currency !== credit.currency) {
          throw new ApiError(
            'validation_failed',
            `Account ${debit.id} is in ${debit.currency} and ${credit.id} in ${credit.currency}.`,
            {
              details: { index },
            },
          );
        }
        const kind = op.type === 'hold' ? 'pending' : 'posted';
        const metadata = op.metadata ? canonicalJson(op.metadata) : null;
        const memo = op.memo ?? null;
        rows.push({
          id: newId(op.type === 'hold' ? 'hld' : 'trf'),
          project_id: projectId,
          kind,
          debit_account_id: debit.id,
          credit_account_id: credit.id,
          amount: op.amountMicros,
          currency: debit.currency,
          pending_id: null,
          timeout_at: op.type === 'hold' ? timeoutAt(op.timeoutMs) : null,
          batch_id: batchId,
          idempotency_key: op.idempotencyKey,
          request_hash: transferRequestHash({
            kind,
            debit: debit.id,
            credit: credit.id,
            amount: op.amountMicros,
            memo,
            metadata,
            timeoutMs: op.type === 'hold' ? op.timeoutMs : null,
          }),
          memo,
          metadata,
          created_at: createdAt,
        });
      } else {
        const hold = holds.get(op.holdId);
        if (!hold || hold.kind !== 'pending') {
          throw new ApiError('not_found', `No hold ${op.holdId} in this project.`, {
            details: { index, holdId: op.holdId },
          });
        }
        const kind = RESOLUTION_KIND[op.type];
        const amount = op.type === 'post' ? (op.amountMicros ?? Number(hold.amount)) : Number(hold.amount);
        if (amount > Number(hold.amount)) {
          throw new ApiError(
            'validation_failed',
            `Hold ${hold.id} holds ${hold.amount}; cannot post ${amount}.`,
            {
              details: { index, heldMicros: Number(hold.amount) },
            },
          );
        }
        rows.push({
          id: newId('trf'),
          project_id: projectId,
          kind,
          debit_account_id: hold.debit_account_id,
          credit_account_id: hold.credit_account_id,
          amount,
          currency: hold.currency,
          pending_id: hold.id,
          timeout_at: null,
          batch_id: batchId,
          idempotency_key: keyOf(op),
          request_hash: resolutionRequestHash({ kind, hold: hold.id, amount }),
          memo: null,
          metadata: null,
          created_at: createdAt,
        });
      }
    }

    // Idempotency: a batch already committed returns what it wrote; anything else reusing a key fails.
    const existing = new Map(
      (lookup
        ? await store.findTransfersByKeys(
            projectId,
            rows.map((r) => r.idempotency_key),
          )
        : []
      ).map((r) => [r.idempotency_key, r]),
    );
    if (existing.size > 0) {
      for (const row of rows) {
        const prior = existing.get(row.idempotency_key);
        if (!prior || prior.request_hash === row.request_hash) continue;
        if (row.pending_id !== null && prior.kind !== row.kind) {
          throw new ApiError(
            'conflict',
            `Hold ${row.pending_id} was already ${STATUS_OF_RESOLUTION[prior.kind]}.`,
            {
              details: { holdId: row.pending_id, status: STATUS_OF_RESOLUTION[prior.kind] },
            },
          );
        }
        throw new ApiError(
          'idempotency_conflict',
          `Idempotency key ${row.idempotency_key} was used with a different request.`,
          {
            details: { idempotencyKey: row.idempotency_key, transferId: prior.id },
          },
        );
      }
      if (existing.size === rows.length)
        return { rows: rows.map((r) => existing.get(r.idempotency_key)!), replayed: true };
      throw new ApiError(
        'idempotency_conflict',
        'Some of these idempotency keys were committed in another request.',
        {
          details: { idempotencyKeys: [...existing.keys()] },
        },
      );
    }

    // a hold always has its timeout (the open-hold table's key)
    const resolving = rows
      .filter((r) => r.pending_id !== null)
      .map((r) => ({ id: r.pending_id!, timeout_at: holds.get(r.pending_id!)!.timeout_at! }));
    if (resolving.length > 0 && (await store.closeHolds(projectId, resolving)) !== resolving.length)
      throw new RaceLost();
    if ((await store.insertTransfers(rows)) !== rows.length) throw new RaceLost();
    await store.insertOpenHolds(
      rows
        .filter((r) => r.kind === 'pending')
        .map((r) => ({ transfer_id: r.id, project_id: projectId, timeout_at: r.timeout_at! })),
    );

    // Balances: one conditional update per account, in id order (no deadlocks between batches).
    const deltas = new Map<string, BalanceDelta>();
    const delta = (id: string) => deltas.get(id) ?? deltas.set(id, zero()).get(id)!;
    for (const r of rows) {
      const d = delta(r.debit_account_id);
      const c = delta(r.credit_account_id);
      const amount = Number(r.amount);
      const held = r.pending_id ? Number(holds.get(r.pending_id)!.amount) : 0;
      switch (r.kind as TransferKind) {
        case 'posted':
          d.debitsPosted += amount;
          c.creditsPosted += amount;
          break;
        case 'pending':
          d.debitsPending += amount;
          c.creditsPending += amount;
          break;
        case 'post_pending':
          d.debitsPending -= held;
          c.creditsPending -= held;
          d.debitsPosted += amount;
          c.creditsPosted += amount;
          break;
        case 'void_pending':
        case 'expire_pending':
          d.debitsPending -= held;
          c.creditsPending -= held;
          break;
      }
    }
    // A few accounts (a budget chain): one conditional update each, in id order, so concurrent
    // batches lock them in the same order. Many (a bulk batch): one statement for all of them.
    const sorted = [...deltas.keys()].sort();
    let refused: string | undefined;
    if (sorted.length <= BULK_UPDATE_FROM) {
      for (const id of sorted) {
        if (!(await store.applyDelta(projectId, id, deltas.get(id)!))) {
          refused = id;
          break;
        }
      }
    } else {
      const changed = await store.applyDeltas(
        projectId,
        sorted.map((id) => [id, deltas.get(id)!]),
      );
      refused = sorted.find((id) => !changed.has(id));
    }
    if (refused !== undefined) {
      const row = await store.getAccount(projectId, refused);
      if (!row)
        throw new ApiError('not_found', `No account ${refused} in this project.`, {
          details: { accountId: refused },
        });
      const view = toAccount(row);
      const d = deltas.get(refused)!;
      throw new ApiError(
        'insufficient_balance',
        `Account ${view.code ?? refused} cannot take this: ${view.availableMicros} available.`,
        {
          details: {
            accountId: refused,
            code: view.code,
            availableMicros: view.availableMicros,
            requestedMicros: d.debitsPending + d.debitsPosted,
            minBalanceMicros: view.minBalanceMicros,
            maxBalanceMicros: view.maxBalanceMicros,
          },
        },
      );
    }
    return { rows, replayed: false };
  }

  /** Commits the batch; `replayed` says it had been committed before (by this key) and nothing changed now. */
  async function commitDetailed(
    projectId: string,
    ops: LedgerOp[],
  ): Promise<{ transfers: Transfer[]; replayed: boolean }> {
    if (ops.length === 0) return { transfers: [], replayed: false };
    const { rows, replayed } = direct
      ? await groupCommit.submit(projectId, ops)
      : await commitAlone(projectId, ops);
    return { transfers: rows.map(toTransfer), replayed };
  }

  /** Remembers the holds of a committed batch (never those of a transaction that may yet roll back). */
  function committed(rows: TransferRow[]): void {
    for (const r of rows) if (r.kind === 'pending') remember(holdCache, r.id, r);
  }

  /** A batch in a transaction of its own (Postgres, PGlite): row locks order concurrent batches. */
  async function commitAlone(projectId: string, ops: LedgerOp[]) {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await db
          .transaction()
          .execute((trx) => commitOnce(createLedgerStore(trx), projectId, ops, attempt > 1));
        committed(result.rows);
        return result;
      } catch (error) {
        if ((error instanceof RaceLost || isRetryableConflict(error)) && attempt < MAX_ATTEMPTS) continue;
        if (error instanceof RaceLost)
          throw new ApiError('conflict', 'Another request changed these holds at the same time; retry.');
        throw error;
      }
    }
  }

  /**
   * Group commit (SQLite): batches submitted while a transaction is being written wait, and then all
   * commit in one transaction — one BEGIN/COMMIT for many callers. Each caller's batch still commits
   * all or nothing, and a failing batch (a bound refused, a key reused) is undone alone while the
   * others commit. SQLite has one writer: batches run one after another, each seeing what the ones
   * before it wrote, so bound checks stay exact.
   *
   * Undoing one batch alone takes a savepoint around it, and a savepoint per batch costs about as
   * much as the batch's own statements (SQLite copies every page a savepoint first changes). So a
   * group first runs without them: a batch that fails before changing a row (an unknown account, a
   * replay) needs no undo, and when one fails after changing rows, the whole transaction is rolled
   * back and the group run again with a savepoint per batch — as are the next few groups, since
   * refusals come in runs (a budget that is spent refuses every call until its period ends).
   */
  const groupCommit = (() => {
    interface Job {
      projectId: string;
      ops: LedgerOp[];
      resolve: (value: { rows: TransferRow[]; replayed: boolean }) => void;
      reject: (error: unknown) => void;
    }
    type Outcome =
      | { ok: true; value: { rows: TransferRow[]; replayed: boolean } }
      | { ok: false; error: unknown };
    /** Groups run with savepoints after one needed them. */
    const CAUTIOUS_GROUPS = 16;
    const queue: Job[] = [];
    let running = false;
    let cautious = 0;
    const store = direct ? createDirectLedgerStore(direct) : null;
    // prepared once: exec() would compile each of them on every call
    const control = direct
      ? Object.fromEntries(
          (['begin immediate', 'commit', 'rollback', 'savepoint caller', 'release caller', 'rollback to caller'] as const).map((q) => [
            q,
            direct.prepare(q),
          ]),
        )
      : {};
    const run = (q: string) => void control[q]!.run();

    /** One batch; 'undo' when it failed after changing rows and runs without a savepoint. */
    async function runJob(job: Job, savepoint: boolean): Promise<Outcome | 'undo'> {
      for (let attempt = 1; ; attempt++) {
        const changed = store!.changes;
        try {
          return { ok: true, value: await commitOnce(store!, job.projectId, job.ops, attempt > 1) };
        } catch (error) {
          // an error SQLite answers by rolling the whole transaction back takes every batch with it
          if (!direct!.inTransaction) throw error;
          if (savepoint) run('rollback to caller');
          else if (store!.changes !== changed) return 'undo';
          if (error instanceof RaceLost && attempt < MAX_ATTEMPTS) continue;
          if (error instanceof RaceLost) {
            const conflict = new ApiError('conflict', 'Another request changed these holds at the same time; retry.');
            return { ok: false, error: conflict };
          }
          return { ok: false, error };
        }
      }
    }

    /** Runs the group in the open transaction; null when a batch needs undoing and there are no savepoints. */
    async function runAll(jobs: Job[], savepoints: boolean): Promise<Outcome[] | null> {
      const outcomes: Outcome[] = [];
      for (const job of jobs) {
        if (savepoints) run('savepoint caller');
        const outcome = await runJob(job, savepoints);
        if (outcome === 'undo') return null;
        outcomes.push(outcome);
        if (savepoints) run('release caller');
      }
      return outcomes;
    }

    async function runGroup(jobs: Job[]): Promise<void> {
      let outcomes: Outcome[] | null = null;
      try {
        await db.connection().execute(async () => {
          run('begin immediate');
          try {
            if (cautious > 0) {
              cautious--;
              outcomes = await runAll(jobs, true);
            } else {
              outcomes = await runAll(jobs, false);
              if (!outcomes) {
                run('rollback');
                run('begin immediate');
                outcomes = await runAll(jobs, true);
                cautious = CAUTIOUS_GROUPS;
              }
            }
            run('commit');
          } catch (error) {
            if (direct!.inTransaction) run('rollback');
            throw error;
          }
        });
      } catch (error) {
        for (const job of jobs) job.reject(error);
        return;
      }
      jobs.forEach((job, i) => {
        const outcome = outcomes![i]!;
        if (outcome.ok) {
          committed(outcome.value.rows);
          job.resolve(outcome.value);
        } else job.reject(outcome.error);
      });
    }

    async function drain(): Promise<void> {
      try {
        while (queue.length > 0) await runGroup(queue.splice(0, MAX_GROUP));
      } finally {
        running = false;
      }
    }

    return {
      submit(projectId: string, ops: LedgerOp[]): Promise<{ rows: TransferRow[]; replayed: boolean }> {
        return new Promise((resolve, reject) => {
          queue.push({ projectId, ops, resolve, reject });
          if (!running) {
            running = true;
            // the next turn of the event loop: callers submitting in this one share the transaction
            setImmediate(() => void drain());
          }
        });
      },
    };
  })();

  async function commit(projectId: string, ops: LedgerOp[]): Promise<Transfer[]> {
    return (await commitDetailed(projectId, ops)).transfers;
  }

  async function holdView(projectId: string, holdId: string): Promise<Hold> {
    const store = createLedgerStore(db);
    const transfer = await store.getTransfer(projectId, holdId);
    if (!transfer || transfer.kind !== 'pending')
      throw new ApiError('not_found', `No hold ${holdId} in this project.`);
    const [resolution] = await store.getResolutions(projectId, [holdId]);
    return {
      id: holdId,
      status: resolution ? STATUS_OF_RESOLUTION[resolution.kind]! : 'pending',
      transfer: toTransfer(transfer),
      resolution: resolution ? toTransfer(resolution) : null,
    };
  }

  return {
    /**
     * Creates an account. With a `code`, creating it again with the same attributes returns the
     * existing account (`created: false`); different attributes are a conflict.
     */
    async createAccount(
      projectId: string,
      input: CreateAccountRequest | (Omit<CreateAccountRequest, 'kind'> & { kind: AccountKind }),
    ) {
      const store = createLedgerStore(db);
      const row = {
        id: newId('acc'),
        project_id: projectId,
        code: input.code ?? null,
        kind: input.kind,
        name: input.name,
        currency: input.currency,
        min_balance: input.minBalanceMicros ?? null,
        max_balance: input.maxBalanceMicros ?? null,
        metadata: input.metadata ? canonicalJson(input.metadata) : null,
        created_at: nowIso(),
      };
      if (await store.insertAccount(row))
        return { account: toAccount((await store.getAccount(projectId, row.id))!), created: true };
      const prior = (await store.getAccountByCode(projectId, row.code!))!;
      const same =
        prior.kind === row.kind &&
        prior.currency === row.currency &&
        (prior.min_balance === null ? null : Number(prior.min_balance)) === row.min_balance &&
        (prior.max_balance === null ? null : Number(prior.max_balance)) === row.max_balance;
      if (!same) {
        throw new ApiError('conflict', `An account with code ${row.code} exists with other attributes.`, {
          details: { accountId: prior.id },
        });
      }
      return { account: toAccount(prior), created: false };
    },

    async getAccount(projectId: string, id: string): Promise<Account> {
      const row = await createLedgerStore(db).getAccount(projectId, id);
      if (!row) throw new ApiError('not_found', `No account ${id} in this project.`);
      return toAccount(row);
    },

    async getAccountByCode(projectId: string, code: string): Promise<Account | null> {
      const row = await createLedgerStore(db).getAccountByCode(projectId, code);
      return row ? toAccount(row) : null;
    },

    async listAccounts(projectId: string, options: { kind?: string; cursor?: string; limit: number }) {
      const rows = await createLedgerStore(db).listAccounts(projectId, {
        kind: options.kind,
        after: options.cursor,
        limit: options.limit,
      });
      return {
        accounts: rows.map(toAccount),
        nextCursor: rows.length === options.limit ? rows.at(-1)!.id : null,
      };
    },

    async listTransfers(projectId: string, options: { accountId?: string; cursor?: string; limit: number }) {
      const rows = await createLedgerStore(db).listTransfers(projectId, {
        accountId: options.accountId,
        after: options.cursor,
        limit: options.limit,
      });
      return {
        transfers: rows.map(toTransfer),
        nextCursor: rows.length === options.limit ? rows.at(-1)!.id : null,
      };
    },

    /** Commits a linked batch of steps (transfers, holds, posts, voids): all of them or none. */
    commit,
    commitDetailed,

    /** Posted transfers, linked: all commit or none does. */
    transfer(projectId: string, transfers: TransferFields[]): Promise<Transfer[]> {
      return commit(
        projectId,
        transfers.map((t) => ({ type: 'transfer', ...t })),
      );
    },

    /** Reserves an amount: it counts against the debit account's available balance at once. */
    async hold(projectId: string, input: TransferFields & { timeoutMs: number }): Promise<Hold> {
      const [transfer] = await commit(projectId, [{ type: 'hold', ...input }]);
      return holdView(projectId, transfer!.id);
    },

    /** Posts the actual amount (at most the held amount, default all of it) and releases the rest. */
    async post(projectId: string, holdId: string, amountMicros?: number): Promise<Hold> {
      await commit(projectId, [{ type: 'post', holdId, amountMicros }]);
      return holdView(projectId, holdId);
    },

    /** Releases a hold entirely. */
    async void(projectId: string, holdId: string): Promise<Hold> {
      await commit(projectId, [{ type: 'void', holdId }]);
      return holdView(projectId, holdId);
    },

    getHold: holdView,

    /** The transfers committed under these idempotency keys (resolutions: `hold:<id>:resolve`). */
    async transfersByKeys(projectId: string, keys: string[]): Promise<Transfer[]> {
      const store = createLedgerStore(db);
      const rows: TransferRow[] = [];
      for (let i = 0; i < keys.length; i += 500) rows.push(...(await store.findTransfersByKeys(projectId, keys.slice(i, i + 500))));
      return rows.map(toTransfer);
    },

    /**
     * Voids holds past their timeout (as `expire_pending` transfers). Safe with many processes
     * sweeping at once: a hold is taken out of the open set by exactly one of them.
     */
    async sweepExpired(limit = 500): Promise<number> {
      const due = await createLedgerStore(db).expiredHolds(new Date(now()).toISOString(), limit);
      let expired = 0;
      for (const hold of due) {
        try {
          const { replayed } = await commitDetailed(hold.project_id, [
            { type: 'expire', holdId: hold.transfer_id },
          ]);
          if (!replayed) expired++;
        } catch (error) {
          // posted or voided meanwhile: nothing to expire
          if (!(error instanceof ApiError && error.code === 'conflict')) throw error;
        }
      }
      return expired;
    },

    /** Recomputes every balance of the project from its transfers and checks every invariant. */
    async verify(projectId: string): Promise<LedgerVerifyReport> {
      const store = createLedgerStore(db);
      const accounts = await store.allAccounts(projectId);
      const sums = new Map<string, BalanceDelta>();
      for (const s of await store.recomputeSums(projectId)) {
        const d = sums.get(s.accountId) ?? sums.set(s.accountId, zero()).get(s.accountId)!;
        if (s.side === 'debit' && s.kind === 'posted') d.debitsPosted += s.total;
        if (s.side === 'credit' && s.kind === 'posted') d.creditsPosted += s.total;
        if (s.side === 'debit' && s.kind === 'pending') d.debitsPending += s.total;
        if (s.side === 'credit' && s.kind === 'pending') d.creditsPending += s.total;
      }
      const problems: LedgerProblem[] = [];
      const byCurrency = new Map<string, { debits: number; credits: number }>();
      for (const a of accounts) {
        const expected = sums.get(a.id) ?? zero();
        const fields = [
          ['debitsPosted', 'debits_posted'],
          ['creditsPosted', 'credits_posted'],
          ['debitsPending', 'debits_pending'],
          ['creditsPending', 'credits_pending'],
        ] as const;
        for (const [key, column] of fields) {
          if (expected[key] !== Number(a[column])) {
            problems.push({
              reason: 'balance_drift',
              accountId: a.id,
              field: key,
              expected: expected[key],
              actual: Number(a[column]),
            });
          }
        }
        const balance = expected.creditsPosted - expected.debitsPosted;
        if (a.min_balance !== null && balance - expected.debitsPending < Number(a.min_balance)) {
          problems.push({
            reason: 'bound_violated',
            accountId: a.id,
            field: 'minBalanceMicros',
            expected: Number(a.min_balance),
            actual: balance - expected.debitsPending,
          });
        }
        if (a.max_balance !== null && balance + expected.creditsPending > Number(a.max_balance)) {
          problems.push({
            reason: 'bound_violated',
            accountId: a.id,
            field: 'maxBalanceMicros',
            expected: Number(a.max_balance),
            actual: balance + expected.creditsPending,
          });
        }
        const c =
          byCurrency.get(a.currency) ??
          byCurrency.set(a.currency, { debits: 0, credits: 0 }).get(a.currency)!;
        c.debits += Number(a.debits_posted);
        c.credits += Number(a.credits_posted);
      }
      for (const [currency, c] of byCurrency) {
        if (c.debits !== c.credits)
          problems.push({ reason: 'unbalanced', field: currency, expected: c.credits, actual: c.debits });
      }
      const open = new Set(await store.openHoldIds(projectId));
      const unresolved = new Set(await store.unresolvedHoldIds(projectId));
      for (const id of unresolved)
        if (!open.has(id)) problems.push({ reason: 'open_hold_mismatch', transferId: id, field: 'missing' });
      for (const id of open)
        if (!unresolved.has(id))
          problems.push({ reason: 'open_hold_mismatch', transferId: id, field: 'extra' });
      for (const bad of await store.badResolutions(projectId))
        problems.push({ reason: bad.reason, transferId: bad.id });
      for (const id of await store.currencyMismatches(projectId))
        problems.push({ reason: 'currency_mismatch', transferId: id });
      return {
        ok: problems.length === 0,
        accounts: accounts.length,
        transfers: await store.countTransfers(projectId),
        openHolds: open.size,
        problems,
      };
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
