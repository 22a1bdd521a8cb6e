/**
 * Latency the gateway adds: the same chat completions sent straight to a fake provider ("direct"),
 * through Hangar, through Hangar to the same provider in Anthropic's format ("hangar-xlate": request,
 * answer and usage translated), through a bare node:http proxy ("node-proxy": no auth, no parsing,
 * no record — the floor under any Node gateway here), and through Portkey's open-source gateway
 * (@portkey-ai/gateway, from npm) in front of the same fake provider, in the same run, at fixed
 * request rates.
 *
 *   npm run bench -- gateway
 *
 * Environment: BENCH_RATES (requests per second, default "200,500,1000"), BENCH_SECONDS (per rate and
 * side, default 5), BENCH_ROUNDS (default 1; the order of the sides flips every round so drift in
 * the machine's load falls on all of them), HANGAR_LOG_LEVEL (Hangar's, default warn), BENCH_PROFILE (a
 * directory: Hangar's process writes a V8 CPU profile there when it exits), BENCH_HANGAR_FLAGS (Node
 * flags for Hangar's process, e.g. `--max-semi-space-size=64`), and _gateway-hangar.ts's BENCH_GC_LOG and
 * BENCH_HEAP_PROFILE.
 *
 * Workload: open loop — request i is due at start + i/rate whatever happened to earlier ones, and its
 * latency is measured from when it was due (so a stall is not hidden by sending less: no coordinated
 * omission). Each request is a non-streaming chat completion with a different user message (~100
 * bytes), over keep-alive connections. The fake provider answers at once, so what is measured is the
 * proxies' own cost. Every side runs in its own process: the fake provider, Hangar (SQLite in a temp
 * dir; each call journaled and traced just after it is answered, records group-committed), Portkey (its
 * Node server, `--headless`), and this load generator.
 *
 * Added latency = a side's percentile minus direct's percentile at the same rate (both rounds pooled).
 * "proxy CPU ms/req" is the CPU time (user + system, from /proc) the proxy process spent per request:
 * on a shared, loaded machine latency is mostly waiting for a core, while CPU per request still says
 * what each proxy costs. A latency far above direct's at a rate means the proxy could not keep up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuMs, percentile } from './bench-kit.js';

const RATES = (process.env.BENCH_RATES ?? '200,500,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const ADMIN_KEY = 'hk_' + 'B'.repeat(32);
const GOAL_P50 = 0.5;
const GOAL_P99 = 2;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const tsx = import.meta.resolve('tsx');
const children: ChildProcess[] = [];

function start(
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`did not start in 60 s: ${args.join(' ')}\n${output}`)),
      60_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${args.join(' ')}\n${output}`)));
  });
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

interface Side {
  name: string;
  /** The proxy's process, whose CPU time per request is reported (none for direct). */
  pid?: number | undefined;
  url: URL;
  headers: Record<string, string>;
  model: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

/** Sends rate × seconds requests open-loop; returns each one's latency from when it was due, in ms. */
/** What failed calls got: an HTTP status, or `connection` when no answer came. */
type Failures = Record<string, number>;

function load(side: Side, rate: number, seconds: number): Promise<{ latencies: number[]; errors: number; failures: Failures }> {
  const n = Math.round(rate * seconds);
  const latencies: number[] = new Array<number>(n);
  const failures: Failures = {};
  let errors = 0;
  let done = 0;
  const t0 = performance.now() + 20;
  return new Promise((resolve) => {
    const finish = (i: number, due: number, status: number | 'connection') => {
      latencies[i] = performance.now() - due;
      if (status !== 200) {
        errors++;
        failures[status] = (failures[status] ?? 0) + 1;
      }
      if (++done === n) resolve({ latencies, errors, failures });
    };
    const fire = (i: number, due: number) => {
      const body = JSON.stringify({
        model: side.model,
        messages: [{ role: 'user', content: `question number ${i}: what is ${i} times ${i + 1}?` }],
      });
      const req = http.request(
        side.url,
        {
          method: 'POST',
          agent,
          headers: {
            ...side.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => finish(i, due, res.statusCode ?? 'connection'));
          res.on('error', () => finish(i, due, 'connection'));
        },
      );
      req.on('error', () => finish(i, due, 'connection'));
      req.end(body);
    };
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < n && t0 + (next * 1000) / rate <= now) {
        fire(next, t0 + (next * 1000) / rate);
        next++;
      }
      if (next < n) setTimeout(tick, 1);
    };
    setTimeout(tick, 20);
  });
}


async function main() {
  const upstream = (
    await start(['--import', tsx, path.join(benchDir, '_gateway-upstream.ts')], /UPSTREAM (\S+)/)
  ).match[1]!;
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const hangarFlags = (process.env.BENCH_HANGAR_FLAGS ?? '').split(' ').filter(Boolean);
  const hangarProcess = await start(
    [...profile, ...hangarFlags, '--import', tsx, path.join(benchDir, '_gateway-hangar.ts'), upstream, ADMIN_KEY],
    /HANGAR (\S+)/,
  );
  const hangar = hangarProcess.match[1]!;
  const passthroughProcess = await start(['--import', tsx, path.join(benchDir, '_gateway-passthrough.ts'), upstream], /PASSTHROUGH (\S+)/);
  const portkeyPort = await freePort();
  const portkeyBin = fileURLToPath(import.meta.resolve('@portkey-ai/gateway/build/start-server.js'));
  const portkeyProcess = await start(
    [portkeyBin, `--port=${portkeyPort}`, '--headless'],
    /Ready for connections/,
  );

  const sides: Side[] = [
    {
      name: 'direct',
      url: new URL(`${upstream}/v1/chat/completions`),
      headers: { authorization: 'Bearer sk-bench' },
      model: 'bench-model',
    },
    {
      name: 'hangar',
      pid: hangarProcess.child.pid,
      url: new URL(`${hangar}/v1/chat/completions`),
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      model: 'bench',
    },
    {
      // the same OpenAI-format request, routed to a provider speaking Anthropic's format: translated
      // both ways (cross-format.ts); compared with "hangar" in the same run
      name: 'hangar-xlate',
      pid: hangarProcess.child.pid,
      url: new URL(`${hangar}/v1/chat/completions`),
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      model: 'bench-claude',
    },
    {
      // the floor: a bare node:http proxy (no auth, no parsing, no record) in front of the same upstream
      name: 'node-proxy',
      pid: passthroughProcess.child.pid,
      url: new URL(`${passthroughProcess.match[1]!}/v1/chat/completions`),
      headers: { authorization: 'Bearer sk-bench' },
      model: 'bench-model',
    },
    {
      name: 'portkey',
      pid: portkeyProcess.child.pid,
      url: new URL(`http://127.0.0.1:${portkeyPort}/v1/chat/completions`),
      headers: {
        authorization: 'Bearer sk-bench',
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${upstream}/v1`,
      },
      model: 'bench-model',
    },
  ];

  const cpus = os.cpus();
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`node:    ${process.version}, ${os.type()} ${os.release()}`);
  console.log(
    `cpu:     ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
  );
  console.log(
    `load:    ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1, 5, 15 min) before the run`,
  );
  console.log(`run:     rates ${RATES.join(', ')} req/s, ${SECONDS} s per rate and side, ${ROUNDS} rounds\n`);

  // warm up every side (JIT, connection pools, SQLite pages)
  for (const side of sides) await load(side, 200, 1);

  const results = new Map<string, { latencies: number[]; errors: number; failures: Failures; cpuMs: number | null }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const rate of RATES) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const cpuBefore = cpuMs(side.pid);
        const r = await load(side, rate, SECONDS);
        const cpuAfter = cpuMs(side.pid);
        const key = `${rate}/${side.name}`;
        const acc = results.get(key) ?? { latencies: [], errors: 0, failures: {}, cpuMs: 0 };
        acc.latencies.push(...r.latencies);
        acc.errors += r.errors;
        for (const [status, count] of Object.entries(r.failures)) acc.failures[status] = (acc.failures[status] ?? 0) + count;
        acc.cpuMs =
          cpuBefore === null || cpuAfter === null || acc.cpuMs === null
            ? null
            : acc.cpuMs + cpuAfter - cpuBefore;
        results.set(key, acc);
      }
    }
  }

  const rows: string[][] = [
    [
      'rate (req/s)',
      'side',
      'p50 ms',
      'p99 ms',
      'added p50 ms',
      'added p99 ms',
      'proxy CPU ms/req',
      'errors',
    ],
  ];
  const verdicts: string[] = [];
  for (const rate of RATES) {
    const stats = new Map<string, { p50: number; p99: number; errors: number; cpu: string }>();
    for (const side of sides) {
      const r = results.get(`${rate}/${side.name}`)!;
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const cpu =
        side.pid === undefined || r.cpuMs === null ? '—' : (r.cpuMs / r.latencies.length).toFixed(3);
      stats.set(side.name, {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        errors: r.errors,
        cpu,
      });
    }
    const direct = stats.get('direct')!;
    for (const side of sides) {
      const s = stats.get(side.name)!;
      const added =
        side.name === 'direct'
          ? ['—', '—']
          : [(s.p50 - direct.p50).toFixed(2), (s.p99 - direct.p99).toFixed(2)];
      rows.push([
        String(rate),
        side.name,
        s.p50.toFixed(2),
        s.p99.toFixed(2),
        ...added,
        s.cpu,
        String(s.errors),
      ]);
    }
    for (const side of sides) {
      const failures = Object.entries(results.get(`${rate}/${side.name}`)!.failures);
      if (failures.length > 0) verdicts.push(`${rate} req/s: ${side.name} failed calls by status: ${failures.map(([status, count]) => `${status} ×${count}`).join(', ')}`);
    }
    const h = stats.get('hangar')!;
    const p = stats.get('portkey')!;
    const x = stats.get('hangar-xlate')!;
    verdicts.push(
      `${rate} req/s: translating to Anthropic's format adds ${(x.p50 - h.p50).toFixed(2)} ms p50, ` +
        `${(x.p99 - h.p99).toFixed(2)} ms p99 over plain Hangar; CPU per request ${x.cpu} vs ${h.cpu} ms ` +
        `(${(Number(x.cpu) / Number(h.cpu)).toFixed(2)}×)`,
    );
    const hp50 = h.p50 - direct.p50;
    const hp99 = h.p99 - direct.p99;
    const floor = stats.get('node-proxy')!;
    verdicts.push(
      `${rate} req/s: a bare Node proxy adds ${(floor.p50 - direct.p50).toFixed(2)} ms p50, ${(floor.p99 - direct.p99).toFixed(2)} ms p99 (the hop alone); ` +
        `Hangar adds ${(h.p50 - floor.p50).toFixed(2)} ms p50, ${(h.p99 - floor.p99).toFixed(2)} ms p99 on top of it, ` +
        `CPU per request ${h.cpu} vs ${floor.cpu} ms`,
    );
    verdicts.push(
      `${rate} req/s: Hangar adds ${hp50.toFixed(2)} ms p50 (goal ≤ ${GOAL_P50}: ${hp50 <= GOAL_P50 ? 'met' : 'NOT met'}), ` +
        `${hp99.toFixed(2)} ms p99 (goal ≤ ${GOAL_P99}: ${hp99 <= GOAL_P99 ? 'met' : 'NOT met'}); ` +
        `vs Portkey: p50 ${hp50 <= p.p50 - direct.p50 ? 'no worse' : 'WORSE'}, p99 ${hp99 <= p.p99 - direct.p99 ? 'no worse' : 'WORSE'}`,
    );
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (c < 2 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w, c) => (c < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  for (const v of verdicts) console.log(v);
  console.log(
    `\nload:    ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1, 5, 15 min) after the run`,
  );
}

try {
  await main();
} finally {
  agent.destroy();
  for (const c of children) c.kill('SIGTERM');
}
