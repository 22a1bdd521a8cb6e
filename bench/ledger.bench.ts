/**
 * Ledger throughput: hold+post pairs per second, against raw inserts of the same transfer rows into
 * the same table through the same driver, measured in the same run.
 *
 *   npm run bench -- ledger
 *
 * Environment: BENCH_PAIRS (pairs per measured pass; default 20000 on SQLite — long enough that the WAL is checkpointed many times over and the tables grow past the cache, 1000 on Postgres),
 * BENCH_ROUNDS (measured passes, median reported; default 3), HANGAR_BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test; Postgres is skipped with a note when unreachable).
 *
 * Workload: a pair is a hold (pending transfer) of 1–1000 micro-units from a bounded account (may not
 * go below zero), then a post of part of it (the rest is released). Two placements:
 *   one account: every hold debits the same account and credits the same account;
 *   spread:      pair i debits account i mod 1000 and credits account i mod 1000 of another 1000.
 * Two batchings:
 *   batch 1:   each hold and each post is its own ledger.commit of one step, 16 in flight — how callers
 *              (requests, the gateway's budget stage) use it — or 256 in flight (spread only): a server
 *              under load. On SQLite the ledger's group commit coalesces the commits in flight into
 *              one transaction (up to 256); on Postgres each is its own transaction;
 *   batch 100: 100 holds in one linked commit, then their 100 posts in another, one batch in flight.
 *
 * Baseline ("raw"): the two rows the ledger writes per pair (the pending transfer and its post), with
 * ids, keys and hashes computed before the clock starts, inserted by a parameterized INSERT — one row
 * per transaction for batch 1, one transaction per 100 pairs' rows for batch 100 — with a prepared
 * better-sqlite3 statement on a file with Hangar's pragmas, or `pg` Pool.query with the same pool size
 * and search_path. Raw does no balance update, no bound check, no idempotency lookup and no Kysely:
 * the ratio is the whole price of the ledger.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { OpenDatabase } from '../packages/server/src/db/dialects/dialect.js';
import { openPostgres } from '../packages/server/src/db/dialects/postgres.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createLedger, type Ledger } from '../packages/server/src/ledger/ledger-service.js';
import { sha256Hex } from '../packages/server/src/util/hash.js';
import { markdownTable, positiveInt, progress, rate } from './bench-kit.js';

const PG_URL = process.env.HANGAR_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const PAIRS_SQLITE = positiveInt('BENCH_PAIRS', 20_000);
const PAIRS_POSTGRES = positiveInt('BENCH_PAIRS', 1_000);
const SPREAD = 1000;
/** Connections in the Postgres pools, and callers in flight in the batch-1 scenarios unless said. */
const CONCURRENCY = 16;
/** Callers in flight for a server under load: the group commit (SQLite) takes up to 256 per transaction. */
const UNDER_LOAD = 256;
const GOAL_SQLITE_SPREAD = 20_000;
const PROJECT = 'proj_bench';

type Dialect = 'sqlite' | 'postgres';
type Placement = 'one account' | 'spread';
interface Scenario {
  placement: Placement;
  batch: 1 | 100;
  inFlight: number;
}
const SCENARIOS: Scenario[] = [
  { placement: 'one account', batch: 1, inFlight: CONCURRENCY },
  { placement: 'spread', batch: 1, inFlight: CONCURRENCY },
  { placement: 'spread', batch: 1, inFlight: UNDER_LOAD },
  { placement: 'one account', batch: 100, inFlight: 1 },
  { placement: 'spread', batch: 100, inFlight: 1 },
];

interface Target {
  /** Runs pairs [from, to) in one batch (batch 1: from + 1 = to). */
  pairs(from: number, to: number): Promise<void> | void;
  close(): Promise<void>;
}

const amountOf = (i: number) => 1 + (i % 1000);

// ---------------------------------------------------------------------------------------------
// Ledger side

async function ledgerTarget(opened: OpenDatabase, placement: Placement, n: number, cleanup: () => Promise<void>): Promise<Target> {
  const ledger: Ledger = createLedger({ db: opened.db, direct: opened.direct });
  const count = placement === 'spread' ? SPREAD : 1;
  const funding = (await ledger.createAccount(PROJECT, { kind: 'funding_source', name: 'funding', currency: 'USD' })).account.id;
  const debit: string[] = [];
  const credit: string[] = [];
  for (let i = 0; i < count; i++) {
    debit.push((await ledger.createAccount(PROJECT, { kind: 'agent', name: `agent ${i}`, currency: 'USD', minBalanceMicros: 0 })).account.id);
    credit.push((await ledger.createAccount(PROJECT, { kind: 'provider_payable', name: `provider ${i}`, currency: 'USD' })).account.id);
  }
  for (let i = 0; i < count; i += 100) {
    await ledger.transfer(
      PROJECT,
      debit.slice(i, i + 100).map((id, j) => ({ debitAccountId: funding, creditAccountId: id, amountMicros: 1000 * n, idempotencyKey: `fund-${i + j}` })),
    );
  }
  const hold = (i: number) => ({
    type: 'hold' as const,
    debitAccountId: debit[i % count]!,
    creditAccountId: credit[i % count]!,
    amountMicros: amountOf(i),
    timeoutMs: 600_000,
    idempotencyKey: `pair-${i}`,
  });
  return {
    async pairs(from, to) {
      const ops = [];
      for (let i = from; i < to; i++) ops.push(hold(i));
      const holds = await ledger.commit(PROJECT, ops);
      await ledger.commit(
        PROJECT,
        holds.map((h) => ({ type: 'post' as const, holdId: h.id, amountMicros: Math.ceil(h.amountMicros / 2) })),
      );
    },
    close: async () => {
      const report = await ledger.verify(PROJECT);
      if (!report.ok) throw new Error(`ledger verify failed after the pass: ${JSON.stringify(report.problems.slice(0, 3))}`);
      await opened.close();
      await cleanup();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Raw side

const COLUMNS =
  'id, project_id, kind, debit_account_id, credit_account_id, amount, currency, pending_id, timeout_at, batch_id, idempotency_key, request_hash, memo, metadata, created_at';

/** The two rows of pair i, precomputed. */
function rawRows(n: number, placement: Placement): unknown[][][] {
  const count = placement === 'spread' ? SPREAD : 1;
  const timeout = new Date(Date.now() + 600_000).toISOString();
  return Array.from({ length: n }, (_, i) => {
    const d = `acc_d${i % count}`;
    const c = `acc_c${i % count}`;
    const id = `hld_${i}`;
    return [
      [id, PROJECT, 'pending', d, c, amountOf(i), 'USD', null, timeout, `bat_${i}`, `pair-${i}`, sha256Hex(`h${i}`), null, null],
      [`trf_${i}`, PROJECT, 'post_pending', d, c, Math.ceil(amountOf(i) / 2), 'USD', id, null, `bat_p${i}`, `hold:${id}:resolve`, sha256Hex(`p${i}`), null, null],
    ];
  });
}

const withTime = (row: unknown[]) => [...row, new Date().toISOString()];

// ---------------------------------------------------------------------------------------------
// Targets per dialect

const cleanups = new Set<() => Promise<void>>();

async function sqliteTarget(side: 'ledger' | 'raw', placement: Placement, n: number): Promise<Target> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-'));
  const remove = async () => {
    cleanups.delete(remove);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(remove);
  // the ledger side opens SQLite as the server does (WAL checkpoints on a worker thread, every 100 ms);
  // the raw side keeps SQLite's automatic checkpoints inside commits
  const opened = openSqlite(dir, side === 'ledger' ? { checkpointEveryMs: 100 } : {});
  await migrateToLatest(opened.db, opened.types);
  if (side === 'ledger') return ledgerTarget(opened, placement, n, remove);
  await opened.close();
  const raw = new SQLite(path.join(dir, 'hangar.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const insert = raw.prepare(`insert into ledger_transfers (${COLUMNS}) values (${Array(15).fill('?').join(', ')})`);
  const rows = rawRows(n, placement);
  const many = raw.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) for (const r of rows[i]!) insert.run(...withTime(r));
  });
  return {
    pairs(from, to) {
      if (to - from === 1) for (const r of rows[from]!) insert.run(...withTime(r));
      else many(from, to);
    },
    close: async () => {
      raw.close();
      await remove();
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function postgresTarget(side: 'ledger' | 'raw', placement: Placement, n: number): Promise<Target> {
  const schema = `bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(`create schema ${schema}`);
  const drop = async () => {
    cleanups.delete(drop);
    await adminQuery(`drop schema if exists ${schema} cascade`);
  };
  cleanups.add(drop);
  const opened = openPostgres(PG_URL, { schema, poolSize: CONCURRENCY });
  await migrateToLatest(opened.db, opened.types);
  if (side === 'ledger') return ledgerTarget(opened, placement, n, drop);
  await opened.close();
  const pool = new pg.Pool({ connectionString: PG_URL, max: CONCURRENCY, options: `-c search_path=${schema}` });
  const rows = rawRows(n, placement);
  const text = `insert into ledger_transfers (${COLUMNS}) values (${Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ')})`;
  return {
    async pairs(from, to) {
      if (to - from === 1) {
        for (const r of rows[from]!) await pool.query(text, withTime(r));
        return;
      }
      const client = await pool.connect();
      try {
        await client.query('begin');
        for (let i = from; i < to; i++) for (const r of rows[i]!) await client.query(text, withTime(r));
        await client.query('commit');
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool.end();
      await drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

async function drive(target: Target, n: number, batch: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + batch);
      await target.pairs(from, next);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - start) / 1000;
}

async function pass(dialect: Dialect, side: 'ledger' | 'raw', s: Scenario, n: number): Promise<number> {
  const target = await (dialect === 'sqlite' ? sqliteTarget(side, s.placement, n) : postgresTarget(side, s.placement, n));
  try {
    return await drive(target, n, s.batch, s.inFlight);
  } finally {
    await target.close();
  }
}

interface Result {
  dialect: Dialect;
  scenario: Scenario;
  pairs: number;
  ledger: number;
  raw: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(dialect: Dialect, n: number): Promise<Result[]> {
  const results: Result[] = [];
  for (const s of SCENARIOS) {
    const warm = Math.max(200, Math.floor(n / 10));
    await pass(dialect, 'ledger', s, warm);
    await pass(dialect, 'raw', s, warm);
    const seconds = { ledger: [] as number[], raw: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? (['ledger', 'raw'] as const) : (['raw', 'ledger'] as const)) {
        seconds[side].push(await pass(dialect, side, s, n));
      }
      progress(`${dialect} ${s.placement} batch ${s.batch} × ${s.inFlight} in flight round ${round + 1}/${ROUNDS}: ledger ${rate(n, seconds.ledger.at(-1)!)} pairs/s, raw ${rate(n, seconds.raw.at(-1)!)} pairs/s`);
    }
    results.push({ dialect, scenario: s, pairs: n, ledger: median(seconds.ledger), raw: median(seconds.raw) });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Output


function table(results: Result[]): string {
  const head = ['dialect', 'placement', 'batch', 'in flight', 'pairs', 'ledger pairs/s', 'raw pairs/s', 'ledger/raw'];
  const body = results.map((r) => [
    r.dialect,
    r.scenario.placement,
    String(r.scenario.batch),
    String(r.scenario.inFlight),
    r.pairs.toLocaleString('en-US'),
    rate(r.pairs, r.ledger),
    rate(r.pairs, r.raw),
    (r.raw / r.ledger).toFixed(2),
  ]);
  return markdownTable(head, body, 2);
}

async function postgresVersion(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    const { rows } = await c.query<{ v: string; f: string; s: string }>(
      `select current_setting('server_version') as v, current_setting('fsync') as f, current_setting('synchronous_commit') as s`,
    );
    return `PostgreSQL ${rows[0]!.v} (fsync=${rows[0]!.f}, synchronous_commit=${rows[0]!.s})`;
  } catch (error) {
    progress(`postgres: skipped (${(error as Error).message}); set HANGAR_BENCH_PG_URL`);
    return null;
  } finally {
    await c.end().catch(() => {});
  }
}



async function cleanUp(): Promise<void> {
  for (const c of [...cleanups]) await c().catch(() => {});
}

process.once('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

async function main(): Promise<void> {
  const cpus = os.cpus();
  const started = performance.now();
  console.log('ledger throughput: hold+post pairs through the Hangar ledger vs raw inserts of the same rows, same driver');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`node:    ${process.version} (${process.platform}/${process.arch})`);
  console.log(`cpu:     ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`);
  const sqliteVersion = new SQLite(':memory:').prepare('select sqlite_version()').pluck().get();
  console.log(`sqlite:  SQLite ${String(sqliteVersion)}, files in ${os.tmpdir()}, WAL, synchronous=NORMAL`);
  const pgVersion = await postgresVersion();
  console.log(`postgres: ${pgVersion ?? 'skipped (unreachable)'}`);
  console.log(`workload: median of ${ROUNDS} pass(es) after a warm-up; batch 1 with ${CONCURRENCY} or ${UNDER_LOAD} in flight, batch 100 one at a time\n`);

  const only = process.env.BENCH_DIALECT;
  const results = only === 'postgres' ? [] : await measure('sqlite', PAIRS_SQLITE);
  if (pgVersion && only !== 'sqlite') results.push(...(await measure('postgres', PAIRS_POSTGRES)));
  console.log(`\n${table(results)}\n`);
  for (const r of results.filter((x) => x.dialect === 'sqlite' && x.scenario.placement === 'spread')) {
    const perSecond = r.pairs / r.ledger;
    console.log(
      `goal ≥ ${GOAL_SQLITE_SPREAD.toLocaleString('en-US')} pairs/s on SQLite, spread, batch ${r.scenario.batch} × ${r.scenario.inFlight} in flight: ${Math.round(perSecond).toLocaleString('en-US')} ${perSecond >= GOAL_SQLITE_SPREAD ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

try {
  await main();
} finally {
  await cleanUp();
}
