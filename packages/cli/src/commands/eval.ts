import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import type { Experiment } from '@hangar/protocol';
import { HangarError, type HangarClient } from '@hangar/sdk';
import { runEvalHere, setEvalHost, type EvalOptions, type EvalSummary } from '@hangar/sdk/evals';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { createProgressBar } from '../eval-progress.js';
import { checkFloors, datasetMismatch, gateFailures, parseFloor, renderJUnit, renderMarkdown, renderText, type EvalReport, type Floor } from '../eval-report.js';
import { CliError, printJson } from '../output.js';

/** Exit codes: 1 the gate failed (or an eval threw), 2 the gate could not be evaluated as asked. */
const GATE_FAILED = 1;
const CANNOT_COMPARE = 2;

interface EvalFlags extends ApiFlags {
  resume?: string | true;
  baseline?: string;
  failOn: 'regression' | 'none';
  alpha: string;
  floor: string[];
  junit?: string;
  markdown?: string;
  json?: boolean;
  filter?: string;
  progress?: boolean;
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'coverage']);

/** `*.eval.ts` (and .js/.mts) files under a directory, in path order. */
export function findEvalFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(path.join(d, entry.name));
      } else if (/\.eval\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(path.join(d, entry.name));
    }
  };
  walk(dir);
  return out.sort();
}

function resolveFiles(args: string[]): string[] {
  if (args.length === 0) return findEvalFiles(process.cwd());
  return args.flatMap((a) => {
    const full = path.resolve(a);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      throw new CliError(`No such file or directory: ${a}`, CANNOT_COMPARE);
    }
    return stat.isDirectory() ? findEvalFiles(full) : [full];
  });
}

const notFound = (e: unknown) => e instanceof HangarError && e.code === 'not_found';

/** The baseline an eval is compared with: `@latest` means the eval's own series. */
async function resolveBaseline(client: HangarClient, ref: string, evalName: string): Promise<Experiment> {
  const resolved = ref === '@latest' ? `${evalName}@latest` : ref;
  try {
    return await client.experiments.get(resolved);
  } catch (e) {
    if (!notFound(e)) throw e;
    const series = resolved.endsWith('@latest') ? resolved.slice(0, -'@latest'.length) : null;
    throw new CliError(
      series
        ? `No baseline: there is no completed experiment named '${series}' yet. Record one by running this eval without --baseline (e.g. on your main branch: hangar eval <file>), then gate against ${series}@latest.`
        : `No baseline: experiment '${resolved}' does not exist in this project. List experiments with: hangar experiments list; or use <name>@latest.`,
      CANNOT_COMPARE,
    );
  }
}

/** The newest unfinished experiment of the eval's series, to resume. */
async function resumeTarget(client: HangarClient, flag: string | true, name: string): Promise<string | undefined> {
  if (flag !== true) return flag;
  const { experiments } = await client.experiments.list({ name, limit: 20 });
  const open = experiments.find((e) => e.name === name && e.status === 'running');
  if (!open) {
    process.stderr.write(`hangar: nothing to resume for '${name}' (no unfinished experiment): starting a new one.\n`);
    return undefined;
  }
  return open.id;
}

export function evalCommand(): Command {
  return apiOptions(
    new Command('eval')
      .description('Run *.eval.ts files (every Eval() in them) as experiments in Hangar; optionally gate on a baseline')
      .argument('[files...]', 'eval files or directories (default: every *.eval.ts under the current directory)'),
  )
    .option('--resume [experiment]', 'continue an interrupted experiment (default: the newest unfinished one of each eval), skipping trials it has')
    .option('--baseline <ref>', "compare with this experiment: an id, name@latest, or @latest for each eval's own series")
    .addOption(new Option('--fail-on <what>', 'exit 1 on a statistically significant regression').choices(['regression', 'none']).default('none'))
    .option('--alpha <alpha>', 'significance level of the comparison', '0.05')
    .option('--floor <metric=value>', 'fail when the mean of a score is below value (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--junit <path>', 'write JUnit XML (a test case per metric and floor)')
    .option('--markdown <path>', 'write a Markdown summary for a pull-request comment')
    .option('--filter <text>', 'only evals whose name contains this')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the reports as JSON on stdout')
    .action(async (args: string[], opts: EvalFlags) => {
      const alpha = Number(opts.alpha);
      if (!(alpha > 0 && alpha < 1)) throw new CliError(`--alpha must be between 0 and 1, not ${opts.alpha}`, CANNOT_COMPARE);
      let floors: Floor[];
      try {
        floors = opts.floor.map(parseFloor);
      } catch (e) {
        throw new CliError((e as Error).message, CANNOT_COMPARE);
      }
      const files = resolveFiles(args);
      if (files.length === 0) throw new CliError('No eval files: pass *.eval.ts files, or run where some are.', CANNOT_COMPARE);

      const client = clientFrom(opts);
      const baseUrl = opts.url ?? process.env.HANGAR_URL ?? 'http://127.0.0.1:7070';
      const apiKey = (opts.key ?? process.env.HANGAR_API_KEY)!;
      const reports: EvalReport[] = [];
      const interrupt = new AbortController();
      const onSigint = () => {
        process.stderr.write('\nhangar: stopping after the trials in flight (Ctrl-C again to quit at once); resume with: hangar eval --resume\n');
        interrupt.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSigint);

      // Each Eval() call in the files runs here, one after another, with the CLI's options.
      let queue: Promise<unknown> = Promise.resolve();
      const runOne = async (name: string, options: EvalOptions<never, never, never>): Promise<EvalSummary | null> => {
        if (opts.filter && !name.includes(opts.filter)) return null;
        const baseline = opts.baseline ? await call(() => resolveBaseline(client, opts.baseline!, options.experimentName ?? name)) : null;
        const resume = opts.resume ? await call(() => resumeTarget(client, opts.resume!, options.experimentName ?? name)) : undefined;
        const bar = opts.progress === false ? null : createProgressBar({ stream: process.stderr, tty: process.stderr.isTTY === true });
        let summary: EvalSummary;
        try {
          summary = await call(() =>
            runEvalHere(name, options, {
              baseUrl,
              apiKey,
              ...(resume ? { resume } : {}),
              signal: interrupt.signal,
              ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
            }),
          );
        } finally {
          bar?.done();
        }
        let comparison = null;
        if (baseline) {
          const mismatch = datasetMismatch(baseline, summary.experiment);
          if (mismatch) throw new CliError(mismatch, CANNOT_COMPARE);
          comparison = await call(() => client.experiments.compare(summary.experiment.id, baseline.id, { alpha }));
        }
        const partial = { name, experiment: summary.experiment, baseline, comparison, floors: checkFloors(summary.experiment, floors), stopped: summary.stopped };
        for (const f of partial.floors) {
          if (!summary.experiment.scores.some((s) => s.name === f.metric)) {
            throw new CliError(`--floor ${f.metric}: no score of that name; this eval's scores are ${summary.experiment.scores.map((s) => s.name).join(', ')}`, CANNOT_COMPARE);
          }
        }
        const report: EvalReport = { ...partial, failures: gateFailures(partial, opts.failOn === 'regression') };
        reports.push(report);
        if (!opts.json) console.log(renderText(report));
        return summary;
      };
      const errors: unknown[] = [];
      setEvalHost({
        run: (name, options) => {
          const next = queue.then(() => runOne(name, options));
          // recorded here, so an Eval() the file did not await still fails the command
          next.catch((e: unknown) => errors.push(e));
          queue = next.catch(() => undefined);
          return next as Promise<EvalSummary>;
        },
      });
      try {
        for (const file of files) {
          try {
            await import(pathToFileURL(file).href);
          } catch (e) {
            await queue;
            if (!errors.includes(e)) errors.push(e);
          }
          await queue;
        }
      } finally {
        setEvalHost(null);
        process.removeListener('SIGINT', onSigint);
      }
      if (opts.junit) writeFileSync(opts.junit, renderJUnit(reports));
      if (opts.markdown) writeFileSync(opts.markdown, renderMarkdown(reports, { baseUrl }));
      if (opts.json) printJson(reports);
      if (errors.length) throw errors[0];
      if (reports.length === 0) throw new CliError(`No Eval() ran${opts.filter ? ` (none matches --filter ${opts.filter})` : ''} in ${files.length} file(s).`, CANNOT_COMPARE);
      const failed = reports.filter((r) => r.failures.length > 0);
      if (failed.length) throw new CliError(`gate failed: ${failed.map((r) => `${r.name} (${r.failures.join('; ')})`).join(', ')}`, GATE_FAILED);
    });
}
