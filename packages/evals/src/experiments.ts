import type { Comparison, MetricComparison, ScoreSummary, Verdict } from '@hangar/protocol';
import { type BootstrapOptions, clusteredMeanCI, pairedBootstrapCI } from './stats/bootstrap.js';
import { mean, standardDeviation } from './stats/descriptive.js';
import { holm, mannWhitneyU, mcnemar, twoProportionZ, wilcoxonSignedRank } from './stats/hypothesis-tests.js';
import { passAtK, passHatK } from './stats/pass-at-k.js';
import { casesNeeded } from './stats/power.js';

/** One trial's scores, as the runner posts them (a `TrialResult` fits). */
export interface ScoredTrial {
  caseId: string;
  trial: number;
  scores: readonly { name: string; value: number | null; pass?: boolean | null; error?: string | null }[];
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Score names in order of first appearance. */
function scoreNames(results: readonly ScoredTrial[]): string[] {
  const names = new Set<string>();
  for (const r of results) for (const s of r.scores) names.add(s.name);
  return [...names];
}

/**
 * Summary statistics of every score of an experiment: mean over trials with a value, its
 * cluster-robust standard error and cluster-bootstrap CI (trials of one case resampled together),
 * errors counted apart (never as 0), pass rate over trials with a boolean `pass`, and — when every
 * scored trial has a boolean `pass` — unbiased pass@k and pass^k averaged over cases for k = 1 up to
 * the fewest trials any case has.
 *
 * @example
 * const [summary] = summarizeScores([
 *   { caseId: 'a', trial: 0, scores: [{ name: 'exact', value: 1, pass: true }] },
 *   { caseId: 'b', trial: 0, scores: [{ name: 'exact', value: 0, pass: false }] },
 * ]);
 * summary.mean; // 0.5
 */
export function summarizeScores(
  results: readonly ScoredTrial[],
  options: BootstrapOptions = {},
): ScoreSummary[] {
  return scoreNames(results).map((name) => {
    const valuesByCase = new Map<string, number[]>();
    const passesByCase = new Map<string, boolean[]>();
    let errors = 0;
    let allPassFail = true;
    for (const r of results) {
      for (const s of r.scores) {
        if (s.name !== name) continue;
        if (s.error) {
          errors++;
          continue;
        }
        if (s.value === null || !Number.isFinite(s.value)) continue;
        let values = valuesByCase.get(r.caseId);
        if (!values) valuesByCase.set(r.caseId, (values = []));
        values.push(s.value);
        if (typeof s.pass === 'boolean') {
          let passes = passesByCase.get(r.caseId);
          if (!passes) passesByCase.set(r.caseId, (passes = []));
          passes.push(s.pass);
        } else {
          allPassFail = false;
        }
      }
    }
    const ci = clusteredMeanCI([...valuesByCase.values()], options);
    const passes = [...passesByCase.values()];
    const passTotal = passes.reduce((a, p) => a + p.length, 0);
    const summary: ScoreSummary = {
      name,
      n: ci.n,
      errors,
      mean: finiteOrNull(ci.estimate),
      standardError: finiteOrNull(ci.standardError),
      ciLow: finiteOrNull(ci.low),
      ciHigh: finiteOrNull(ci.high),
      passRate: passTotal === 0 ? null : passes.reduce((a, p) => a + p.filter(Boolean).length, 0) / passTotal,
    };
    if (allPassFail && passes.length > 0) {
      const maxK = Math.min(...passes.map((p) => p.length));
      summary.passAtK = {};
      summary.passHatK = {};
      for (let k = 1; k <= maxK; k++) {
        summary.passAtK[k] = mean(passes.map((p) => passAtK(p.length, p.filter(Boolean).length, k)));
        summary.passHatK[k] = mean(passes.map((p) => passHatK(p.length, p.filter(Boolean).length, k)));
      }
    }
    return summary;
  });
}

/** Options of `compareExperiments`. */
export interface CompareOptions extends BootstrapOptions {
  /** Family-wise significance level across the metrics compared, 0.05 by default. */
  alpha?: number;
  /** Metrics to compare; by default every score name present in both experiments. */
  metrics?: readonly string[];
  /** The change the power hint is about, 0.05 by default. */
  powerDelta?: number;
}

/** What `compareExperiments` returns: a `Comparison` without the ids the server fills in. */
export type ComparisonResult = Omit<
  Comparison,
  'baselineId' | 'candidateId' | 'datasetId' | 'datasetVersion'
>;

// Per-case means are rounded to 12 decimals so 2/3 − 1/3 and 1/3 − 0 tie as they should.
const round12 = (x: number): number => Math.round(x * 1e12) / 1e12;

function caseMeans(
  results: readonly ScoredTrial[],
  name: string,
): Map<string, { mean: number; trials: number; binary: boolean }> {
  const byCase = new Map<string, number[]>();
  for (const r of results) {
    for (const s of r.scores) {
      if (s.name !== name || s.error || s.value === null || !Number.isFinite(s.value)) continue;
      let values = byCase.get(r.caseId);
      if (!values) byCase.set(r.caseId, (values = []));
      values.push(s.value);
    }
  }
  const out = new Map<string, { mean: number; trials: number; binary: boolean }>();
  for (const [caseId, values] of byCase) {
    out.set(caseId, {
      mean: round12(mean(values)),
      trials: values.length,
      binary: values.every((v) => v === 0 || v === 1),
    });
  }
  return out;
}

/**
 * Paired comparison of two experiments on the same dataset version. Cases are paired by `caseId`;
 * each case's score is its mean over trials (errors left out), and the delta is candidate −
 * baseline. Per metric: mean delta with a paired (case-resampling) bootstrap CI, then a two-sided
 * test — McNemar's exact test when the metric is pass/fail (values 0/1) with one trial per case on
 * both sides, otherwise the Wilcoxon signed-rank test on the per-case deltas (with several trials a
 * pass/fail metric becomes a per-case pass rate, which keeps more information than a majority vote).
 * p-values are Holm-adjusted across the metrics; a metric whose adjusted p is below `alpha` is
 * `improved` or `regressed` by the sign of its mean delta (higher scores are better). Overall:
 * regressed if any metric regressed, else improved if any improved.
 *
 * @example
 * const cmp = compareExperiments(baselineResults, candidateResults, { alpha: 0.05 });
 * if (cmp.verdict === 'regressed') process.exitCode = 1;
 */
export function compareExperiments(
  baseline: readonly ScoredTrial[],
  candidate: readonly ScoredTrial[],
  options: CompareOptions = {},
): ComparisonResult {
  const alpha = options.alpha ?? 0.05;
  const powerDelta = options.powerDelta ?? 0.05;
  const inCandidate = new Set(scoreNames(candidate));
  const names = options.metrics
    ? [...options.metrics]
    : scoreNames(baseline).filter((n) => inCandidate.has(n));

  const caseIds: string[] = [];
  const seen = new Set<string>();
  for (const r of [...baseline, ...candidate]) {
    if (!seen.has(r.caseId)) {
      seen.add(r.caseId);
      caseIds.push(r.caseId);
    }
  }
  const cases = caseIds.map((caseId) => ({
    caseId,
    baseline: {} as Record<string, number | null>,
    candidate: {} as Record<string, number | null>,
    delta: {} as Record<string, number | null>,
  }));

  const raw = names.map((name) => {
    const b = caseMeans(baseline, name);
    const c = caseMeans(candidate, name);
    const deltas: number[] = [];
    const baseMeans: number[] = [];
    const candMeans: number[] = [];
    let binary = true;
    for (const row of cases) {
      const x = b.get(row.caseId);
      const y = c.get(row.caseId);
      row.baseline[name] = x?.mean ?? null;
      row.candidate[name] = y?.mean ?? null;
      row.delta[name] = x && y ? round12(y.mean - x.mean) : null;
      if (!x || !y) continue;
      baseMeans.push(x.mean);
      candMeans.push(y.mean);
      deltas.push(round12(y.mean - x.mean));
      binary &&= x.binary && y.binary && x.trials === 1 && y.trials === 1;
    }
    const pairs = deltas.length;
    let test: MetricComparison['test'] = 'wilcoxon';
    let pValue: number | null = null;
    if (pairs > 0 && binary) {
      test = 'mcnemar';
      pValue = mcnemar(deltas.filter((d) => d < 0).length, deltas.filter((d) => d > 0).length).pValue;
    } else if (pairs > 0) {
      pValue = wilcoxonSignedRank(deltas).pValue;
    }
    const ci = pairs >= 2 ? pairedBootstrapCI(deltas, options) : null;
    const sd = standardDeviation(deltas);
    return {
      name,
      pairs,
      baselineMean: pairs ? mean(baseMeans) : null,
      candidateMean: pairs ? mean(candMeans) : null,
      meanDelta: pairs ? mean(deltas) : null,
      ciLow: ci ? finiteOrNull(ci.low) : null,
      ciHigh: ci ? finiteOrNull(ci.high) : null,
      test,
      pValue,
      power:
        pairs >= 2
          ? { delta: powerDelta, casesNeeded: sd > 0 ? casesNeeded({ sd, delta: powerDelta, alpha }) : null }
          : null,
    };
  });

  const tested = raw.filter((m) => m.pValue !== null);
  const adjusted = holm(tested.map((m) => m.pValue as number));
  const metrics: MetricComparison[] = raw.map((m) => {
    const i = tested.indexOf(m);
    const adjustedPValue = i >= 0 ? (adjusted[i] as number) : null;
    let verdict: Verdict = 'no_significant_change';
    if (adjustedPValue !== null && adjustedPValue < alpha && m.meanDelta !== null && m.meanDelta !== 0) {
      verdict = m.meanDelta > 0 ? 'improved' : 'regressed';
    }
    return { ...m, adjustedPValue, verdict };
  });
  const verdict: Verdict = metrics.some((m) => m.verdict === 'regressed')
    ? 'regressed'
    : metrics.some((m) => m.verdict === 'improved')
      ? 'improved'
      : 'no_significant_change';
  return { alpha, verdict, metrics, cases };
}

/** Options of `detectDrift`. */
export interface DriftOptions {
  /** Significance level, 0.01 by default (drift checks run often). */
  alpha?: number;
  /** Treat values as pass/fail (two-proportion z test); by default, when every value is 0 or 1. */
  binary?: boolean;
  /** `drop` (default) tests only for recent scores being lower; `either` tests both ways. */
  direction?: 'drop' | 'either';
}

/** The outcome of a drift check. */
export interface DriftResult {
  test: 'mann_whitney' | 'two_proportion_z';
  /** Null when either window has no values. */
  pValue: number | null;
  referenceMean: number | null;
  recentMean: number | null;
  referenceN: number;
  recentN: number;
  drifted: boolean;
}

/**
 * Has a score drifted between a reference window and a recent one? Pass/fail scores use the
 * two-proportion z test, continuous ones the Mann–Whitney U test (tie-corrected normal
 * approximation, exact for small samples without ties). By default one-sided: it alarms only when
 * recent scores are lower.
 *
 * @example
 * const d = detectDrift(lastWeek, today, { alpha: 0.01 });
 * if (d.drifted) notify(`score fell from ${d.referenceMean} to ${d.recentMean} (p = ${d.pValue})`);
 */
export function detectDrift(
  reference: readonly number[],
  recent: readonly number[],
  options: DriftOptions = {},
): DriftResult {
  const alpha = options.alpha ?? 0.01;
  const ref = reference.filter(Number.isFinite);
  const rec = recent.filter(Number.isFinite);
  const binary = options.binary ?? [...ref, ...rec].every((v) => v === 0 || v === 1);
  const test = binary ? 'two_proportion_z' : 'mann_whitney';
  const base = { test, referenceN: ref.length, recentN: rec.length } as const;
  if (ref.length === 0 || rec.length === 0) {
    return {
      ...base,
      pValue: null,
      referenceMean: finiteOrNull(mean(ref)),
      recentMean: finiteOrNull(mean(rec)),
      drifted: false,
    };
  }
  const alternative = (options.direction ?? 'drop') === 'drop' ? 'less' : 'two-sided';
  const pValue = binary
    ? twoProportionZ(
        rec.filter((v) => v >= 0.5).length,
        rec.length,
        ref.filter((v) => v >= 0.5).length,
        ref.length,
        { alternative },
      ).pValue
    : mannWhitneyU(rec, ref, { alternative }).pValue;
  return { ...base, pValue, referenceMean: mean(ref), recentMean: mean(rec), drifted: pValue < alpha };
}
