import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { openPostgres } from '../packages/server/src/db/dialects/postgres.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createJournal } from '../packages/server/src/journal/journal-service.js';
import pg from 'pg';
const which = process.argv[2] ?? 'sqlite';
const conc = Number(process.argv[3] ?? 1);
const n = Number(process.argv[4] ?? 20000);
const actor = { type: 'agent', id: 'agt_bench' } as const;
const payload = (i: number) => ({ model: 'gpt-4o-mini', step: i, tokensIn: 1200 + (i % 500), tokensOut: 300, costMicros: 4150, latencyMs: 800, finishReason: 'stop', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', cached: false });
let o, cleanup: () => Promise<void>;
if (which === 'sqlite') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-prof-'));
  o = openSqlite(dir); cleanup = async () => rmSync(dir, { recursive: true });
} else {
  const schema = `prof_${process.pid}`;
  const c = new pg.Client('postgres://postgres@127.0.0.1:5432/test'); await c.connect(); await c.query(`create schema ${schema}`);
  o = openPostgres('postgres://postgres@127.0.0.1:5432/test', { schema, poolSize: 16 });
  cleanup = async () => { await c.query(`drop schema ${schema} cascade`); await c.end(); };
}
await migrateToLatest(o.db, o.types);
// count statements
let statements = 0;
const counts = new Map<string, number>();
if (which !== 'sqlite') {
  const orig = pg.Client.prototype.query;
  (pg.Client.prototype as any).query = function (this: unknown, q: any, ...rest: unknown[]) { statements++; const k = String(typeof q === 'string' ? q : q?.text).slice(0, 30); counts.set(k, (counts.get(k) ?? 0) + 1); return (orig as any).call(this, q, ...rest); };
}
const j = createJournal({ db: o.db, blobs: createBlobStore({ dir: o.blobDir }) });
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: conc }, async () => { while (next < n) { const i = next++; await j.append({ projectId: 'p', stream: `run:${i % 100}`, actor, events: [{ type: 'model.call', payload: payload(i) }] }); } }));
console.log(which, 'c', conc, Math.round(n / ((performance.now() - t0) / 1000)), 'ev/s', 'statements/event', (statements / n).toFixed(2), [...counts]);
await o.close(); await cleanup();
