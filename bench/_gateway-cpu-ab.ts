// Profiling aid: _gateway-cpu.ts for two versions of Hangar at once — this checkout's and another's
// (COMPARE: the other checkout's root, with its dependencies installed) — each in its own process in
// front of the same fake provider, the calls alternating between them. Both see the same load on the
// machine, so the difference in CPU per call holds when a run on its own would drown it in noise.
//   COMPARE=../other node --import tsx bench/_gateway-cpu-ab.ts      N (default 6000), CONCURRENCY (4), ROUNDS (3)
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

/** CPU ms of a process's main thread alone (its task whose id is the pid). */
function mainThreadCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const N = Number(process.env.N ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ADMIN_KEY = 'hk_' + 'C'.repeat(32);
const dir = path.dirname(fileURLToPath(import.meta.url));
const other = path.resolve(process.env.COMPARE ?? '', 'bench');
if (!process.env.COMPARE) throw new Error('COMPARE: the root of the other checkout');
const tsx = import.meta.resolve('tsx');

function child(args: string[], ready: RegExp) {
  const proc = spawn(process.execPath, ['--import', tsx, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
const sides = [
  { name: 'this', ...(await child([path.join(dir, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/)) },
  { name: 'compare', ...(await child([path.join(other, '_gateway-hangar.ts'), upstream.url, ADMIN_KEY], /HANGAR (\S+)/)) },
];
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 * CONCURRENCY });

function one(url: URL, i: number): Promise<void> {
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
