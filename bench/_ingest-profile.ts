/**
 * Profiling aid for OTLP ingest: the benchmark's ingest side alone, pass after pass, printing CPU
 * µs/span of each pass (forced GC between passes when run with --expose-gc). Not a benchmark (no
 * baseline); for `node --cpu-prof` and quick A/B runs of two commits:
 *
 *   node --expose-gc --import tsx bench/_ingest-profile.ts              # ENC=protobuf|json, PASSES=8
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/_ingest-profile.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp } from '../packages/server/src/app.js';
import { createServices } from '../packages/server/src/services.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { workload } from './ingest.bench.js';

const N = Number(process.env.N ?? 20_000);
const PASSES = Number(process.env.PASSES ?? 8);
const ENC = (process.env.ENC ?? 'protobuf') as 'protobuf' | 'json';
const ADMIN_KEY = 'hk_' + 'B'.repeat(32);
const w = workload(N);
// other traces, sent before the clock starts: each pass's record thread is new, and its code cold (see ingest.bench.ts)
const warm = workload(Number(process.env.WARM ?? 5_000), 10_000_000);
const gc = (globalThis as { gc?: () => void }).gc;

const results: number[] = [];
for (let p = 0; p < PASSES; p++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-prof-'));
  const database = openSqlite(dir);
  await migrateToLatest(database.db, database.types);
  const logger = pino({ level: 'silent' });
  const services = createServices({ database, logger, recordThread: process.env.THREAD !== '0' });
  await services.tenancy.bootstrap({ adminKey: ADMIN_KEY });
  // a server starts its record thread once; each pass here is a new server, whose start-up is not ingest
  await services.recordThread?.started();
  const app = createApp({ ...services, logger, webDir: null });
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': ENC === 'json' ? 'application/json' : 'application/x-protobuf' };
  for (const body of warm.bodies[ENC]) {
    const res = await app.request('/v1/traces', { method: 'POST', headers, body });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
  gc?.();
  const cpu0 = process.cpuUsage();
  for (const body of w.bodies[ENC]) {
    const res = await app.request('/v1/traces', { method: 'POST', headers: process.env.CL ? { ...headers, 'content-length': String(body.byteLength) } : headers, body });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / N;
  if (p > 0) results.push(us);
  console.log(`pass ${p + 1}: ${us.toFixed(1)} µs/span CPU`);
  await services.gateway.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
const sorted = [...results].sort((a, b) => a - b);
console.log(`${ENC}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs/span CPU (min ${sorted[0]!.toFixed(1)}), load ${os.loadavg()[0]!.toFixed(1)}`);
