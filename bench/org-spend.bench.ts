/**
 * Organization spend (GET /v1/organization/spend) against what it replaces: one cost-per-day request
 * per project (GET /v1/spans/aggregates?groupBy=day&percentiles=false, the Spend page's chart), summed
 * over the organization's projects — both through Hangar's services on the same SQLite file, in the
 * same run, so the ratio is what carries from one machine to another.
 *
 *   npm run bench -- org-spend
 *
 * Environment: BENCH_SPANS (default 400000), BENCH_PROJECTS (default 20, half of them in the measured
 * organization, half in another), BENCH_DAYS (spans spread over this many days, default 30),
 * BENCH_SAMPLES (timed runs per query, default 7).
 *
 * The spans are model calls with tokens and a cost, spread uniformly over the days and round-robin
 * over the projects; loaded in one transaction, then ANALYZEd. Windows: the last 7 days and the whole 30.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createSpend } from '../packages/server/src/spend/spend-service.js';
import { createTraceQuery } from '../packages/server/src/traces/trace-query-service.js';
import { markdownTable, median, positiveInt, progress } from './bench-kit.js';

const SPANS = positiveInt('BENCH_SPANS', 400_000);
const PROJECTS = positiveInt('BENCH_PROJECTS', 20);
const DAYS = positiveInt('BENCH_DAYS', 30);
const SAMPLES = positiveInt('BENCH_SAMPLES', 7);
const DAY = 86_400_000;
const ORG = 'org_measured';

function load(file: string): { end: number; own: string[] } {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const created = new Date().toISOString();
  db.prepare('insert into organizations (id, name, created_at) values (?, ?, ?), (?, ?, ?)').run(ORG, 'measured', created, 'org_other', 'other', created);
  const own: string[] = [];
  const project = db.prepare('insert into projects (id, organization_id, name, retention_days, created_at) values (?, ?, ?, null, ?)');
  for (let i = 0; i < PROJECTS; i++) {
    const org = i % 2 === 0 ? ORG : 'org_other';
    project.run(`proj_${i}`, org, `project ${i}`, created);
    if (org === ORG) own.push(`proj_${i}`);
  }
  const insert = db.prepare(`insert into spans (project_id, trace_id, span_id, name, kind, status, start_time, end_time,
    duration_ms, model, provider, tokens_input, tokens_output, cost_micros, attributes, source)
    values (?, ?, ?, 'chat', 'llm', 'ok', ?, ?, 500, 'gpt-4o', 'openai', ?, ?, ?, '{}', 'otlp')`);
  const end = Date.now();
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  db.transaction(() => {
    for (let i = 0; i < SPANS; i++) {
      const at = new Date(end - 60_000 - random() * (DAYS * DAY - 120_000)).toISOString();
      const input = 200 + Math.floor(random() * 4000);
      const output = 20 + Math.floor(random() * 800);
      const id = i.toString(16).padStart(16, '0');
      insert.run(`proj_${i % PROJECTS}`, id.padStart(32, '0'), id, at, at, input, output, Math.round(input * 2.5 + output * 10));
    }
  })();
  db.exec('analyze');
  db.close();
  return { end, own };
}

async function time(run: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  await run();
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    rows = await run();
    times.push(performance.now() - t);
  }
  return { ms: median(times), rows };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-org-spend-'));
  try {
    const opened = openSqlite(dir);
    await migrateToLatest(opened.db, opened.types);
    await opened.close();
    const t0 = performance.now();
    const { end, own } = load(path.join(dir, 'hangar.db'));
    progress(`loaded ${SPANS.toLocaleString('en-US')} spans over ${PROJECTS} projects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const hangar = openSqlite(dir);
    const spend = createSpend({ db: hangar.db });
    const query = createTraceQuery({ db: hangar.db, functions: hangar.functions, blobs: createBlobStore({ dir: hangar.blobDir }) });
    const rows: string[][] = [];
    for (const days of [7, DAYS]) {
      const window = { from: new Date(end - days * DAY).toISOString(), to: new Date(end).toISOString() };
      const perProject = await time(async () => {
        let n = 0;
        for (const id of own) n += (await query.aggregates(id, window, 'day', { percentiles: false })).groups.length;
        return n;
      });
      const org = await time(async () => (await spend.organization(ORG, window)).days.length);
      // the two must agree, or the comparison means nothing
      const check = await spend.organization(ORG, window);
      const sums = await Promise.all(own.map(async (id) => (await query.aggregates(id, window, 'day', { percentiles: false })).groups.reduce((s, g) => s + g.costMicros, 0)));
      const orgSum = check.projects.reduce((s, p) => s + p.costMicros, 0);
      if (orgSum !== sums.reduce((a, b) => a + b, 0)) throw new Error(`organization spend ${orgSum} ≠ sum of the projects' aggregates`);
      rows.push(
        [`${days} d: ${own.length} × aggregates by day (baseline)`, perProject.ms.toFixed(1), String(perProject.rows), '1.00×'],
        [`${days} d: organization spend`, org.ms.toFixed(1), String(org.rows), `${(org.ms / perProject.ms).toFixed(2)}×`],
      );
    }
    console.log(`\n${SPANS.toLocaleString('en-US')} spans, ${PROJECTS} projects (${own.length} in the organization), ${DAYS} days; median of ${SAMPLES} runs, ms\n`);
    console.log(markdownTable(['query', 'median ms', 'rows', '÷ baseline'], rows));
    await hangar.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
