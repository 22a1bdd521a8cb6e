import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openPostgres } from '../packages/server/src/db/dialects/postgres.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { sha256Hex } from '../packages/server/src/util/hash.js';
const URL = 'postgres://postgres@127.0.0.1:5432/test';
const G = `insert into "journal_events" ("project_id", "stream", "seq", "type", "actor", "time", "payload", "payload_sha256", "prev_hash", "hash") select cast($1 as text), cast($2 as text), cast($3 as integer), cast($4 as text), cast($5 as text), cast($6 as text), cast($7 as text), cast($8 as text), cast($9 as text), cast($10 as text) where (exists (select "seq" from "journal_events" where "project_id" = $11 and "stream" = $12 and "seq" = $13 and "hash" = $14) or exists (select "seq" from "journal_anchors" where "project_id" = $15 and "stream" = $16 and "seq" = $17 and "hash" = $18)) on conflict ("project_id", "stream", "seq") do nothing`;
const P = `insert into journal_events (project_id, stream, seq, type, actor, time, payload, payload_sha256, prev_hash, hash) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`;
const payload = '{"cached":false,"costMicros":4150,"finishReason":"stop","latencyMs":800,"model":"gpt-4o-mini","spanId":"00f067aa0ba902b7","step":1,"tokensIn":1200,"tokensOut":300,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}';
const h = (s: string, q: number) => sha256Hex(`${s}/${q}`);
async function variant(name: string, conc: number, n: number, q: (pool: pg.Pool, i: number, seq: number, stream: string) => Promise<unknown>) {
  const res: number[] = [];
  for (let r = 0; r < 3; r++) {
    const schema = `pn_${process.pid}_${r}`;
    const a = new pg.Client(URL); await a.connect(); await a.query(`create schema ${schema}`);
    const o = openPostgres(URL, { schema }); await migrateToLatest(o.db, o.types); await o.close();
    const pool = new pg.Pool({ connectionString: URL, max: 16, options: `-c search_path=${schema}` });
    await Promise.all(Array.from({ length: 16 }, () => pool.query('select pg_sleep(0.01)')));
    // seed seq 1 of each stream
    for (let s = 0; s < 100; s++) await pool.query(P, ['p', `run:${s}`, 1, 't', 'a', 'x', payload, 'ps', null, h(`run:${s}`, 1)]);
    let next = 0; const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => { while (next < n) { const i = next++; await q(pool, i, Math.floor(i / 100) + 2, `run:${i % 100}`); } }));
    res.push(n / ((performance.now() - t0) / 1000));
    await pool.end(); await a.query(`drop schema ${schema} cascade`); await a.end();
  }
  res.sort((x, y) => x - y);
  console.log(name.padEnd(40), 'c', conc, Math.round(res[1]!), '/s');
}
const args = (stream: string, seq: number) => ['p', stream, seq, 't', 'a', new Date().toISOString(), payload, 'ps', h(stream, seq - 1), h(stream, seq)];
const gargs = (stream: string, seq: number) => [...args(stream, seq), 'p', stream, seq - 1, h(stream, seq - 1), 'p', stream, seq - 1, h(stream, seq - 1)];
for (const c of [1, 16]) {
  const n = c === 1 ? 3000 : 5000;
  await variant('plain unnamed', c, n, (p, i, seq, s) => p.query(P, args(s, seq)));
  await variant('plain named', c, n, (p, i, seq, s) => p.query({ name: 'plain', text: P, values: args(s, seq) }));
  await variant('guarded unnamed', c, n, (p, i, seq, s) => p.query(G, gargs(s, seq)));
  await variant('guarded named', c, n, (p, i, seq, s) => p.query({ name: 'guarded', text: G, values: gargs(s, seq) }));
  await variant('begin+guarded named+commit (3 trips)', c, n, async (p, i, seq, s) => { const cl = await p.connect(); try { await cl.query('begin'); await cl.query({ name: 'guarded', text: G, values: gargs(s, seq) }); await cl.query('commit'); } finally { cl.release(); } });
}
