// Scratch profiling of journal appends (not a benchmark; deleted after use).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openPostgres } from '../packages/server/src/db/dialects/postgres.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import type { Database } from '../packages/server/src/db/schema.js';
import { eventHash } from '../packages/server/src/journal/journal-hash.js';
import { createJournal } from '../packages/server/src/journal/journal-service.js';
import { createJournalStore, type EventRow } from '../packages/server/src/journal/journal-store.js';
import { canonicalJson, sha256Hex } from '../packages/server/src/util/hash.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const STREAMS = 100;
const ACTOR = { type: 'agent', id: 'agt_bench' } as const;
const ONLY = process.argv[2] ?? 'all';

const payloadOf = (i: number) => ({
  model: 'gpt-4o-mini', step: i, tokensIn: 1200 + (i % 500), tokensOut: 300 + (i % 200), costMicros: 4150 + (i % 1000),
  latencyMs: 800 + (i % 400), finishReason: 'stop', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', cached: false,
});

function rows(n: number): EventRow[] {
  const heads = new Map<string, string>();
  return Array.from({ length: n }, (_, i) => {
    const stream = `run:${i % STREAMS}`;
    const seq = Math.floor(i / STREAMS) + 1;
    const payload = canonicalJson(payloadOf(i));
    const hash = sha256Hex(`${stream}/${seq}`);
    const prev = heads.get(stream) ?? null;
    heads.set(stream, hash);
    return { project_id: 'p', stream, seq, type: 'model.call', actor: canonicalJson(ACTOR), time: new Date().toISOString(), payload, payload_sha256: sha256Hex(payload), prev_hash: prev, hash };
  });
}
const prevOf = (r: EventRow) => (r.prev_hash === null ? null : { seq: r.seq - 1, hash: r.prev_hash });
const plainParams = (r: EventRow) => [r.project_id, r.stream, r.seq, r.type, r.actor, new Date().toISOString(), r.payload, r.payload_sha256, r.prev_hash, r.hash];
const guardedParams = (r: EventRow) => {
  const base = plainParams(r);
  return r.prev_hash === null ? [...base, r.project_id, r.stream] : [...base, r.project_id, r.stream, r.seq - 1, r.prev_hash, r.project_id, r.stream, r.seq - 1, r.prev_hash];
};
const PLAIN = 'insert into journal_events (project_id, stream, seq, type, actor, time, payload, payload_sha256, prev_hash, hash) values ';

/** The SQL Kysely compiles for insertAfter, both variants (first event of a stream, and later). */
function captureDb(dialect: 'sqlite' | 'pg') {
  const seen: CompiledQuery[] = [];
  const connection = { executeQuery: async (q: CompiledQuery) => (seen.push(q), { rows: [], numAffectedRows: 1n }), streamQuery: async function* () {} };
  const capture = {
    init: async () => {}, acquireConnection: async () => connection,
    beginTransaction: async () => {}, commitTransaction: async () => {}, rollbackTransaction: async () => {}, releaseConnection: async () => {}, destroy: async () => {},
  };
  const base = dialect === 'sqlite' ? new SqliteDialect({ database: {} as never }) : new PostgresDialect({ pool: {} as never });
  const db = new Kysely<Database>({ dialect: { createAdapter: () => base.createAdapter(), createDriver: () => capture as never, createQueryCompiler: () => base.createQueryCompiler(), createIntrospector: (d) => base.createIntrospector(d) } });
  return { db, seen };
}

async function guardedSql(dialect: 'sqlite' | 'pg'): Promise<{ first: string; next: string }> {
  const { db, seen } = captureDb(dialect);
  const [a, b] = rows(101).filter((_, i) => i === 0 || i === 100);
  await createJournalStore(db).insertAfter(a!, null);
  await createJournalStore(db).insertAfter(b!, prevOf(b!));
  return { first: seen[0]!.sql, next: seen[1]!.sql };
}

type Step = (i: number) => unknown;
interface Variant { name: string; setup(rs: EventRow[]): Promise<{ step: Step; close(): Promise<void> }> }

async function run(v: Variant, n: number, conc: number, rounds = 3) {
  const rs = rows(n);
  const results: Array<{ wall: number; cpu: number }> = [];
  for (let r = 0; r < rounds + 1; r++) {
    const m = r === 0 ? Math.floor(n / 5) : n;
    const { step, close } = await v.setup(rs);
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => { while (next < m) await step(next++); }));
    const wall = (performance.now() - t0) * 1000 / m;
    const cpu = process.cpuUsage(cpu0);
    await close();
    if (r > 0) results.push({ wall, cpu: (cpu.user + cpu.system) / m });
  }
  results.sort((a, b) => a.wall - b.wall);
  const med = results[Math.floor(results.length / 2)]!;
  console.log(`${v.name.padEnd(58)} c=${String(conc).padStart(2)}  ${med.wall.toFixed(1).padStart(7)} µs/event wall  ${med.cpu.toFixed(1).padStart(7)} µs/event node cpu  (${Math.round(1e6 / med.wall)}/s)`);
}

// ---------------------------------------------------------------- SQLite

function sqliteFile(): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-prof-'));
  return { dir, file: path.join(dir, 'hangar.db') };
}
async function migratedSqlite() {
  const { dir, file } = sqliteFile();
  const o = openSqlite(dir);
  await migrateToLatest(o.db, o.types);
  await o.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma('busy_timeout = 5000'); db.pragma('foreign_keys = ON');
  return { dir, db };
}

async function sqliteVariants(): Promise<Variant[]> {
  const g = await guardedSql('sqlite');
  const raw = (name: string, make: (db: SQLite.Database) => Step): Variant => ({
    name,
    async setup() {
      const { dir, db } = await migratedSqlite();
      return { step: make(db), close: async () => { db.close(); rmSync(dir, { recursive: true }); } };
    },
  });
  return [
    raw('raw: autocommit plain insert (cached stmt)', (db) => { const s = db.prepare(PLAIN + '(?,?,?,?,?,?,?,?,?,?)'); return (i) => s.run(plainParams(rowsCache[i]!)); }),
    raw('raw: begin immediate + plain insert + commit (cached)', (db) => {
      const b = db.prepare('begin immediate'), s = db.prepare(PLAIN + '(?,?,?,?,?,?,?,?,?,?)'), c = db.prepare('commit');
      return (i) => { b.run(); s.run(plainParams(rowsCache[i]!)); c.run(); };
    }),
    raw('raw: begin immediate + guarded insert + commit (cached)', (db) => {
      const b = db.prepare('begin immediate'), f = db.prepare(g.first), x = db.prepare(g.next), c = db.prepare('commit');
      return (i) => { const r = rowsCache[i]!; b.run(); (r.prev_hash === null ? f : x).run(guardedParams(r)); c.run(); };
    }),
    raw('raw: same, prepare() every statement (Kysely driver)', (db) => (i) => {
      const r = rowsCache[i]!; db.prepare('begin immediate').run(); db.prepare(r.prev_hash === null ? g.first : g.next).run(guardedParams(r)); db.prepare('commit').run();
    }),
    raw('raw: same + await between statements', (db) => async (i) => {
      const r = rowsCache[i]!; await db.prepare('begin immediate').run(); await db.prepare(r.prev_hash === null ? g.first : g.next).run(guardedParams(r)); await db.prepare('commit').run();
    }),
    {
      name: 'kysely: transaction + store.insertAfter (no hashing)',
      async setup() {
        const { dir } = sqliteFile(); const o = openSqlite(dir); await migrateToLatest(o.db, o.types);
        return { step: (i) => { const r = rowsCache[i]!; return o.db.transaction().execute((t) => createJournalStore(t).insertAfter(r, prevOf(r))); }, close: async () => { await o.close(); rmSync(dir, { recursive: true }); } };
      },
    },
    {
      name: 'kysely: store.insertAfter, no transaction (no hashing)',
      async setup() {
        const { dir } = sqliteFile(); const o = openSqlite(dir); await migrateToLatest(o.db, o.types);
        return { step: (i) => { const r = rowsCache[i]!; return createJournalStore(o.db).insertAfter(r, prevOf(r)); }, close: async () => { await o.close(); rmSync(dir, { recursive: true }); } };
      },
    },
    {
      name: 'journal.append',
      async setup() {
        const { dir } = sqliteFile(); const o = openSqlite(dir); await migrateToLatest(o.db, o.types);
        const j = createJournal({ db: o.db, blobs: createBlobStore({ dir: o.blobDir }) });
        return { step: (i) => j.append({ projectId: 'p', stream: rowsCache[i]!.stream, actor: ACTOR, events: [{ type: 'model.call', payload: payloads[i] }] }), close: async () => { await o.close(); rmSync(dir, { recursive: true }); } };
      },
    },
  ];
}

// ---------------------------------------------------------------- Postgres

async function admin(q: string) { const c = new pg.Client(PG_URL); await c.connect(); await c.query(q); await c.end(); }
async function pgSchema() {
  const schema = `prof_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(`create schema ${schema}`);
  const o = openPostgres(PG_URL, { schema, poolSize: 16 });
  await migrateToLatest(o.db, o.types);
  return { schema, o, drop: () => admin(`drop schema ${schema} cascade`) };
}
async function pgVariants(): Promise<Variant[]> {
  const g = await guardedSql('pg');
  const raw = (name: string, make: (pool: pg.Pool) => Step): Variant => ({
    name,
    async setup() {
      const { schema, o, drop } = await pgSchema(); await o.close();
      const pool = new pg.Pool({ connectionString: PG_URL, max: 16, options: `-c search_path=${schema}` });
      await Promise.all(Array.from({ length: 16 }, () => pool.query('select pg_sleep(0.01)')));
      return { step: make(pool), close: async () => { await pool.end(); await drop(); } };
    },
  });
  const P = PLAIN + '($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)';
  const kysely = (name: string, step: (o: Awaited<ReturnType<typeof pgSchema>>['o']) => Step): Variant => ({
    name,
    async setup() {
      const { o, drop } = await pgSchema();
      await Promise.all(Array.from({ length: 16 }, () => o.db.selectNoFrom((eb) => eb.val(1).as('x')).execute()));
      return { step: step(o), close: async () => { await o.close(); await drop(); } };
    },
  });
  return [
    raw('raw: autocommit plain insert', (pool) => (i) => pool.query(P, plainParams(rowsCache[i]!))),
    raw('raw: autocommit guarded insert (Hangar SQL, 1 round trip)', (pool) => (i) => { const r = rowsCache[i]!; return pool.query(r.prev_hash === null ? g.first : g.next, guardedParams(r)); }),
    raw('raw: begin + plain insert + commit', (pool) => async (i) => { const c = await pool.connect(); try { await c.query('begin'); await c.query(P, plainParams(rowsCache[i]!)); await c.query('commit'); } finally { c.release(); } }),
    raw('raw: begin + guarded insert + commit', (pool) => async (i) => { const r = rowsCache[i]!; const c = await pool.connect(); try { await c.query('begin'); await c.query(r.prev_hash === null ? g.first : g.next, guardedParams(r)); await c.query('commit'); } finally { c.release(); } }),
    kysely('kysely: transaction + store.insertAfter (no hashing)', (o) => (i) => { const r = rowsCache[i]!; return o.db.transaction().execute((t) => createJournalStore(t).insertAfter(r, prevOf(r))); }),
    kysely('kysely: store.insertAfter, no transaction (no hashing)', (o) => (i) => { const r = rowsCache[i]!; return createJournalStore(o.db).insertAfter(r, prevOf(r)); }),
    kysely('journal.append', (o) => { const j = createJournal({ db: o.db, blobs: createBlobStore({ dir: o.blobDir }) }); return (i) => j.append({ projectId: 'p', stream: rowsCache[i]!.stream, actor: ACTOR, events: [{ type: 'model.call', payload: payloads[i] }] }); }),
  ];
}

// ---------------------------------------------------------------- CPU micro-costs

async function micro() {
  const n = 50_000;
  const ps = Array.from({ length: n }, (_, i) => payloadOf(i));
  const time = (name: string, f: (i: number) => unknown) => {
    for (let i = 0; i < 5000; i++) f(i);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f(i);
    console.log(`${name.padEnd(58)} ${((performance.now() - t0) * 1000 / n).toFixed(2).padStart(7)} µs/event`);
  };
  time('hash: canonicalJson(actor) + canonicalJson(payload) + sha256', (i) => { canonicalJson(ACTOR); sha256Hex(canonicalJson(ps[i])); });
  time('hash: eventHash (canonicalJson of 8 fields + sha256)', (i) => eventHash({ projectId: 'p', stream: 'run:1', seq: i, type: 'model.call', actor: '{"id":"a","type":"agent"}', time: new Date().toISOString(), payloadSha256: 'a'.repeat(64), prevHash: 'b'.repeat(64) }));
  time('hash: JSON.stringify(payload) + sha256 (no key sorting)', (i) => sha256Hex(JSON.stringify(ps[i])));
  const { db, seen } = captureDb('sqlite');
  const rs = rows(20_000);
  const t = async (name: string, f: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 2000; i++) await f(i);
    const m = 20_000; const t0 = performance.now();
    for (let i = 0; i < m; i++) await f(i);
    seen.length = 0;
    console.log(`${name.padEnd(58)} ${((performance.now() - t0) * 1000 / m).toFixed(2).padStart(7)} µs/event`);
  };
  await t('kysely: build+compile insertAfter, null driver', (i) => createJournalStore(db).insertAfter(rs[i]!, prevOf(rs[i]!)));
  await t('kysely: transaction + build+compile, null driver', (i) => db.transaction().execute((tx) => createJournalStore(tx).insertAfter(rs[i]!, prevOf(rs[i]!))));
}

const rowsCache = rows(20_000);
const payloads = Array.from({ length: 20_000 }, (_, i) => payloadOf(i));
if (ONLY === 'all' || ONLY === 'micro') await micro();
if (ONLY === 'all' || ONLY === 'sqlite') for (const v of await sqliteVariants()) await run(v, 10_000, 1);
if (ONLY === 'all' || ONLY === 'pg') {
  for (const v of await pgVariants()) await run(v, 3000, 1);
  for (const v of await pgVariants()) await run(v, 3000, 16);
}
if (ONLY === 'sql') console.log(await guardedSql('sqlite'), await guardedSql('pg'));
