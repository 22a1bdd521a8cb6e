// Profiling aid: where a proxied call's added latency is spent — before the provider gets the request
// (the proxy reading, checking and sending it on) and after the provider answered (the proxy reading
// the answer and writing it back) — for Hangar and for a bare node:http proxy, against the same
// provider. The load generator and the provider share this process (and so one clock); Hangar and the
// bare proxy run in processes of their own, as in gateway.bench.ts. One call at a time, RATE per second.
// COMPARE (another checkout's root) adds its Hangar as a fourth side, taking turns with the others.
//   node --import tsx bench/_gateway-phases.ts        N (default 2000), RATE (200), MODEL (bench), COMPARE
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCall, percentile, startChild } from './bench-kit.js';

const N = Number(process.env.N ?? 2000);
const RATE = Number(process.env.RATE ?? 200);
const ADMIN_KEY = 'hk_' + 'D'.repeat(32);
const dir = path.dirname(fileURLToPath(import.meta.url));

/** When the provider had the request, and when it started answering. */
let received = 0;
let answered = 0;
const provider = http.createServer((req, res) => {
  received = performance.now();
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const { model } = JSON.parse(body) as { model: string };
    const text = JSON.stringify({
      id: 'chatcmpl-phases',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'forty-two' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
    });
    answered = performance.now();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
});
await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
const providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;

const hangar = await startChild([path.join(dir, '_gateway-hangar.ts'), providerUrl, ADMIN_KEY], /HANGAR (\S+)/);
const bare = await startChild([path.join(dir, '_gateway-passthrough.ts'), providerUrl], /PASSTHROUGH (\S+)/);
const compare = process.env.COMPARE
  ? await startChild([path.join(path.resolve(process.env.COMPARE, 'bench'), '_gateway-hangar.ts'), providerUrl, ADMIN_KEY], /HANGAR (\S+)/)
  : null;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One call; its time before the provider had it, and after the provider answered. */
async function one(url: URL, headers: Record<string, string>, i: number): Promise<{ before: number; after: number }> {
  const sent = performance.now();
  await chatCall(url, agent, headers, process.env.MODEL ?? 'bench', i);
  return { before: received - sent, after: performance.now() - answered };
}

const sides: Array<{ name: string; url: URL; headers: Record<string, string> }> = [
  { name: 'direct', url: new URL('/v1/chat/completions', providerUrl), headers: {} },
  { name: 'node-proxy', url: new URL('/v1/chat/completions', bare.url), headers: {} },
  { name: 'hangar', url: new URL('/v1/chat/completions', hangar.url), headers: { authorization: `Bearer ${ADMIN_KEY}` } },
  ...(compare ? [{ name: 'compare', url: new URL('/v1/chat/completions', compare.url), headers: { authorization: `Bearer ${ADMIN_KEY}` } }] : []),
];
const results = new Map(sides.map((s) => [s.name, { before: [] as number[], after: [] as number[] }]));
const pause = () => new Promise((r) => setTimeout(r, 1000 / RATE));
for (let i = 0; i < 500; i++) for (const side of sides) await one(side.url, side.headers, i); // warm-up
// the sides take turns call by call, so drift in the machine's load falls on all of them
for (let i = 0; i < N; i++) {
  for (const side of sides) {
    const { before, after } = await one(side.url, side.headers, i);
    results.get(side.name)!.before.push(before);
    results.get(side.name)!.after.push(after);
  }
  await pause();
}
const f = (xs: number[], p: number) => percentile([...xs].sort((a, b) => a - b), p).toFixed(3);
console.log(`${N} calls a side, one at a time, ${RATE}/s; ms before the provider has the request / after it answered`);
for (const [name, r] of results) {
  console.log(`${name.padEnd(10)} before p50 ${f(r.before, 50)} p90 ${f(r.before, 90)}   after p50 ${f(r.after, 50)} p90 ${f(r.after, 90)}`);
}
hangar.kill();
compare?.kill();
bare.kill();
agent.destroy();
provider.close();
