// Where ingest time goes, stage by stage: a profiling aid for bench/ingest.bench.ts.
//   node --import tsx bench/_ingest-stages.ts [spans]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { normalizeSpan } from '../packages/server/src/traces/normalize.js';
import { decodeTraceRequest, type OtlpSpan } from '../packages/server/src/traces/otlp-decode.js';
import { createTraces, type SpanInput } from '../packages/server/src/traces/traces-service.js';
import { workload } from './ingest.bench.js';

const n = Number(process.argv[2] ?? 20_000);
const w = workload(n);
const time = async (name: string, f: () => unknown) => {
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await f();
    const s = (performance.now() - t0) / 1000;
    if (round === 2) console.log(`${name.padEnd(28)} ${(s * 1e6 / n).toFixed(2).padStart(7)} µs/span  ${Math.round(n / s).toLocaleString('en-US').padStart(9)} spans/s`);
  }
};
let decoded: OtlpSpan[][] = [];
let normalized: SpanInput[][] = [];
await time('decode protobuf', () => (decoded = w.bodies.protobuf.map((b) => decodeTraceRequest(b, 'protobuf').spans)));
await time('decode json', () => w.bodies.json.map((b) => decodeTraceRequest(b, 'json').spans));
await time('normalize', () => (normalized = decoded.map((d) => d.map(normalizeSpan))));
const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-stages-'));
const db = openSqlite(dir);
await migrateToLatest(db.db, db.types);
const traces = createTraces({ db: db.db, blobs: createBlobStore({ dir: db.blobDir }) });
let project = 0;
await time('record (blobs, price, insert)', async () => {
  project++;
  for (const batch of normalized) await traces.record(`p${project}`, batch);
});
await db.close();
rmSync(dir, { recursive: true, force: true });

// the whole endpoint, as bench/ingest.bench.ts drives it
{
  const { pino } = await import('pino');
  const { createApp } = await import('../packages/server/src/app.js');
  const { createJournal } = await import('../packages/server/src/journal/journal-service.js');
  const { createTenancy } = await import('../packages/server/src/tenancy/tenancy-service.js');
  const dir2 = mkdtempSync(path.join(os.tmpdir(), 'hangar-stages-'));
  const database = openSqlite(dir2);
  await migrateToLatest(database.db, database.types);
  const blobs = createBlobStore({ dir: database.blobDir });
  const journal = createJournal({ db: database.db, blobs });
  const tenancy = createTenancy({ db: database.db, journal });
  const key = 'hk_' + 'S'.repeat(32);
  await tenancy.bootstrap({ adminKey: key });
  const app = createApp({ database, tenancy, journal, traces: createTraces({ db: database.db, blobs }), logger: pino({ level: 'silent' }), webDir: null });
  for (const encoding of ['protobuf', 'json'] as const) {
    const headers = { authorization: `Bearer ${key}`, 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf' };
    await time(`POST /v1/traces ${encoding}`, async () => {
      for (const body of w.bodies[encoding]) {
        const res = await app.request('/v1/traces', { method: 'POST', headers, body });
        if (res.status !== 200) throw new Error(await res.text());
      }
    });
  }
  await database.close();
  rmSync(dir2, { recursive: true, force: true });
}
