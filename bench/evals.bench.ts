/**
 * Eval runner throughput and memory: the same suite (BENCH_CASES cases × BENCH_TRIALS trials, default
 * 10,000 × 5, one model call per trial to the same scripted model, one "contains" scorer) through
 * Hangar's runner and through promptfoo (from npm), in one run, at the same concurrency.
 *
 *   npm run bench -- evals
 *   BENCH_CASES=1000 BENCH_TRIALS=2 npm run bench -- evals     # a quick run
 *
 * Environment: BENCH_CASES, BENCH_TRIALS, BENCH_CONCURRENCY (trials at once, default 16), BENCH_SIDES
 * (default "hangar,promptfoo").
 *
 * Every part runs in its own process: the scripted model (the fake OpenAI-compatible provider, which
 * answers at once, so what is measured is the runners' own cost), the Hangar server (SQLite in a temp
 * dir; it stores the experiment, its results and one span per trial), Hangar's runner (what `hangar
 * eval` runs: the experiment created, every trial traced and exported, results posted in batches,
 * summaries computed by the server) and promptfoo's evaluate() (its OpenAI provider, cache off, results
 * written to its own SQLite database, as `promptfoo eval` does). Throughput is trials per second from
 * the start of the run to the finished experiment; peak RSS is each runner process's maxRSS (and the
 * Hangar server's peak, VmHWM, beside it). Both sides must report the same pass count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs, markdownTable, progress, rate } from './bench-kit.js';
import { CASES, CONCURRENCY, EXPECTED_PASSES, TRIALS, type SideResult } from './_evals-suite.js';

const ADMIN_KEY = 'hk_' + 'E'.repeat(32);
const GOAL_RATIO = 5;
const GOAL_RSS_MB = 300;
const SIDES = (process.env.BENCH_SIDES ?? 'hangar,promptfoo').split(',');

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const tsx = import.meta.resolve('tsx');
const children: ChildProcess[] = [];

function start(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(process.execPath, ['--import', tsx, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${args.join(' ')}\n${output.slice(-4000)}`)));
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const results: (SideResult & { serverRssMb?: number; serverCpuMs?: number })[] = [];
const promptfooHome = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-promptfoo-'));
try {
  progress(`suite: ${CASES} cases × ${TRIALS} trials, concurrency ${CONCURRENCY}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const model = (await start([path.join(benchDir, '_gateway-upstream.ts')], /UPSTREAM (\S+)/)).match[1]!;
  for (const side of SIDES) {
    if (side === 'hangar') {
      const server = await start([path.join(benchDir, '_evals-server.ts'), ADMIN_KEY], /HANGAR (\S+)/);
      progress('hangar: running…');
      const serverCpu0 = cpuMs(server.child.pid)!;
      const run = await start([path.join(benchDir, '_evals-hangar.ts'), model, server.match[1]!, ADMIN_KEY], /RESULT (\{.*\})/);
      results.push({
        ...(JSON.parse(run.match[1]!) as SideResult),
        serverRssMb: peakRssMb(server.child.pid!),
        serverCpuMs: cpuMs(server.child.pid)! - serverCpu0,
      });
      server.child.kill('SIGTERM');
    } else if (side === 'promptfoo') {
      progress('promptfoo: running…');
      const run = await start([path.join(benchDir, '_evals-promptfoo.ts'), model], /RESULT (\{.*\})/, {
        HOME: promptfooHome,
        PROMPTFOO_CONFIG_DIR: path.join(promptfooHome, '.promptfoo'),
        PROMPTFOO_DISABLE_TELEMETRY: '1',
        PROMPTFOO_DISABLE_UPDATE: '1',
        PROMPTFOO_CACHE_ENABLED: 'false',
      });
      results.push(JSON.parse(run.match[1]!) as SideResult);
    } else throw new Error(`unknown side ${side} (hangar, promptfoo)`);
    const r = results.at(-1)!;
    progress(`${side}: ${r.trials} trials in ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`);
  }
} finally {
  cleanup();
  rmSync(promptfooHome, { recursive: true, force: true });
}

const by = (side: string) => results.find((r) => r.side === side);
const promptfoo = by('promptfoo');
console.log(`\nEval runners: ${CASES} cases × ${TRIALS} trials, concurrency ${CONCURRENCY}\n`);
console.log(
  markdownTable(
    ['side', 'trials', 'passed', 'seconds', 'trials/s', 'vs promptfoo', 'runner CPU ms/trial', 'server CPU ms/trial', 'peak RSS MB', 'server RSS MB'],
    results.map((r) => [
      r.side,
      String(r.trials),
      String(r.passed),
      r.seconds.toFixed(1),
      rate(r.trials, r.seconds),
      promptfoo ? `${(r.trials / r.seconds / (promptfoo.trials / promptfoo.seconds)).toFixed(1)}×` : '-',
      (r.cpuMs / r.trials).toFixed(2),
      r.serverCpuMs === undefined ? '-' : (r.serverCpuMs / r.trials).toFixed(2),
      r.maxRssMb.toFixed(0),
      r.serverRssMb === undefined ? '-' : r.serverRssMb.toFixed(0),
    ]),
  ),
);
for (const r of results) {
  if (r.trials !== CASES * TRIALS || r.passed !== EXPECTED_PASSES) {
    console.log(`\n${r.side} ran ${r.trials} trials with ${r.passed} passes; expected ${CASES * TRIALS} and ${EXPECTED_PASSES}.`);
    process.exitCode = 1;
  }
}
const hangar = by('hangar');
if (hangar && promptfoo) {
  const ratio = hangar.trials / hangar.seconds / (promptfoo.trials / promptfoo.seconds);
  console.log(`\nGoal ≥ ${GOAL_RATIO}× promptfoo's throughput: ${ratio.toFixed(1)}× — ${ratio >= GOAL_RATIO ? 'met' : 'not met'}.`);
}
if (hangar) console.log(`Goal ≤ ${GOAL_RSS_MB} MB peak RSS (runner): ${hangar.maxRssMb.toFixed(0)} MB — ${hangar.maxRssMb <= GOAL_RSS_MB ? 'met' : 'not met'}.`);
