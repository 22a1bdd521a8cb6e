// Child process of gateway.bench.ts: a Hangar server (SQLite in a temp dir) with routes to the fake
// upstream, in its OpenAI format and (translated) in its Anthropic one. Prints its URL once the route exists.
// Profiling aids: BENCH_GC_LOG=<file> (each GC pause over 1 ms), BENCH_HEAP_PROFILE=<file> (what was
// allocated, by function, written when the process is stopped; with BENCH_HEAP_PROMOTED=1 only what
// outlived a minor GC, i.e. was promoted to the old generation; BENCH_HEAP_INTERVAL, the mean bytes between
// samples, default 1024: a larger one slows the server less).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../packages/server/src/config.js';
import { startServer } from '../packages/server/src/serve.js';

const [upstream, adminKey] = process.argv.slice(2) as [string, string];
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-gw-'));
const server = await startServer(
  loadConfig(
    { ...process.env, HANGAR_LOG_LEVEL: process.env.HANGAR_LOG_LEVEL ?? 'warn' },
    { port: 0, dataDir, adminKey, webDir: null },
  ),
);
const put = async (p: string, body: unknown) => {
  const res = await fetch(server.url + p, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
};
await put('/v1/gateway/providers/up', { type: 'openai-compatible', baseUrl: `${upstream}/v1` });
await put('/v1/gateway/routes/bench', { targets: ['up/bench-model'] });
// the same fake provider spoken to in Anthropic's format: OpenAI-format calls to it are translated
await put('/v1/gateway/providers/ant', { type: 'anthropic', baseUrl: upstream });
await put('/v1/gateway/routes/bench-claude', { targets: ['ant/bench-model'] });
// BENCH_HEAP_PROFILE=<file>: a sampling heap profile of every allocation (kept or collected) from the
// first call on, written when the process is stopped
const heapProfile = process.env.BENCH_HEAP_PROFILE ? await startHeapProfile() : null;
console.log(`HANGAR ${server.url}`);
process.on('SIGTERM', () => {
  void Promise.resolve(heapProfile?.(process.env.BENCH_HEAP_PROFILE!)).then(() => server.close()).then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
// BENCH_GC_LOG=<file>: every garbage collection over 1 ms, one line each (kind, duration, when)
if (process.env.BENCH_GC_LOG) {
  const { appendFileSync } = await import('node:fs');
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
      if (e.duration >= 1) appendFileSync(process.env.BENCH_GC_LOG!, `${kinds[kind] ?? kind} ${e.duration.toFixed(2)} ms at ${e.startTime.toFixed(0)}\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}

async function startHeapProfile(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: Number(process.env.BENCH_HEAP_INTERVAL ?? 1024),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_PROMOTED !== '1',
  } as never);
  return async (file) => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
  };
}
