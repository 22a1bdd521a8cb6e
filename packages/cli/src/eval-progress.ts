import type { EvalProgress } from '@hangar/sdk/evals';

/** `1h02m`, `3m05s`, `42s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Micro-USD as dollars with enough places to see a cent's fraction. */
export function dollars(micros: number): string {
  return `$${(micros / 1e6).toFixed(micros < 10_000_000 ? 4 : 2)}`;
}

/** One line: bar, trials done of all, ETA, cost so far, pass rate so far, errors. */
export function progressLine(p: EvalProgress, width = 24): string {
  const parts = [p.name];
  if (p.total !== null && p.total > 0) {
    const frac = Math.min(1, p.done / p.total);
    const filled = Math.round(frac * width);
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${p.done}/${p.total}`, `${Math.floor(frac * 100)}%`);
    const rate = p.done / Math.max(p.elapsedMs, 1);
    parts.push(p.done === 0 ? 'ETA -' : p.done >= p.total ? `in ${duration(p.elapsedMs)}` : `ETA ${duration((p.total - p.done) / rate)}`);
  } else {
    parts.push(`${p.done} trials`, duration(p.elapsedMs));
  }
  parts.push(`cost ${dollars(p.costMicros)}`);
  parts.push(`pass ${p.judged === 0 ? '-' : `${((100 * p.passed) / p.judged).toFixed(1)}%`}`);
  if (p.errors > 0) parts.push(`errors ${p.errors}`);
  if (p.skipped > 0) parts.push(`(resumed: ${p.skipped} done before)`);
  return parts.join('  ');
}

export interface ProgressBarOptions {
  stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Redraw one line in place (a terminal) or print a line every `intervalMs` (CI logs). */
  tty: boolean;
  intervalMs?: number;
}

/**
 * The progress of a run on stderr: in a terminal one line redrawn in place (at most 10 times a
 * second); elsewhere (CI logs) a line every few seconds, so a log stays readable.
 */
export function createProgressBar(options: ProgressBarOptions) {
  const interval = options.tty ? 100 : (options.intervalMs ?? 5000);
  let last = 0;
  let latest: EvalProgress | null = null;
  let drawn = false;
  const draw = (p: EvalProgress) => {
    if (options.tty) {
      const columns = (options.stream as NodeJS.WriteStream).columns ?? 120;
      options.stream.write(`\r\x1b[2K${progressLine(p).slice(0, columns - 1)}`);
    } else {
      options.stream.write(progressLine(p) + '\n');
    }
    drawn = true;
  };
  return {
    update(p: EvalProgress) {
      latest = p;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      draw(p);
    },
    /** Draws the final state and ends the line. */
    done() {
      if (latest) draw(latest);
      if (options.tty && drawn) options.stream.write('\n');
    },
  };
}
