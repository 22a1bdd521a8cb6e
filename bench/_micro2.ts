import { performance } from 'node:perf_hooks';
import { Kysely, SqliteDialect, sql, CompiledQuery } from 'kysely';
import type { Database } from '../packages/server/src/db/schema.js';
import { createJournalStore } from '../packages/server/src/journal/journal-store.js';
const base = new SqliteDialect({ database: {} as never });
const connection = { executeQuery: async () => ({ rows: [], numAffectedRows: 1n }), streamQuery: async function* () {} };
const driver = { init: async () => {}, acquireConnection: async () => connection, beginTransaction: async () => {}, commitTransaction: async () => {}, rollbackTransaction: async () => {}, releaseConnection: async () => {}, destroy: async () => {} };
const db = new Kysely<Database>({ dialect: { createAdapter: () => base.createAdapter(), createDriver: () => driver as never, createQueryCompiler: () => base.createQueryCompiler(), createIntrospector: (d) => base.createIntrospector(d) } });
const row = { project_id: 'p', stream: 'run:1', seq: 5, type: 't', actor: 'a', time: 'x', payload: '{}', payload_sha256: 'h', prev_hash: 'q', hash: 'z' };
const prev = { seq: 4, hash: 'q' };
async function t(name: string, f: (i: number) => Promise<unknown> | unknown) {
  for (let i = 0; i < 3000; i++) await f(i);
  const n = 20000; const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  console.log(name.padEnd(50), ((performance.now() - t0) * 1000 / n).toFixed(2), 'µs');
}
const store = createJournalStore(db);
const SQL = 'insert into x values (?)';
await t('insertAfter (build+compile+exec null)', () => store.insertAfter(row, prev));
await t('insertAfter first (prev null)', () => store.insertAfter(row, null));
await t('insertAfter build+compile only (no execute)', () => { /* replicate: compile via .compile() not exposed */ });
await t('plain insertInto().values() execute', () => db.insertInto('journal_events').values(row).executeTakeFirst());
await t('plain insertInto().values().onConflict execute', () => db.insertInto('journal_events').values(row).onConflict((oc) => oc.columns(['project_id', 'stream', 'seq']).doNothing()).executeTakeFirst());
await t('sql`...` raw template with 10 params execute', () => sql`insert into journal_events values (${row.project_id}, ${row.stream}, ${row.seq}, ${row.type}, ${row.actor}, ${row.time}, ${row.payload}, ${row.payload_sha256}, ${row.prev_hash}, ${row.hash})`.execute(db));
await t('db.executeQuery(CompiledQuery.raw(sql, params))', () => db.executeQuery(CompiledQuery.raw(SQL, [row.project_id, row.stream])));
await t('transaction().execute(noop)', () => db.transaction().execute(async () => 1));
await t('head select executeTakeFirst', () => store.head('p', 's'));
