// Profiling aid: the gateway's garbage, as V8 sees it. Hangar (as in gateway.bench.ts) answers chat
// completions at a steady RATE for SECONDS, after 400 calls of warm-up, under V8's own tracing, and
// what V8 printed during the measured part is summed up per thread (the answering thread, the record
// thread):
//   MODE=gc    (default) each minor GC: how much it kept, how much it promoted to the old generation,
//              its pause. Per-call objects that outlive a minor GC are what drives the mark-compacts.
//   MODE=maps  hidden classes (maps) made once per call, by source position and property name: an
//              object that gets a class of its own outlives minor GCs. On Node 20 the usual cause is a
//              spread followed by more properties (`{ ...a, b }`; util/objects.ts's `extend` is the
//              cure), or a prototype swapped after creation (Node's own AbortSignal).
// Positions are in tsx's output, which keeps each TypeScript file on one line: the property name says
// which object it is. The map log covers start-up and warm-up too: with SECONDS of 10 or more, what
// happens once per call stands out from what happened once per module.
//   node --import tsx bench/_gateway-v8.ts     MODE, RATE (200), SECONDS (10), MODEL (bench; also
//   bench-claude, translated, and hangar/echo), STREAM=1, ANTHROPIC=1 (/v1/messages), OUT (the raw log)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startChild } from './bench-kit.js';

const MODE = process.env.MODE === 'maps' ? 'maps' : 'gc';
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 10);
const MODEL = process.env.MODEL ?? 'bench';
const STREAM = process.env.STREAM === '1';
const ANTHROPIC = process.env.ANTHROPIC === '1';
const KEY = 'hk_' + 'V'.repeat(32);
const MARK_START = '=== measured part starts';
const MARK_END = '=== measured part ends';

const logDir = mkdtempSync(path.join(os.tmpdir(), 'hangar-v8-'));
const flags = MODE === 'gc' ? ['--trace-gc-nvp'] : ['--log-maps', `--logfile=${logDir}/maps.log`];
const upstream = await startChild(['bench/_gateway-upstream.ts'], /UPSTREAM (\S+)/);
const hangar = spawn(process.execPath, [...flags, '--import', import.meta.resolve('tsx'), 'bench/_gateway-hangar.ts', upstream.url, KEY], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let printed = '';
const url = await new Promise<string>((resolve) => {
  hangar.stdout.on('data', (d: Buffer) => {
    printed += d.toString();
    const m = /HANGAR (\S+)/.exec(printed);
    if (m) resolve(m[1]!);
  });
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
function call(i: number): Promise<void> {
  const body = JSON.stringify({
    model: MODEL,
    ...(ANTHROPIC ? { max_tokens: 64 } : {}),
    ...(STREAM ? { stream: true } : {}),
    messages: [{ role: 'user', content: `question number ${i}: what is ${i} times ${i + 1}?` }],
  });
  const headers = {
    authorization: `Bearer ${KEY}`,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...(ANTHROPIC ? { 'anthropic-version': '2023-06-01' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(ANTHROPIC ? '/v1/messages' : '/v1/chat/completions', url), { method: 'POST', agent, headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < 400; i++) await call(i);
const mark = (text: string) => (MODE === 'gc' ? (printed += `${text}\n`) : undefined);
mark(MARK_START);
const n = RATE * SECONDS;
const t0 = performance.now();
let failed = 0;
await new Promise<void>((resolve) => {
  let done = 0;
  for (let i = 0; i < n; i++) {
    setTimeout(
      () => void call(i).catch(() => failed++).finally(() => ++done === n && resolve()),
      t0 + (i * 1000) / RATE - performance.now(),
    );
  }
});
mark(MARK_END);
hangar.kill('SIGTERM');
upstream.kill();
await new Promise((r) => hangar.once('exit', r));
console.log(`${n} calls at ${RATE}/s (${MODEL}${STREAM ? ', streamed' : ''}${ANTHROPIC ? ', /v1/messages' : ''}), ${failed} failed`);
if (MODE === 'gc') summarizeGc(printed);
else summarizeMaps(logDir, n);

/** Per thread (isolate): minor GCs in the measured part, what each kept and promoted on average, pauses. */
function summarizeGc(text: string) {
  const lines = text.slice(text.indexOf(MARK_START), text.indexOf(MARK_END)).split('\n');
  const threads = new Map<string, { minor: number; major: number; kept: number; promoted: number; allocated: number; pauseMs: number }>();
  for (const line of lines) {
    const m = /^\[\d+:(0x[0-9a-f]+)\].*? pause=([\d.]+) .*?gc=(\w+)/.exec(line);
    if (!m) continue;
    const field = (name: string) => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1] ?? 0);
    const t = threads.get(m[1]!) ?? { minor: 0, major: 0, kept: 0, promoted: 0, allocated: 0, pauseMs: 0 };
    threads.set(m[1]!, t);
    t.pauseMs += Number(m[2]);
    if (m[3] !== 's') {
      t.major++;
      continue;
    }
    t.minor++;
    t.kept += field('new_space_survived');
    t.promoted += field('promoted');
    t.allocated += field('allocated');
  }
  for (const [isolate, t] of threads) {
    if (!t.minor) continue;
    const kb = (bytes: number) => (bytes / t.minor / 1024).toFixed(0);
    console.log(
      `isolate ${isolate}: ${(t.allocated / 2 ** 20).toFixed(0)} MB allocated (${(t.allocated / n / 1024).toFixed(1)} KB a call), ` +
        `${t.minor} minor GCs keeping ${kb(t.kept)} KB and promoting ${kb(t.promoted)} KB on average, ${t.major} major, ` +
        `${t.pauseMs.toFixed(0)} ms paused`,
    );
  }
}

/** Property additions that made a new hidden class, at least once every 4 calls, per thread. */
function summarizeMaps(dir: string, calls: number) {
  for (const file of readdirSync(dir)) {
    const counts = new Map<string, number>();
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      // map,Transition,time,from,to,pc,line,column,reason,name: "prototype" = from a class that keeps no transitions
      if (!line.startsWith('map,Transition,')) continue;
      const f = line.split(',');
      if (f[8] !== 'prototype') continue;
      const key = `${f[6]}:${f[7]} ${f[9]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const frequent = [...counts].filter(([, c]) => c >= calls / 4).sort((a, b) => b[1] - a[1]);
    if (!frequent.length) continue;
    console.log(`${file}:`);
    for (const [where, c] of frequent) console.log(`  ${(c / calls).toFixed(2)} a call  ${where}`);
  }
}
