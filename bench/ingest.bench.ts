/**
 * OTLP ingest throughput into SQLite, as a ratio against raw inserts of the same rows through the
 * same driver, measured in the same run.
 *
 *   npm run bench -- ingest
 *
 * Environment: BENCH_N (spans per measured pass; default 20000), BENCH_BATCH (spans per export
 * request; default 500, about what the OTel BatchSpanProcessor sends), BENCH_ROUNDS (measured passes,
 * median reported; default 3), BENCH_INFLIGHT (export requests in flight at once on the ingest side,
 * as several exporters sending to one server; default 1).
 *
 * Ingest side: `POST /v1/traces` through the whole Hono app with `app.request()` (routing, key
 * check, body read, decode, normalization, pricing, blob hashing, one transaction per request, each
 * answered once committed) — no socket, so the number is Hangar's work, not the kernel's. The services
 * are the server's (`recordThread: true`): on SQLite the inserts and the commit run on the record
 * thread. Once with protobuf bodies, once with OTLP/JSON bodies of the same spans, BENCH_INFLIGHT
 * requests in flight. The CPU time reported is the whole process's, both threads.
 *
 * Workload: agent traces of 5 spans — an agent span, two model calls (GenAI attributes, ~400 B of
 * input messages and ~150 B of output each, unique per span), a tool call (arguments and result) and
 * a plain HTTP span: 6 blobs per 5 spans.
 *
 * Baseline ("raw"): the rows ingest writes — the same span rows, blob rows and trace summary rows,
 * computed (decoded, normalized, priced, hashed, summarized) before the clock starts — inserted by
 * prepared better-sqlite3 statements, one transaction per request's worth of spans, on a file opened
 * as the server opens it (Hangar's pragmas, WAL checkpoints on a thread of their own, as on the
 * ingest side). The raw side is synchronous on one connection whatever BENCH_INFLIGHT says
 * (SQLite has one writer: more connections would only take turns at the write lock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { pino } from 'pino';
import { createApp } from '../packages/server/src/app.js';
import { createServices } from '../packages/server/src/services.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createPriceBook } from '../packages/server/src/pricing/pricing.js';
import { normalizeSpan } from '../packages/server/src/traces/normalize.js';
import { decodeTraceRequest } from '../packages/server/src/traces/otlp-decode.js';
import { TRACE_SUMMARY_COLUMNS, traceSummaryValues } from '../packages/server/src/traces/trace-summaries-store.js';
import { toSpanRow } from '../packages/server/src/traces/traces-store.js';
import { canonicalJson, sha256Hex } from '../packages/server/src/util/hash.js';
import { markdownTable, positiveInt, progress, rate } from './bench-kit.js';

const N = positiveInt('BENCH_N', 20_000);
const BATCH = positiveInt('BENCH_BATCH', 500);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const INFLIGHT = positiveInt('BENCH_INFLIGHT', 1);
const WARM = positiveInt('BENCH_WARM', 5_000);
const GOAL_RATE = 50_000;
const GOAL_RATIO = 0.5;
/** As the server opens its database (serve.ts): WAL checkpoints on a thread of their own, for both sides. */
const CHECKPOINT_EVERY_MS = 100;
const ADMIN_KEY = 'hk_' + 'B'.repeat(32);
const PROJECT = 'proj_default';

type Encoding = 'protobuf' | 'json';
type Side = 'ingest' | 'raw';

// ---------------------------------------------------------------------------------------------
// Workload

interface KV {
  key: string;
  value: { stringValue?: string; intValue?: number };
}
const kv = (key: string, v: string | number): KV => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });

interface PlainSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: KV[];
  status: number;
}

const T0 = 1_760_000_000_000_000_000n;
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

function traceSpans(t: number): PlainSpan[] {
  const traceId = hex(t + 1, 32);
  const id = (k: number) => hex(t * 8 + k + 1, 16);
  const start = T0 + BigInt(t) * 10_000_000_000n;
  const ms = (x: number) => BigInt(x) * 1_000_000n;
  const question = `Trip ${t}: plan three days in Oslo for two people, trains preferred, budget 900 EUR, museums and food. `;
  const chat = (k: number, offset: number): PlainSpan => ({
    traceId,
    spanId: id(k),
    parentSpanId: id(0),
    name: 'chat gpt-4o-mini',
    kind: 3,
    start: start + ms(offset),
    end: start + ms(offset + 900 + (t % 300)),
    status: 0,
    attributes: [
      kv('gen_ai.operation.name', 'chat'),
      kv('gen_ai.provider.name', 'openai'),
      kv('gen_ai.request.model', 'gpt-4o-mini'),
      kv('gen_ai.response.model', 'gpt-4o-mini-2024-07-18'),
      kv('gen_ai.response.id', `chatcmpl-${t}-${k}`),
      kv('gen_ai.response.finish_reasons', 'stop'),
      kv('gen_ai.usage.input_tokens', 1200 + (t % 500)),
      kv('gen_ai.usage.output_tokens', 300 + (t % 200)),
      kv(
        'gen_ai.input.messages',
        JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'You are a travel planner. Be concise and concrete.' }] },
          { role: 'user', parts: [{ type: 'text', content: question.repeat(2) + `step ${k}` }] },
        ]),
      ),
      kv('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: `Day 1 (${t}/${k}): National Museum, then dinner at Mathallen. Day 2: fjord trip.` }], finish_reason: 'stop' }])),
    ],
  });
  return [
    { traceId, spanId: id(0), parentSpanId: '', name: 'invoke_agent planner', kind: 1, start, end: start + ms(4000), status: 1, attributes: [kv('gen_ai.operation.name', 'invoke_agent'), kv('gen_ai.agent.name', 'planner')] },
    chat(1, 10),
    {
      traceId,
      spanId: id(2),
      parentSpanId: id(0),
      name: 'execute_tool get_weather',
      kind: 1,
      start: start + ms(1300),
      end: start + ms(1450),
      status: 0,
      attributes: [kv('gen_ai.operation.name', 'execute_tool'), kv('gen_ai.tool.name', 'get_weather'), kv('gen_ai.tool.call.arguments', `{"city":"Oslo","day":${t % 3}}`), kv('gen_ai.tool.call.result', `{"forecast":"rain","mm":${t % 17}}`)],
    },
    { traceId, spanId: id(3), parentSpanId: id(2), name: 'GET', kind: 3, start: start + ms(1310), end: start + ms(1440), status: 0, attributes: [kv('http.request.method', 'GET'), kv('url.full', 'https://weather.example/oslo'), kv('http.response.status_code', 200)] },
    chat(4, 1500),
  ];
}

interface PbRoot {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { encode(m: object): { finish(): Uint8Array } } } } } } };
}
const pb = (createRequire(new URL('../packages/server/package.json', import.meta.url))('@opentelemetry/otlp-transformer/build/src/generated/root.js') as PbRoot).opentelemetry.proto.collector.trace.v1;

const resource = { attributes: [kv('service.name', 'trip-planner'), kv('telemetry.sdk.language', 'nodejs'), kv('telemetry.sdk.name', 'opentelemetry')] };
const scope = { name: 'bench', version: '1.0.0' };

function jsonBody(spans: PlainSpan[]): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope,
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId,
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: String(s.start),
                endTimeUnixNano: String(s.end),
                attributes: s.attributes,
                status: { code: s.status },
              })),
            },
          ],
        },
      ],
    }),
  );
}

function protobufBody(spans: PlainSpan[]): Uint8Array {
  return pb.ExportTraceServiceRequest.encode({
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope,
            spans: spans.map((s) => ({
              traceId: Buffer.from(s.traceId, 'hex'),
              spanId: Buffer.from(s.spanId, 'hex'),
              parentSpanId: s.parentSpanId ? Buffer.from(s.parentSpanId, 'hex') : undefined,
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: s.start.toString(),
              endTimeUnixNano: s.end.toString(),
              attributes: s.attributes,
              status: { code: s.status },
            })),
          },
        ],
      },
    ],
  }).finish();
}

interface Workload {
  bodies: Record<Encoding, Uint8Array[]>;
  /** Per request: the span rows and blob rows ingest writes, for the raw side. */
  rows: { spans: unknown[][]; blobs: [string, number, Uint8Array][]; summaries: unknown[][] }[];
  bytes: Record<Encoding, number>;
}

/** `n` spans in requests of BATCH; `firstTrace` numbers the traces (another range gives other ids and times). */
export function workload(n: number, firstTrace = 0): Workload {
  const traces = Math.ceil(n / 5);
  const all = Array.from({ length: traces }, (_, t) => traceSpans(firstTrace + t)).flat().slice(0, n);
  const bodies: Record<Encoding, Uint8Array[]> = { protobuf: [], json: [] };
  const rows: Workload['rows'] = [];
  const book = createPriceBook([]);
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH);
    const proto = protobufBody(batch);
    bodies.protobuf.push(proto);
    bodies.json.push(jsonBody(batch));
    // exactly what the ingest path stores, computed here off the clock
    const spans: unknown[][] = [];
    const blobs: [string, number, Uint8Array][] = [];
    for (const input of decodeTraceRequest(proto, 'protobuf').spans.map(normalizeSpan)) {
      const { input: inData, output: outData, ...rest } = input;
      const blobOf = (v: unknown) => {
        if (v === undefined) return null;
        const content = Buffer.from(canonicalJson(v));
        const sha = sha256Hex(content);
        blobs.push([sha, content.byteLength, content]);
        return sha;
      };
      const inputSha256 = blobOf(inData);
      const outputSha256 = blobOf(outData);
      const costMicros = book.costOf({ provider: rest.provider, model: rest.model, time: rest.startTime, usage: rest.usage });
      const row = toSpanRow(PROJECT, { ...rest, costMicros, costDiffers: false, inputSha256, outputSha256 });
      spans.push(Object.values(row));
    }
    rows.push({ spans, blobs, summaries: traceSummaryValues(spans, Object.keys(toSpanRow(PROJECT, exampleSpan()))) });
  }
  const sum = (xs: Uint8Array[]) => xs.reduce((a, b) => a + b.byteLength, 0);
  return { bodies, rows, bytes: { protobuf: sum(bodies.protobuf), json: sum(bodies.json) } };
}

// ---------------------------------------------------------------------------------------------
// Targets

interface Target {
  write(request: number): Promise<void> | void;
  close(): Promise<void>;
}

const cleanups = new Set<() => Promise<void>>();

async function freshDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-'));
  const remove = async () => {
    cleanups.delete(remove);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(remove);
  return { dir, remove };
}

async function ingestTarget(encoding: Encoding, w: Workload, warm: Workload): Promise<Target> {
  const { dir, remove } = await freshDir();
  const database = openSqlite(dir, { checkpointEveryMs: CHECKPOINT_EVERY_MS });
  await migrateToLatest(database.db, database.types);
  const logger = pino({ level: 'silent' });
  const services = createServices({ database, logger, recordThread: true });
  await services.tenancy.bootstrap({ adminKey: ADMIN_KEY });
  // a server starts its record thread once; each pass here is a new server, whose start-up is not ingest
  await services.recordThread?.started();
  const app = createApp({ ...services, logger, webDir: null });
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf' };
  const send = async (body: Uint8Array) => {
    const res = await app.request('/v1/traces', { method: 'POST', headers, body });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
  // A server's record thread runs for the life of the server; here each pass starts a new one, whose
  // code would run cold (not yet compiled by V8) for much of a pass. Warmed on other traces first —
  // which the raw side inserts too, so both start from the same database.
  for (const body of warm.bodies[encoding]) await send(body);
  return {
    write: (r) => send(w.bodies[encoding][r]!),
    async close() {
      await services.gateway.close(); // stops the record thread
      await database.close();
      await remove();
    },
  };
}

async function rawTarget(w: Workload, warm: Workload): Promise<Target> {
  const { dir, remove } = await freshDir();
  // the same file as the server opens it: its pragmas, and WAL checkpoints on its checkpointer thread
  const opened = openSqlite(dir, { checkpointEveryMs: CHECKPOINT_EVERY_MS });
  await migrateToLatest(opened.db, opened.types);
  const raw = opened.direct!;
  const columns = Object.keys(toSpanRow(PROJECT, exampleSpan()));
  const insertSpan = raw.prepare(`insert into spans (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict do nothing`);
  const insertBlob = raw.prepare('insert into blobs (sha256, size, created_at, content) values (?, ?, ?, ?) on conflict (sha256) do update set created_at = excluded.created_at');
  // With the default batch a trace never spans two requests, so each summary row is new, as on the
  // ingest side (whose upsert then inserts).
  const insertSummary = raw.prepare(
    `insert into trace_summaries (${TRACE_SUMMARY_COLUMNS.join(', ')}) values (${TRACE_SUMMARY_COLUMNS.map(() => '?').join(', ')}) on conflict do nothing`,
  );
  const writeBatch = (rows: Workload['rows'][number]) => {
    const now = new Date().toISOString();
    const { spans, blobs, summaries } = rows;
    raw.exec('begin');
    for (const [sha, size, content] of blobs) insertBlob.run(sha, size, now, content);
    for (const s of spans) insertSpan.run(...s);
    for (const s of summaries) insertSummary.run(...s);
    raw.exec('commit');
  };
  // the rows the ingest side writes while warming up, so both start from the same database
  for (const rows of warm.rows) writeBatch(rows);
  return {
    write: (r) => {
      writeBatch(w.rows[r]!);
    },
    async close() {
      await opened.close();
      await remove();
    },
  };
}

function exampleSpan() {
  const s = normalizeSpan(decodeTraceRequest(protobufBody(traceSpans(0).slice(0, 1)), 'protobuf').spans[0]!);
  return { ...s, costMicros: null, costDiffers: false, inputSha256: null, outputSha256: null };
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Timing {
  /** Wall-clock seconds. */
  wall: number;
  /** CPU seconds of this process (user + system): what stays meaningful when other work shares the cores. */
  cpu: number;
}

async function pass(side: Side, encoding: Encoding, w: Workload, warm: Workload, requests: number): Promise<Timing> {
  const target = side === 'ingest' ? await ingestTarget(encoding, w, warm) : await rawTarget(w, warm);
  try {
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < requests) await target.write(next++);
    };
    await Promise.all(Array.from({ length: side === 'ingest' ? INFLIGHT : 1 }, sender));
    const wall = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await target.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Result {
  encoding: Encoding;
  spans: number;
  ingest: Timing;
  raw: Timing;
}

async function measure(w: Workload, warm: Workload, encoding: Encoding): Promise<Result> {
  const requests = w.rows.length;
  const spans = w.rows.reduce((a, r) => a + r.spans.length, 0);
  await pass('ingest', encoding, w, warm, Math.max(2, Math.floor(requests / 5)));
  await pass('raw', encoding, w, warm, Math.max(2, Math.floor(requests / 5)));
  const timings: Record<Side, Timing[]> = { ingest: [], raw: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['ingest', 'raw'] as const) : (['raw', 'ingest'] as const)) {
      timings[side].push(await pass(side, encoding, w, warm, requests));
    }
    const [i, r] = [timings.ingest.at(-1)!, timings.raw.at(-1)!];
    progress(
      `${encoding} round ${round + 1}/${ROUNDS}: ingest ${rate(spans, i.wall)}/s (CPU ${rate(spans, i.cpu)}/s), ` +
        `raw ${rate(spans, r.wall)}/s (CPU ${rate(spans, r.cpu)}/s)`,
    );
  }
  const med = (ts: Timing[]): Timing => ({ wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) });
  return { encoding, spans, ingest: med(timings.ingest), raw: med(timings.raw) };
}

// ---------------------------------------------------------------------------------------------
// Output


function table(results: Result[]): string {
  const head = ['encoding', 'spans', 'ingest s', 'ingest spans/s', 'raw s', 'raw spans/s', 'ingest/raw', 'CPU µs/span ingest', 'CPU µs/span raw', 'ingest/raw in CPU'];
  const body = results.map((r) => [
    r.encoding,
    r.spans.toLocaleString('en-US'),
    r.ingest.wall.toFixed(2),
    rate(r.spans, r.ingest.wall),
    r.raw.wall.toFixed(2),
    rate(r.spans, r.raw.wall),
    (r.raw.wall / r.ingest.wall).toFixed(2),
    ((r.ingest.cpu / r.spans) * 1e6).toFixed(1),
    ((r.raw.cpu / r.spans) * 1e6).toFixed(1),
    (r.raw.cpu / r.ingest.cpu).toFixed(2),
  ]);
  return markdownTable(head, body, 1);
}



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
  const sqliteVersion = String(new SQLite(':memory:').prepare('select sqlite_version()').pluck().get());
  console.log('OTLP ingest throughput: POST /v1/traces (app.request, no socket) vs raw inserts of the same rows, same driver');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`node:    ${process.version} (${process.platform}/${process.arch})`);
  console.log(`cpu:     ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`);
  console.log(`load:    ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (1/5/15 min) on ${cpus.length} cores`);
  console.log(`sqlite:  SQLite ${sqliteVersion}, files in ${os.tmpdir()}, Hangar's pragmas (WAL, synchronous=NORMAL)`);
  const w = workload(N);
  const warm = workload(WARM, 10_000_000);
  const perSpan = (e: Encoding) => Math.round(w.bytes[e] / N);
  console.log(
    `workload: ${N.toLocaleString('en-US')} spans in requests of ${BATCH} (5-span agent traces, 6 blobs per 5 spans; ` +
      `~${perSpan('protobuf')} B/span protobuf, ~${perSpan('json')} B/span JSON), median of ${ROUNDS} pass(es) after a warm-up; ` +
      `ingest with ${INFLIGHT} request(s) in flight\n`,
  );
  const results = [await measure(w, warm, 'protobuf'), await measure(w, warm, 'json')];
  console.log(`\n${table(results)}\n`);
  for (const r of results) {
    const spansPerSecond = r.spans / r.ingest.wall;
    const ratio = r.raw.wall / r.ingest.wall;
    console.log(
      `goal ≥ ${GOAL_RATE.toLocaleString('en-US')} spans/s and ≥ ${GOAL_RATIO} of raw: ${r.encoding} ${rate(r.spans, r.ingest.wall)}/s, ${ratio.toFixed(2)} ` +
        `${spansPerSecond >= GOAL_RATE && ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`\nload at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

// run unless imported (bench/_ingest-stages.ts reuses the workload)
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await main();
  } finally {
    await cleanUp();
  }
}
