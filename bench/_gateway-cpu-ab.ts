// Profiling aid: _gateway-cpu.ts for two versions of Hangar at once — this checkout's and another's
// (COMPARE: the other checkout's root, with its dependencies installed) — each in its own process in
// front of the same fake provider, the calls alternating between them. Both see the same load on the
// machine, so the difference in CPU per call holds when a run on its own would drown it in noise.
//   COMPARE=../other node --import tsx bench/_gateway-cpu-ab.ts      N (default 6000), CONCURRENCY (4), ROUNDS (3)
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCall, mainThreadCpuMs, startChild } from './bench-kit.js';

const N = Number(process.env.N ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ADMIN_KEY = 'hk_' + 'C'.repeat(32);
const dir = path.dirname(fileURLToPath(import.meta.url));
const other = path.resolve(process.env.COMPARE ?? '', 'bench');
if (!process.env.COMPARE) throw new Error('COMPARE: the root of the other checkout');

const upstream = await startChild([path.join(dir, '_gateway-upstream.ts')], /UPSTREAM (\S+)/);
const sides = [
  { name: 'this', ...(await startChild([path.join(dir, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/)) },
  { name: 'compare', ...(await startChild([path.join(other, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/)) },
];
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 * CONCURRENCY });

const one = (url: URL, i: number) =>
  chatCall(url, agent, { authorization: `Bearer ${ADMIN_KEY}` }, process.env.MODEL ?? 'bench', i);

/** n calls to each side, CONCURRENCY in flight to each, each loop alternating between the sides. */
async function loop(n: number) {
  let next = 0;
  const urls = sides.map((s) => new URL('/v1/chat/completions', s.url));
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await Promise.all(urls.map((url) => one(url, i)));
      }
    }),
  );
}

await loop(3000); // warm-up: JIT, pools, SQLite pages
const totals = sides.map(() => 0);
for (let round = 0; round < ROUNDS; round++) {
  await new Promise((r) => setTimeout(r, 500));
  const before = sides.map((s) => mainThreadCpuMs(s.pid));
  await loop(N);
  await new Promise((r) => setTimeout(r, 300)); // records written after their answers
  const used = sides.map((s, i) => mainThreadCpuMs(s.pid) - before[i]!);
  used.forEach((ms, i) => (totals[i]! += ms));
  console.log(`round ${round + 1}: main thread µs/call ${sides.map((s, i) => `${s.name} ${((used[i]! / N) * 1000).toFixed(0)}`).join(', ')}`);
}
console.log(`all: ${sides.map((s, i) => `${s.name} ${((totals[i]! / N / ROUNDS) * 1000).toFixed(0)}`).join(', ')} µs/call (main thread)`);
for (const s of sides) s.kill();
upstream.kill();
agent.destroy();
