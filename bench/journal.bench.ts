/**
 * Journal append throughput, as a ratio against raw inserts of the same rows into the same table
 * through the same driver, measured in the same run (the machine is shared and noisy; the ratio is
 * what carries from one machine to another).
 *
 *   npm run bench -- journal
 *
 * Environment: BENCH_N (events per measured pass; default 20000 on SQLite, 5000 on Postgres),
 * BENCH_ROUNDS (measured passes, median reported; default 3), HANGAR_BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test; Postgres is skipped with a note when unreachable).
 *
 * Workload: one event (a ~200-byte JSON payload) per append call, so one transaction per event,
 * round-robin over 100 streams; once with one append in flight, once with 16 (on 16 different
 * streams). Every pass writes into a fresh, migrated database: a new SQLite file, or a new Postgres
 * schema, dropped afterwards.
 *
 * Baseline ("raw"): the rows the journal would write — same columns, same value shapes, payload
 * hashes and chain hashes computed before the clock starts — each inserted by one parameterized
 * INSERT in autocommit: a prepared better-sqlite3 statement on a file opened with Hangar's pragmas,
 * or `pg` Pool.query with the same pool size, search_path and type parsers as Hangar's dialect. The
 * raw side does no hashing, no head lookup and no Kysely; the ratio is the whole price of the journal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import type { OpenDatabase } from '../packages/server/src/db/dialects/dialect.js';
import { openPostgres } from '../packages/server/src/db/dialects/postgres.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import type { Database } from '../packages/server/src/db/schema.js';
import { createJournal } from '../packages/server/src/journal/journal-service.js';
import { canonicalJson, sha256Hex } from '../packages/server/src/util/hash.js';
import { markdownTable, positiveInt, progress, rate } from './bench-kit.js';

const PG_URL = process.env.HANGAR_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const N_SQLITE = positiveInt('BENCH_N', 20_000);
const N_POSTGRES = positiveInt('BENCH_N', 5_000);
const STREAMS = 100;
const CONCURRENCY = 16;
/** Hangar's own pool size would leave some of the 16 appends waiting; both sides get one each. */
const PG_POOL_SIZE = CONCURRENCY;
const GOAL = 0.5;

const PROJECT = 'prj_bench';
const ACTOR = { type: 'agent', id: 'agt_bench' } as const;
const TYPE = 'model.call';

type Dialect = 'sqlite' | 'postgres';
type Side = 'journal' | 'raw';

/** One storage under test, fresh and empty: `write(i)` stores event i; setup and close are not timed. */
interface Target {
  write(i: number): Promise<unknown> | void;
  close(): Promise<void>;
}

interface Scenario {
  name: string;
  concurrency: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'sequential', concurrency: 1 },
  { name: `concurrent ${CONCURRENCY}`, concurrency: CONCURRENCY },
];

// ---------------------------------------------------------------------------------------------
// Workload

interface Workload {
  n: number;
  streams: string[];
  /** What a caller hands the journal. */
  payloads: object[];
  /** What the journal would store, precomputed for the raw side. */
  rows: RawRow[];
}

type RawRow = [
  project_id: string,
  stream: string,
  seq: number,
  type: string,
  actor: string,
  payload: string,
  payload_sha256: string,
  prev_hash: string | null,
  hash: string,
];

function payloadOf(i: number) {
  return {
    model: 'gpt-4o-mini',
    step: i,
    tokensIn: 1200 + (i % 500),
    tokensOut: 300 + (i % 200),
    costMicros: 4150 + (i % 1000),
    latencyMs: 800 + (i % 400),
    finishReason: 'stop',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    cached: false,
  };
}

function workload(n: number): Workload {
  const streams = Array.from({ length: n }, (_, i) => `run:${String(i % STREAMS).padStart(3, '0')}`);
  const payloads = Array.from({ length: n }, (_, i) => payloadOf(i));
  const actor = canonicalJson(ACTOR);
  const heads = new Map<string, string>();
  const rows = payloads.map((p, i): RawRow => {
    const stream = streams[i]!;
    const seq = Math.floor(i / STREAMS) + 1;
    const json = canonicalJson(p);
    const hash = sha256Hex(`${stream}/${seq}`);
    const prev = heads.get(stream) ?? null;
    heads.set(stream, hash);
    return [PROJECT, stream, seq, TYPE, actor, json, sha256Hex(json), prev, hash];
  });
  return { n, streams, payloads, rows };
}

const INSERT_COLUMNS = 'project_id, stream, seq, type, actor, time, payload, payload_sha256, prev_hash, hash';

/** The raw row with the time taken at insert, as the journal does. */
function rawValues(row: RawRow): unknown[] {
  const [projectId, stream, seq, type, actor, payload, payloadSha256, prevHash, hash] = row;
  return [
    projectId,
    stream,
    seq,
    type,
    actor,
    new Date().toISOString(),
    payload,
    payloadSha256,
    prevHash,
    hash,
  ];
}

// ---------------------------------------------------------------------------------------------
// Targets

function journalTarget(opened: OpenDatabase, w: Workload, cleanup: () => Promise<void>): Target {
  const journal = createJournal({ db: opened.db, blobs: createBlobStore({ dir: opened.blobDir }) });
  return {
    write: (i) =>
      journal.append({
        projectId: PROJECT,
        stream: w.streams[i]!,
        actor: ACTOR,
        events: [{ type: TYPE, payload: w.payloads[i] }],
      }),
    close: async () => {
      await opened.close();
      await cleanup();
    },
  };
}

/** Hangar's SQLite pragmas, read back from its connection so the raw file is opened the same way. */
const SQLITE_PRAGMAS = ['journal_mode', 'synchronous', 'busy_timeout', 'foreign_keys'] as const;

async function pragmasOf(db: Kysely<Database>): Promise<string[]> {
  const out = [];
  for (const p of SQLITE_PRAGMAS) {
    const { rows } = await sql<Record<string, unknown>>`pragma ${sql.raw(p)}`.execute(db);
    out.push(`${p}=${String(Object.values(rows[0] ?? {})[0])}`);
  }
  return out;
}

async function sqliteTarget(side: Side, w: Workload): Promise<Target> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-'));
  const removeDir = async () => {
    cleanups.delete(removeDir);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(removeDir);
  const opened = openSqlite(dir);
  await migrateToLatest(opened.db, opened.types);
  if (side === 'journal') return journalTarget(opened, w, removeDir);

  // The same migrated schema in its own file, then the driver directly, with Hangar's pragmas.
  const pragmas = await pragmasOf(opened.db);
  await opened.close();
  const raw = new SQLite(path.join(dir, 'hangar.db'));
  for (const p of pragmas) raw.pragma(p);
  const check = SQLITE_PRAGMAS.map((p) => `${p}=${String(raw.pragma(p, { simple: true }))}`);
  if (check.join() !== pragmas.join())
    throw new Error(`raw SQLite pragmas ${check.join()} differ from Hangar's ${pragmas.join()}`);
  const insert = raw.prepare(
    `insert into journal_events (${INSERT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    write: (i) => {
      insert.run(...rawValues(w.rows[i]!));
    },
    close: async () => {
      raw.close();
      await removeDir();
    },
  };
}

const schemaName = () => `bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function postgresTarget(side: Side, w: Workload): Promise<Target> {
  const schema = schemaName();
  await adminQuery(`create schema ${schema}`);
  const dropSchema = async () => {
    cleanups.delete(dropSchema);
    await adminQuery(`drop schema if exists ${schema} cascade`);
  };
  cleanups.add(dropSchema);
  const opened = openPostgres(PG_URL, { schema, poolSize: PG_POOL_SIZE });
  await migrateToLatest(opened.db, opened.types);
  if (side === 'journal') {
    // open every pooled connection now, so no pass pays for connecting
    await Promise.all(
      Array.from({ length: PG_POOL_SIZE }, () => sql`select pg_sleep(0.01)`.execute(opened.db)),
    );
    return journalTarget(opened, w, dropSchema);
  }

  await opened.close();
  // As openPostgres makes its pool: same size, search_path and int8/numeric parsers.
  const pool = new pg.Pool({
    connectionString: PG_URL,
    max: PG_POOL_SIZE,
    options: `-c search_path=${schema}`,
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    },
  });
  await Promise.all(Array.from({ length: PG_POOL_SIZE }, () => pool.query('select pg_sleep(0.01)')));
  const text = `insert into journal_events (${INSERT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
  return {
    write: (i) => pool.query(text, rawValues(w.rows[i]!)),
    close: async () => {
      await pool.end();
      await dropSchema();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** Writes events 0…n-1 with `concurrency` writes in flight; returns seconds. */
async function drive(target: Target, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < n) await target.write(next++);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - start) / 1000;
}

async function pass(
  dialect: Dialect,
  side: Side,
  w: Workload,
  n: number,
  concurrency: number,
): Promise<number> {
  const target = await (dialect === 'sqlite' ? sqliteTarget(side, w) : postgresTarget(side, w));
  try {
    return await drive(target, n, concurrency);
  } finally {
    await target.close();
  }
}

interface Result {
  dialect: Dialect;
  scenario: string;
  events: number;
  journal: number;
  raw: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function measure(dialect: Dialect, n: number): Promise<Result[]> {
  const w = workload(n);
  const results: Result[] = [];
  for (const scenario of SCENARIOS) {
    // warm-up: JIT, driver and page cache, on a shorter run of both sides
    const warm = Math.max(500, Math.floor(n / 5));
    await pass(dialect, 'journal', w, warm, scenario.concurrency);
    await pass(dialect, 'raw', w, warm, scenario.concurrency);
    const seconds: Record<Side, number[]> = { journal: [], raw: [] };
    // alternate the sides, so drift in the machine's load falls on both
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? (['journal', 'raw'] as const) : (['raw', 'journal'] as const)) {
        seconds[side].push(await pass(dialect, side, w, n, scenario.concurrency));
      }
      progress(
        `${dialect} ${scenario.name} round ${round + 1}/${ROUNDS}: journal ${rate(n, seconds.journal.at(-1)!)}/s, raw ${rate(n, seconds.raw.at(-1)!)}/s`,
      );
    }
    results.push({
      dialect,
      scenario: scenario.name,
      events: n,
      journal: median(seconds.journal),
      raw: median(seconds.raw),
    });
  }
  return results;
}

async function postgresReachable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    const { rows } = await c.query<{ v: string; f: string; s: string }>(
      `select current_setting('server_version') as v, current_setting('fsync') as f, current_setting('synchronous_commit') as s`,
    );
    const r = rows[0]!;
    return `PostgreSQL ${r.v} (fsync=${r.f}, synchronous_commit=${r.s})`;
  } catch (error) {
    progress(
      `postgres: skipped — cannot connect to ${redact(PG_URL)} (${(error as Error).message}); set HANGAR_BENCH_PG_URL`,
    );
    return null;
  } finally {
    await c.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Output


function table(results: Result[]): string {
  const head = [
    'dialect',
    'scenario',
    'events',
    'journal s',
    'journal ev/s',
    'raw s',
    'raw ev/s',
    'journal/raw',
  ];
  const body = results.map((r) => [
    r.dialect,
    r.scenario,
    r.events.toLocaleString('en-US'),
    r.journal.toFixed(2),
    rate(r.events, r.journal),
    r.raw.toFixed(2),
    rate(r.events, r.raw),
    (r.raw / r.journal).toFixed(2),
  ]);
  return markdownTable(head, body, 2);
}

function sqliteVersion(): string {
  const db = new SQLite(':memory:');
  try {
    return `SQLite ${String(db.prepare('select sqlite_version()').pluck().get())}`;
  } finally {
    db.close();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}



// ---------------------------------------------------------------------------------------------

/** Temporary files and schemas still to remove; emptied on exit, Ctrl-C included. */
const cleanups = new Set<() => Promise<void>>();

async function cleanUp(): Promise<void> {
  for (const c of [...cleanups]) await c().catch(() => {});
  cleanups.clear();
}

process.once('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

async function main(): Promise<void> {
  const cpus = os.cpus();
  const started = performance.now();
  console.log('journal append throughput: Hangar journal vs raw inserts of the same rows, same driver');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`node:    ${process.version} (${process.platform}/${process.arch})`);
  console.log(
    `cpu:     ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
  );
  console.log(
    `sqlite:  ${sqliteVersion()}, files in ${os.tmpdir()}, Hangar's pragmas (WAL, synchronous=NORMAL)`,
  );
  const pgVersion = await postgresReachable();
  console.log(
    `postgres: ${pgVersion ? `${pgVersion} at ${redact(PG_URL)}, pool ${PG_POOL_SIZE}` : 'skipped (unreachable)'}`,
  );
  console.log(
    `workload: 1 event (~${canonicalJson(payloadOf(0)).length} B payload) per append, ${STREAMS} streams round-robin, median of ${ROUNDS} pass(es) after a warm-up\n`,
  );

  const results = await measure('sqlite', N_SQLITE);
  if (pgVersion) results.push(...(await measure('postgres', N_POSTGRES)));

  console.log(`\n${table(results)}\n`);
  for (const r of results) {
    const ratio = r.raw / r.journal;
    console.log(
      `goal journal/raw ≥ ${GOAL.toFixed(2)}: ${r.dialect} ${r.scenario} ${ratio.toFixed(2)} ${ratio >= GOAL ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

try {
  await main();
} finally {
  await cleanUp();
}
