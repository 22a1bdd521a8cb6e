/**
 * Per-span cost of tracing with Hangar's SDK (`traced()` + HangarSpanProcessor + HangarExporter)
 * against the bare OpenTelemetry SDK (BasicTracerProvider + BatchSpanProcessor + the OTLP/HTTP
 * JSON exporter, the usual setup) sending to the same local sink, measured in the same run.
 *
 *   npm run bench -- sdk
 *
 * Environment: BENCH_N (spans per pass, default 100000), BENCH_ROUNDS (passes per side, median
 * reported, default 5).
 *
 * Workload: an instrumented function with three attributes, called N times; after every 256 calls
 * the loop yields one macrotask, as an application serving requests would, so the exporters get to
 * send. Both sides: a queue bound of N, so that nothing is dropped and both pay for every span (with
 * the default bounds both drop under this load, the bare SDK more than half, and a side that drops
 * more looks cheaper; the drop path is covered by the exporter's tests), the same batch size (512)
 * and delay (1 s), the AsyncLocalStorage context manager, the
 * OTLP/JSON encoding from @opentelemetry/otlp-transformer. The clock runs from the first call until
 * the sink has every span (forceFlush resolved), so serializing and sending are inside it. The sink
 * is another process (it counts the spans it receives, which checks that nothing was dropped).
 *
 * Reported, per span: CPU time of this process (user + system; the sink's is not counted), which is
 * what tracing costs an application and stays meaningful on a busy machine, and wall-clock time; for
 * each side and for the same loop with tracing off (the API's no-op tracer), the floor. The ratios
 * Hangar / bare OTel are the result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldOnce } from 'node:timers/promises';
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { HangarExporter, HangarSpanProcessor, traced } from '../packages/sdk/src/tracing/index.js';
import { positiveInt, progress } from './bench-kit.js';

const N = positiveInt('BENCH_N', 100_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const CHUNK = 256;
/** Big enough that neither side drops a span: both pay for every one (dropping is tested elsewhere). */
const QUEUE = N;
const BATCH = 512;
const DELAY = 1000;

type Side = 'off' | 'otel' | 'hangar';

// ---------------------------------------------------------------------------------------------
// The sink: a process of its own that answers OTLP requests and counts spans.

const SINK = `
const http = require('node:http');
let spans = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') { res.end(String(spans)); return; }
  if (req.method === 'DELETE') { spans = 0; res.end('0'); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

async function startSink(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function sinkCount(url: string, method: 'GET' | 'DELETE' = 'GET'): Promise<number> {
  return Number(await (await fetch(url, { method })).text());
}

// ---------------------------------------------------------------------------------------------
// One pass

interface Pass {
  /** Wall-clock ns per span. */
  nsPerSpan: number;
  /** CPU time (user + system) of this process per span: what tracing costs the application. */
  cpuNsPerSpan: number;
  received: number;
}

function processorFor(side: Side, sink: string): { processor: SpanProcessor | null; dropped: () => number } {
  if (side === 'off') return { processor: null, dropped: () => 0 };
  if (side === 'otel') {
    // forceFlush sends the whole queue at once; the default limit (30 requests) would fail it
    const exporter = new OTLPTraceExporter({
      url: `${sink}/v1/traces`,
      concurrencyLimit: Math.ceil(QUEUE / BATCH) + 1,
    });
    const processor = new BatchSpanProcessor(exporter, {
      maxQueueSize: QUEUE,
      maxExportBatchSize: BATCH,
      scheduledDelayMillis: DELAY,
    });
    return { processor, dropped: () => -1 };
  }
  const exporter = new HangarExporter({
    baseUrl: sink,
    apiKey: 'hk_bench',
    maxQueueSize: QUEUE,
    maxBatchSize: BATCH,
    scheduledDelayMillis: DELAY,
    flushOnExit: false,
  });
  return { processor: new HangarSpanProcessor(exporter), dropped: () => exporter.stats().dropped };
}

async function pass(side: Side, sink: string, n: number): Promise<Pass> {
  trace.disable();
  context.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const { processor } = processorFor(side, sink);
  const provider = processor ? new BasicTracerProvider({ spanProcessors: [processor] }) : null;
  if (provider) trace.setGlobalTracerProvider(provider);
  await sinkCount(sink, 'DELETE');

  let work = 0;
  const body = (i: number) => {
    work += i & 1;
    return work;
  };
  // The instrumented function each side offers, made once: OTel's startActiveSpan around the body,
  // and Hangar's traced(). Two attributes known up front, one per call (read from the active span on
  // Hangar's side, as an application would).
  const STATIC = { 'agent.name': 'bench', 'gen_ai.request.model': 'gpt-4o-mini' };
  let call: (i: number) => number;
  if (side === 'otel') {
    const tracer: Tracer = trace.getTracer('bench');
    call = (i) =>
      tracer.startActiveSpan('handle request', { attributes: STATIC }, (span) => {
        span.setAttribute('request.index', i);
        try {
          return body(i);
        } finally {
          span.end();
        }
      });
  } else {
    call = traced(
      'handle request',
      (i: number) => {
        trace.getActiveSpan()?.setAttribute('request.index', i);
        return body(i);
      },
      STATIC,
    );
  }

  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    call(i);
    if (i % CHUNK === CHUNK - 1) await yieldOnce();
  }
  if (provider) await provider.forceFlush();
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  if (provider) await provider.shutdown();
  return {
    nsPerSpan: (elapsed * 1e6) / n,
    cpuNsPerSpan: ((cpu.user + cpu.system) * 1e3) / n,
    received: await sinkCount(sink),
  };
}

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};



async function main(): Promise<void> {
  const cpus = os.cpus();
  const started = performance.now();
  console.log(
    "SDK per-span cost: Hangar's traced() + exporter vs the bare OpenTelemetry SDK, same sink, same run",
  );
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(`node:     ${process.version} (${process.platform}/${process.arch})`);
  console.log(
    `cpu:      ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
  );
  console.log(
    `load:     ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (1/5/15 min at start; the machine may be shared)`,
  );
  console.log(
    `workload: ${N.toLocaleString('en-US')} spans per pass (3 attributes each), a macrotask yield every ${CHUNK}; queue ${QUEUE}, batch ${BATCH}, delay ${DELAY} ms; median of ${ROUNDS} passes after a warm-up\n`,
  );
  const sink = await startSink();
  try {
    const sides: Side[] = ['off', 'otel', 'hangar'];
    for (const side of sides) await pass(side, sink.url, Math.min(N, 20_000)); // warm-up
    const wall: Record<Side, number[]> = { off: [], otel: [], hangar: [] };
    const cpu: Record<Side, number[]> = { off: [], otel: [], hangar: [] };
    const lost: Record<Side, number> = { off: 0, otel: 0, hangar: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // rotate the order, so drift in the machine's load falls on every side
      const order = sides.map((_, k) => sides[(k + round) % sides.length]!);
      for (const side of order) {
        const r = await pass(side, sink.url, N);
        wall[side].push(r.nsPerSpan);
        cpu[side].push(r.cpuNsPerSpan);
        if (side !== 'off') lost[side] += N - r.received;
      }
      progress(
        `round ${round + 1}/${ROUNDS}: ` +
          sides
            .map((s) => `${s} ${cpu[s].at(-1)!.toFixed(0)} cpu-ns / ${wall[s].at(-1)!.toFixed(0)} ns`)
            .join(', '),
      );
    }
    const m = (side: Side) => ({ cpu: median(cpu[side]), wall: median(wall[side]) });
    const off = m('off');
    const otel = m('otel');
    const hangar = m('hangar');
    const rows: [string, { cpu: number; wall: number }, string][] = [
      ['tracing off (API no-op)', off, '—'],
      ['bare OTel SDK (BatchSpanProcessor + OTLP/HTTP JSON)', otel, String(lost.otel)],
      ['Hangar SDK (traced() + HangarExporter)', hangar, String(lost.hangar)],
    ];
    console.log('\n| side | CPU ns/span | CPU ns/span over tracing off | wall ns/span | spans lost |');
    console.log('|------|------------:|-----------------------------:|-------------:|-----------:|');
    for (const [name, v, l] of rows) {
      const over = v === off ? '—' : (v.cpu - off.cpu).toFixed(0);
      console.log(`| ${name} | ${v.cpu.toFixed(0)} | ${over} | ${v.wall.toFixed(0)} | ${l} |`);
    }
    console.log(`\nratio Hangar / bare OTel, CPU ns/span:            ${(hangar.cpu / otel.cpu).toFixed(2)}`);
    console.log(
      `ratio Hangar / bare OTel, CPU over tracing off:   ${((hangar.cpu - off.cpu) / (otel.cpu - off.cpu)).toFixed(2)}`,
    );
    console.log(`ratio Hangar / bare OTel, wall ns/span:           ${(hangar.wall / otel.wall).toFixed(2)}`);
  } finally {
    sink.child.kill();
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
