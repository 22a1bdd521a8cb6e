import { Command, Option } from 'commander';
import { EXPERIMENT_STATUSES, type ExperimentStatus } from '@hangar/protocol';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { renderText } from '../eval-report.js';
import { CliError, printJson, printTable } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command, 'an API key with read permission (HANGAR_API_KEY)').option('--json', 'print JSON');

const mean = (v: number | null | undefined) => (v === null || v === undefined ? null : v.toFixed(3));

export function experimentsCommand(): Command {
  const experiments = new Command('experiments').description('Read experiments: lists, summaries, comparisons');

  withApi(experiments.command('list').description('Experiments, newest first'))
    .option('-n, --name <name>', 'only this series')
    .addOption(new Option('-s, --status <status>', 'only this status').choices(EXPERIMENT_STATUSES))
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts: ApiFlags & { json?: boolean; name?: string; status?: ExperimentStatus; limit: string }) => {
      const { experiments: list } = await call(() =>
        clientFrom(opts).experiments.list({ name: opts.name, status: opts.status, limit: Number(opts.limit) }),
      );
      if (opts.json) return printJson(list);
      printTable(
        list.map((e) => ({
          ...e,
          dataset: e.datasetId ? `${e.datasetId}@${e.datasetVersion}` : null,
          scores: e.scores.map((s) => `${s.name} ${mean(s.mean)}`).join(', '),
          cost: (e.costMicros / 1e6).toFixed(4),
        })),
        ['id', 'name', 'status', 'trialsDone', 'dataset', 'cost', 'scores', 'createdAt'],
      );
    });

  withApi(experiments.command('show').description('An experiment with its score summaries'))
    .argument('<ref>', 'an experiment id or name@latest')
    .action(async (ref: string, opts: ApiFlags & { json?: boolean }) => {
      const e = await call(() => clientFrom(opts).experiments.get(ref));
      if (opts.json) return printJson(e);
      console.log(renderText({ name: e.name, experiment: e, baseline: null, comparison: null, floors: [], failures: [], stopped: null }));
    });

  withApi(experiments.command('compare').description('Paired comparison of two experiments on the same dataset version'))
    .argument('<baseline>', 'an experiment id or name@latest')
    .argument('<candidate>', 'an experiment id or name@latest')
    .option('--alpha <alpha>', 'significance level', '0.05')
    .action(async (baseline: string, candidate: string, opts: ApiFlags & { json?: boolean; alpha: string }) => {
      const alpha = Number(opts.alpha);
      if (!(alpha > 0 && alpha < 1)) throw new CliError(`--alpha must be between 0 and 1, not ${opts.alpha}`);
      const client = clientFrom(opts);
      const comparison = await call(() => client.experiments.compare(candidate, baseline, { alpha }));
      if (opts.json) return printJson(comparison);
      console.log(`${comparison.candidateId} vs ${comparison.baselineId}: ${comparison.verdict.replace(/_/g, ' ')} (alpha ${comparison.alpha})`);
      printTable(
        comparison.metrics.map((m) => ({
          ...m,
          baselineMean: mean(m.baselineMean),
          candidateMean: mean(m.candidateMean),
          meanDelta: mean(m.meanDelta),
          ci: m.ciLow === null ? null : `${mean(m.ciLow)}..${mean(m.ciHigh)}`,
          p: m.adjustedPValue === null ? null : m.adjustedPValue.toPrecision(2),
        })),
        ['name', 'pairs', 'baselineMean', 'candidateMean', 'meanDelta', 'ci', 'test', 'p', 'verdict'],
      );
    });

  return experiments;
}
