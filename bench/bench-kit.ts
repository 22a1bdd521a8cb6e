/** Small helpers every benchmark uses: settings from the environment, progress, statistics, tables. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** A positive whole number from the environment (e.g. BENCH_N), or the fallback. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** A progress line on stderr, so stdout keeps only the results. */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/** The p-th percentile (nearest rank) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** n per second, as a grouped whole number: `12,345`. */
export function rate(n: number, seconds: number): string {
  return Math.round(n / seconds).toLocaleString('en-US');
}

/** A Markdown table; the first `textColumns` columns are left-aligned, the rest (numbers) right-aligned. */
export function markdownTable(head: string[], body: string[][], textColumns = 1): string {
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (c < textColumns ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c < textColumns ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

/** CPU time (user + system) a process has used so far, in ms; null where /proc is not available. */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/** CPU ms of a process's main thread alone (its task whose id is the pid): the thread that answers. */
export function mainThreadCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * One non-streaming chat completion, question `i` (each a different user message), over `agent`;
 * resolves once the answer is read, rejects on any status but 200.
 */
export function chatCall(url: URL, agent: http.Agent, headers: Record<string, string>, model: string, i: number): Promise<void> {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: `question number ${i}: what is ${i} times ${i + 1}?` }] });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
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

/**
 * Starts a bench child process (a .ts file, through tsx) and resolves once its stdout matches `ready`,
 * with the match's first group (a URL it prints). `flags` go to node before the script.
 */
export function startChild(args: string[], ready: RegExp, flags: string[] = []) {
  const proc = spawn(process.execPath, [...flags, '--import', import.meta.resolve('tsx'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<{ pid: number; url: string; kill: () => void }>((resolve) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ pid: proc.pid!, url: m[1]!, kill: () => proc.kill('SIGTERM') });
    });
  });
}
