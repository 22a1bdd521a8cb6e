/**
 * Trace query latency with 1M spans in SQLite: p50/p95 of the trace list, span search, a trace fetch and
 * aggregates through Hangar's query service, against baselines measured in the same run on the same
 * file (the machine is shared and noisy; the ratios are what carry from one machine to another).
 *
 *   npm run bench -- trace-query
 *
 * Environment: BENCH_TRACES (default 100000; 10 spans each), BENCH_SAMPLES (timed runs per query,
 * default 200), BENCH_DAYS (default 30).
 *
 * Workload: BENCH_TRACES traces of 10 spans (an agent span; four model calls on five models; three
 * tools; a retriever; a chain), spread uniformly over the last BENCH_DAYS days, 8 agents, 3% of spans
 * failing, GenAI attributes as JSON. Bulk-loaded in one transaction with a prepared statement into a
 * file migrated by Hangar, with each trace's summary row (trace_summaries) computed by the function
 * ingest uses, its secondary indexes rebuilt from their own definitions after the load, then ANALYZEd. The worst case (a filter nothing matches) and aggregates get 20 and 5 runs.
 *
 * Each query picks a fresh random window end within the data for every run, so runs do not repeat.
 * Baselines: "raw PK" = one span by primary key, and "raw trace" = a trace's rows in start order, both
 * prepared better-sqlite3 statements on the same file; "raw list" = the first-span SQL the list ran
 * before trace summaries (a walk over spans; kept so ratios compare with earlier runs); "raw summaries" =
 * the list's walk over trace_summaries, unfiltered, as a prepared statement.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createTraceQuery, type TraceQuery } from '../packages/server/src/traces/trace-query-service.js';
import { TRACE_SUMMARY_COLUMNS, traceSummaryValues } from '../packages/server/src/traces/trace-summaries-store.js';
import { positiveInt } from './bench-kit.js';

const TRACES = positiveInt('BENCH_TRACES', 100_000);
const SAMPLES = positiveInt('BENCH_SAMPLES', 200);
const DAYS = positiveInt('BENCH_DAYS', 30);
const SPANS_PER_TRACE = 10;
const GOAL_MS = 100;
const PROJECT = 'prj_bench';
const DAY = 86_400_000;
const MODELS = [
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4'],
  ['anthropic', 'claude-haiku-4'],
  ['google', 'gemini-2.5-flash'],
] as const;
const AGENTS = ['planner', 'writer', 'researcher', 'support', 'triage', 'coder', 'reviewer', 'scheduler'];
const TOOLS = ['web_search', 'fetch_url', 'sql_query', 'send_email'];

/** A small deterministic PRNG (mulberry32), so every run loads the same data. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (random: () => number, chars: number) => {
  let s = '';
  while (s.length < chars) s += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, chars);
};

const COLUMNS = [
  'project_id', 'trace_id', 'span_id', 'parent_span_id', 'name', 'kind', 'status', 'status_message', 'error_type',
  'start_time', 'end_time', 'duration_ms', 'service_name', 'agent', 'provider', 'model', 'tokens_input',
  'tokens_output', 'tokens_cache_read', 'tokens_cache_write', 'tokens_reasoning', 'cost_micros',
  'provider_cost_micros', 'tool_name', 'input_sha256', 'output_sha256', 'attributes', 'source',
];

interface Loaded {
  end: number;
  traceIds: string[];
  spanKeys: Array<[string, string]>;
}

function load(file: string): Loaded {
  const random = rng(42);
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -262144');
  // Secondary indexes are built after the load (sorting once is faster than a million random inserts),
  // from the very definitions the migrations created.
  const indexes = db
    .prepare("select name, sql from sqlite_master where type = 'index' and tbl_name in ('spans', 'trace_summaries') and sql is not null")
    .all() as Array<{ name: string; sql: string }>;
  for (const index of indexes) db.exec(`drop index ${index.name}`);
  const insert = db.prepare(`insert into spans (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`);
  // each trace's summary row as ingest computes it (traces-store.ts) from the rows it stored; a trace
  // is loaded once, so ingest's upsert would insert it
  const insertSummary = db.prepare(
    `insert into trace_summaries (${TRACE_SUMMARY_COLUMNS.join(', ')}) values (${TRACE_SUMMARY_COLUMNS.map(() => '?').join(', ')})`,
  );
  const end = Date.now();
  const start = end - DAYS * DAY;
  const starts = Array.from({ length: TRACES }, () => start + random() * (end - start - 60_000)).sort((a, b) => a - b);
  const traceIds: string[] = [];
  const spanKeys: Array<[string, string]> = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  db.transaction(() => {
    for (const t0 of starts) {
      const traceId = hex(random, 32);
      traceIds.push(traceId);
      const agent = AGENTS[Math.floor(random() * AGENTS.length)]!;
      const rootId = hex(random, 16);
      let cursor = t0 + 5;
      const children: unknown[][] = [];
      for (let i = 1; i < SPANS_PER_TRACE; i++) {
        const spanId = hex(random, 16);
        const kind = i % 3 === 0 ? 'tool' : i === 5 ? 'retriever' : i === 8 ? 'chain' : 'llm';
        const duration = kind === 'llm' ? 300 + random() * 3000 : 20 + random() * 800;
        const failed = random() < 0.03;
        const [provider, model] = kind === 'llm' ? MODELS[Math.floor(random() * MODELS.length)]! : [null, null];
        const tokensIn = kind === 'llm' ? 200 + Math.floor(random() * 4000) : null;
        const tokensOut = kind === 'llm' ? 20 + Math.floor(random() * 800) : null;
        const tool = kind === 'tool' ? TOOLS[Math.floor(random() * TOOLS.length)]! : null;
        const attributes =
          kind === 'llm'
            ? JSON.stringify({ 'gen_ai.system': provider, 'gen_ai.request.model': model, 'gen_ai.operation.name': 'chat', 'gen_ai.request.temperature': 0.2 })
            : JSON.stringify(tool ? { 'gen_ai.tool.name': tool } : { 'openinference.span.kind': kind.toUpperCase() });
        children.push([
          PROJECT, traceId, spanId, rootId, kind === 'llm' ? `chat ${model}` : tool ? `execute_tool ${tool}` : kind,
          kind, failed ? 'error' : 'ok', failed ? 'upstream error' : null, failed ? 'Error' : null,
          iso(cursor), iso(cursor + duration), duration, 'bench-agent', agent, provider, model, tokensIn, tokensOut,
          null, null, null, kind === 'llm' ? Math.round(((tokensIn ?? 0) * 2.5 + (tokensOut ?? 0) * 10)) : null,
          null, tool, null, null, attributes, 'otlp',
        ]);
        spanKeys.push([traceId, spanId]);
        cursor += duration + 5;
      }
      const root = [
        PROJECT, traceId, rootId, null, `${agent} run`, 'agent', 'ok', null, null, iso(t0), iso(cursor), cursor - t0,
        'bench-agent', agent, null, null, null, null, null, null, null, null, null, null, null, null, '{}', 'otlp',
      ];
      insert.run(...root);
      spanKeys.push([traceId, rootId]);
      for (const row of children) insert.run(...row);
      for (const summary of traceSummaryValues([root, ...children], COLUMNS)) insertSummary.run(...summary);
    }
  })();
  for (const index of indexes) db.exec(index.sql);
  db.exec('analyze');
  db.close();
  return { end, traceIds, spanKeys };
}

interface Result {
  name: string;
  p50: number;
  p95: number;
  rows: string;
}

async function measure(name: string, run: (random: () => number) => unknown): Promise<Result> {
  const random = rng(7);
  for (let i = 0; i < Math.min(20, SAMPLES); i++) await run(random);
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    const out = await run(random);
    times.push(performance.now() - t);
    rows += typeof out === 'number' ? out : 0;
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.ceil((p / 100) * times.length) - 1]!;
  return { name, p50: at(50), p95: at(95), rows: (rows / SAMPLES).toFixed(0) };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-tq-'));
  process.once('SIGINT', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    const opened = openSqlite(dir);
    await migrateToLatest(opened.db, opened.types);
    await opened.close();
    const file = path.join(dir, 'hangar.db');

    const t = performance.now();
    const { end, traceIds, spanKeys } = load(file);
    const loadS = (performance.now() - t) / 1000;
    console.log(`loaded ${spanKeys.length.toLocaleString('en-US')} spans (${TRACES.toLocaleString('en-US')} traces over ${DAYS} days) in ${loadS.toFixed(1)} s`);

    const hangar = openSqlite(dir);
    const query = createTraceQuery({ db: hangar.db, functions: hangar.functions, blobs: createBlobStore({ dir: hangar.blobDir }) });
    const raw = new SQLite(file, { readonly: true });
    raw.pragma('busy_timeout = 5000');

    /** A window of `ms` at a random place within the data (the whole data for the longest window). */
    const windowOf = (random: () => number, ms: number): TraceQuery => {
      const to = end - random() * Math.max(0, DAYS * DAY - ms);
      return { from: new Date(to - ms).toISOString(), to: new Date(to).toISOString() };
    };
    const pick = <T>(random: () => number, list: T[]) => list[Math.floor(random() * list.length)]!;

    const pk = raw.prepare('select * from spans where project_id = ? and trace_id = ? and span_id = ?');
    const traceRows = raw.prepare('select * from spans where project_id = ? and trace_id = ? order by start_time, span_id');
    const firstSpans = raw.prepare(`select s.trace_id, s.span_id, s.name, s.start_time from spans s
      where s.project_id = ? and s.start_time >= ? and s.start_time < ?
        and not exists (select 1 from spans e where e.project_id = s.project_id and e.trace_id = s.trace_id
          and e.start_time <= s.start_time and (e.start_time, e.span_id) < (s.start_time, s.span_id))
      order by s.start_time desc, s.trace_id desc limit 51`);
    const summaryWalk = raw.prepare(`select * from trace_summaries t where t.project_id = ? and t.start_time >= ? and t.start_time < ?
      order by t.start_time desc, t.trace_id desc limit 51`);

    const results: Result[] = [];
    const baseline = (r: Result) => results.push(r);
    baseline(await measure('raw PK: one span by primary key', (r) => {
      const [traceId, spanId] = pick(r, spanKeys);
      return pk.all(PROJECT, traceId, spanId).length;
    }));
    baseline(await measure('raw trace: a trace’s rows (SQL only)', (r) => traceRows.all(PROJECT, pick(r, traceIds)).length));
    baseline(await measure('raw list: first-span SQL, 24 h, 50 traces', (r) => {
      const w = windowOf(r, DAY);
      return firstSpans.all(PROJECT, w.from, w.to).length;
    }));
    baseline(await measure('raw summaries: trace_summaries walk, 24 h, 50 traces', (r) => {
      const w = windowOf(r, DAY);
      return summaryWalk.all(PROJECT, w.from, w.to).length;
    }));

    const list = (ms: number, more: Partial<TraceQuery> = {}) => async (r: () => number) =>
      (await query.listTraces(PROJECT, { ...windowOf(r, ms), ...more }, { limit: 50 })).traces.length;
    results.push(await measure('trace fetch: GET /v1/traces/{id} (tree)', async (r) => (await query.trace(PROJECT, pick(r, traceIds)))!.spans.length));
    results.push(await measure('trace list: 24 h, 50 traces', list(DAY)));
    results.push(await measure('trace list: 30 d, 50 traces', list(DAYS * DAY)));
    const last30 = { from: new Date(end - DAYS * DAY).toISOString(), to: new Date(end).toISOString() };
    const page2 = (await query.listTraces(PROJECT, last30, { limit: 50 })).nextCursor!;
    results.push(await measure('trace list: 30 d, page 2 (cursor)', async () =>
      (await query.listTraces(PROJECT, last30, { limit: 50, cursor: page2 })).traces.length));
    results.push(await measure('trace list: 7 d, model = claude-haiku-4', list(7 * DAY, { model: 'claude-haiku-4' })));
    results.push(await measure('trace list: 7 d, status = error', list(7 * DAY, { status: 'error' })));
    results.push(await measure('trace list: 7 d, agent + min cost', list(7 * DAY, { agent: 'coder', minCostMicros: 15_000 })));
    results.push(await measureN('trace list: 7 d, a model no span has (worst case)', list(7 * DAY, { model: 'no-such-model' }), 20));
    results.push(await measure('trace list: 7 d, attr gen_ai.request.model', list(7 * DAY, { attributes: { 'gen_ai.request.model': 'gpt-4o-mini' } })));
    results.push(await measure('span search: 24 h, 50 spans', async (r) => (await query.searchSpans(PROJECT, windowOf(r, DAY), { limit: 50 })).spans.length));
    results.push(await measure('span search: 24 h, kind = tool, status = error', async (r) =>
      (await query.searchSpans(PROJECT, { ...windowOf(r, DAY), kinds: ['tool'], status: 'error' }, { limit: 50 })).spans.length));
    const aggSamples = 5;
    results.push(await measureN('aggregates by model: 24 h (p50/p95 latency)', async (r) => (await query.aggregates(PROJECT, windowOf(r, DAY), 'model')).groups.length, aggSamples));
    results.push(await measureN('aggregates by model: 24 h, percentiles=false', async (r) => (await query.aggregates(PROJECT, windowOf(r, DAY), 'model', { percentiles: false })).groups.length, aggSamples));
    results.push(await measureN('aggregates by day: 7 d, percentiles=false (the UI chart)', async (r) => (await query.aggregates(PROJECT, windowOf(r, 7 * DAY), 'day', { percentiles: false })).groups.length, aggSamples));
    results.push(await measureN('aggregates by day: 30 d', async (r) => (await query.aggregates(PROJECT, windowOf(r, DAYS * DAY), 'day')).groups.length, aggSamples));
    results.push(await measureN('aggregates by day: 30 d, percentiles=false', async (r) => (await query.aggregates(PROJECT, windowOf(r, DAYS * DAY), 'day', { percentiles: false })).groups.length, aggSamples));

    const pkP50 = results[0]!.p50;
    console.log(`\nSQLite ${String(raw.prepare('select sqlite_version() v').pluck().get())}, ${SAMPLES} runs per query (aggregates: ${aggSamples}), times in ms\n`);
    console.log('| query | p50 | p95 | rows | p95 goal (< 100 ms) | p50 ÷ raw PK |');
    console.log('|---|---:|---:|---:|---|---:|');
    for (const r of results) {
      const isBaseline = r.name.startsWith('raw');
      const isGoal = r.name.startsWith('trace fetch') || r.name.startsWith('trace list');
      console.log(
        `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.rows} | ${isBaseline || !isGoal ? '' : r.p95 < GOAL_MS ? 'met' : '**not met**'} | ${(r.p50 / pkP50).toFixed(0)}× |`,
      );
    }
    const rawTrace = results.find((r) => r.name.startsWith('raw trace'))!;
    const fetch = results.find((r) => r.name.startsWith('trace fetch'))!;
    const rawList = results.find((r) => r.name.startsWith('raw list'))!;
    const list24 = results.find((r) => r.name === 'trace list: 24 h, 50 traces')!;
    console.log(`\ntrace fetch ÷ raw trace SQL (p50): ${(fetch.p50 / rawTrace.p50).toFixed(1)}×`);
    console.log(`trace list 24 h ÷ raw first-span SQL (p50): ${(list24.p50 / rawList.p50).toFixed(1)}×`);
    const rawSummaries = results.find((r) => r.name.startsWith('raw summaries'))!;
    console.log(`trace list 24 h ÷ raw summaries walk (p50): ${(list24.p50 / rawSummaries.p50).toFixed(1)}×`);
    console.log('\nratios to the raw list baseline (p50, p95), comparable with earlier runs:');
    for (const r of results) console.log(`  ${r.name}: ${(r.p50 / rawList.p50).toFixed(2)}, ${(r.p95 / rawList.p95).toFixed(2)}`);
    raw.close();
    await hangar.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureN(name: string, run: (random: () => number) => Promise<number>, n: number): Promise<Result> {
  const random = rng(11);
  await run(random);
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    rows += await run(random);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.ceil((p / 100) * times.length) - 1]!;
  return { name, p50: at(50), p95: at(95), rows: (rows / n).toFixed(0) };
}


await main();
