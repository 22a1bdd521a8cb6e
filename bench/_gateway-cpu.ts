// Profiling aid: CPU time Hangar's server process spends per gateway call, with the fake provider
// and Hangar in processes of their own (as in gateway.bench.ts) and a closed loop of CONCURRENCY
// calls in flight. CPU per call moves far less with the machine's load than latency does, so it is
// the number to compare two versions of the code by, run after run.
//   node --import tsx bench/_gateway-cpu.ts        N (default 6000), CONCURRENCY (4), MODEL (bench),
//   PROFILE (a directory: Hangar writes a V8 CPU profile there when it exits)
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { cpuMs } from './bench-kit.js';

/** CPU ms of a process's main thread alone (its task whose id is the pid). */
function mainThreadCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const N = Number(process.env.N ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const ADMIN_KEY = 'hk_' + 'C'.repeat(32);
const dir = path.dirname(fileURLToPath(import.meta.url));
const tsx = import.meta.resolve('tsx');

function child(args: string[], ready: RegExp, flags: string[] = []) {
  const proc = spawn(process.execPath, [...flags, '--import', tsx, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<{ pid: number; url: string; kill: () => void }>((resolve) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ pid: proc.pid!, url: m[1]!, kill: () => proc.kill('SIGTERM') });
    });
  });
}

const upstream = await child([path.join(dir, '_gateway-upstream.ts')], /UPSTREAM (\S+)/);
const profile = process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [];
const hangar = await child([path.join(dir, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/, profile);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const url = new URL('/v1/chat/completions', hangar.url);

function one(i: number): Promise<void> {
  const body = JSON.stringify({
    model: process.env.MODEL ?? 'bench',
    messages: [{ role: 'user', content: `question number ${i}: what is ${i} times ${i + 1}?` }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

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
