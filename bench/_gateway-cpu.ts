// Profiling aid: CPU time Hangar's server process spends per gateway call, with the fake provider
// and Hangar in processes of their own (as in gateway.bench.ts) and a closed loop of CONCURRENCY
// calls in flight. CPU per call moves far less with the machine's load than latency does, so it is
// the number to compare two versions of the code by, run after run.
//   node --import tsx bench/_gateway-cpu.ts        N (default 6000), CONCURRENCY (4), MODEL (bench),
//   PROFILE (a directory: Hangar writes a V8 CPU profile there when it exits)
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCall, cpuMs, mainThreadCpuMs, startChild } from './bench-kit.js';

const N = Number(process.env.N ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const ADMIN_KEY = 'hk_' + 'C'.repeat(32);
const dir = path.dirname(fileURLToPath(import.meta.url));

const upstream = await startChild([path.join(dir, '_gateway-upstream.ts')], /UPSTREAM (\S+)/);
const profile = process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [];
const hangar = await startChild([path.join(dir, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/, profile);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const url = new URL('/v1/chat/completions', hangar.url);

const one = (i: number) =>
  chatCall(url, agent, { authorization: `Bearer ${ADMIN_KEY}` }, process.env.MODEL ?? 'bench', i);

async function loop(n: number) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await one(next++);
    }),
  );
}

await loop(3000); // warm-up: JIT, pools, SQLite pages
await new Promise((r) => setTimeout(r, 500));
const c0 = cpuMs(hangar.pid)!;
const m0 = mainThreadCpuMs(hangar.pid);
const t0 = performance.now();
await loop(N);
const wall = performance.now() - t0;
await new Promise((r) => setTimeout(r, 300)); // records written after their answers
const cpu = cpuMs(hangar.pid)! - c0;
const main = mainThreadCpuMs(hangar.pid) - m0;
const us = (ms: number) => ((ms / N) * 1000).toFixed(0);
console.log(`${N} calls, ${CONCURRENCY} in flight: Hangar CPU ${us(cpu)} µs/call (main thread ${us(main)}), ${(wall / N).toFixed(3)} ms/call wall`);
hangar.kill();
upstream.kill();
agent.destroy();
