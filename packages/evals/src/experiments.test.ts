import { describe, expect, it } from 'vitest';
import { type ScoredTrial, compareExperiments, detectDrift, summarizeScores } from './experiments.js';
import { seededRandom } from './stats/random.js';

/**
 * A simulated stochastic agent over `cases` cases: each case has a difficulty; each trial passes
 * with that case's probability (+ `shift`) and gets a continuous quality score around it.
 */
function simulateRun(
  next: () => number,
  difficulty: readonly number[],
  trials: number,
  shift = 0,
): ScoredTrial[] {
  const results: ScoredTrial[] = [];
  difficulty.forEach((p, i) => {
    for (let t = 0; t < trials; t++) {
      const pass = next() < Math.min(1, p + shift);
      const quality = Math.min(1, Math.max(0, p + shift + 0.15 * (next() + next() + next() - 1.5)));
      results.push({
        caseId: `case-${i}`,
        trial: t,
        scores: [
          { name: 'correct', value: pass ? 1 : 0, pass },
          { name: 'quality', value: quality },
        ],
      });
    }
  });
  return results;
}

describe('summarizeScores', () => {
  it('counts errors apart, gives pass rate and pass@k / pass^k per case', () => {
    const s = (caseId: string, trial: number, pass: boolean | null, error?: string): ScoredTrial => ({
      caseId,
      trial,
      scores: [{ name: 'ok', value: pass === null ? null : pass ? 1 : 0, pass, error: error ?? null }],
    });
    const [summary] = summarizeScores([
      s('a', 0, true),
      s('a', 1, true),
      s('a', 2, false),
      s('b', 0, false),
      s('b', 1, false),
      s('b', 2, null, 'judge timed out'),
    ]);
    expect(summary).toMatchObject({ name: 'ok', n: 5, errors: 1, passRate: 0.4 });
    expect(summary!.mean).toBeCloseTo(0.4, 12);
    // Case b has 2 usable trials, so k goes up to 2. pass@2: a → 1 − C(1,2)/C(3,2) = 1, b → 0.
    expect(summary!.passAtK).toEqual({ 1: (2 / 3 + 0) / 2, 2: 0.5 });
    expect(summary!.passHatK![2]).toBeCloseTo(1 / 3 / 2, 12);
    expect(summary!.ciLow).toBeLessThanOrEqual(summary!.mean!);
    expect(summary!.ciHigh).toBeGreaterThanOrEqual(summary!.mean!);
  });

  it('gives a continuous score no pass statistics, and a score that always errored no mean', () => {
    const [quality, judge] = summarizeScores([
      {
        caseId: 'a',
        trial: 0,
        scores: [
          { name: 'quality', value: 0.7 },
          { name: 'judge', value: null, error: 'unparsable verdict' },
        ],
      },
      {
        caseId: 'b',
        trial: 0,
        scores: [
          { name: 'quality', value: 0.9 },
          { name: 'judge', value: null, error: 'unparsable verdict' },
        ],
      },
    ]);
    expect(quality).toMatchObject({ n: 2, passRate: null });
    expect(quality!.mean).toBeCloseTo(0.8, 12);
    expect(quality!.passAtK).toBeUndefined();
    expect(judge).toEqual({
      name: 'judge',
      n: 0,
      errors: 2,
      mean: null,
      standardError: null,
      ciLow: null,
      ciHigh: null,
      passRate: null,
    });
  });
});

describe('compareExperiments', () => {
  const difficulty = (next: () => number, n: number) => Array.from({ length: n }, () => 0.15 + 0.7 * next());

  it('sees a real improvement and a real regression, pairing cases by id whatever their order', () => {
    const next = seededRandom(11);
    const d = difficulty(next, 120);
    const baseline = simulateRun(next, d, 3);
    const better = simulateRun(next, d, 3, 0.15).reverse();
    const up = compareExperiments(baseline, better);
    expect(up.verdict).toBe('improved');
    expect(up.metrics.map((m) => [m.name, m.test, m.verdict, m.pairs])).toEqual([
      ['correct', 'wilcoxon', 'improved', 120],
      ['quality', 'wilcoxon', 'improved', 120],
    ]);
    const quality = up.metrics[1]!;
    expect(quality.meanDelta).toBeGreaterThan(0.1);
    expect(quality.ciLow).toBeGreaterThan(0);
    expect(quality.adjustedPValue).toBeGreaterThanOrEqual(quality.pValue!);
    expect(quality.power).toMatchObject({ delta: 0.05 });
    expect(quality.power!.casesNeeded).toBeGreaterThan(1);
    expect(up.cases).toHaveLength(120);
    expect(up.cases[0]!.delta['quality']).toBeCloseTo(
      up.cases[0]!.candidate['quality']! - up.cases[0]!.baseline['quality']!,
      9,
    );

    const worse = compareExperiments(baseline, simulateRun(next, d, 3, -0.15));
    expect(worse.verdict).toBe('regressed');
  });

  it('uses McNemar for pass/fail with one trial, and compares only metrics both runs have', () => {
    const run = (passes: boolean[], extra: boolean): ScoredTrial[] =>
      passes.map((pass, i) => ({
        caseId: `c${i}`,
        trial: 0,
        scores: [
          { name: 'exact', value: pass ? 1 : 0, pass },
          ...(extra ? [{ name: 'judge', value: 0.5 }] : []),
        ],
      }));
    // 40 cases: 14 fixed by the candidate, 2 broken, the rest unchanged.
    const base = Array.from({ length: 40 }, (_, i) => i < 2 || i >= 16);
    const cand = Array.from({ length: 40 }, (_, i) => i >= 2);
    const cmp = compareExperiments(run(base, true), run(cand, false));
    expect(cmp.metrics).toHaveLength(1);
    expect(cmp.metrics[0]).toMatchObject({ name: 'exact', test: 'mcnemar', pairs: 40, verdict: 'improved' });
    expect(cmp.metrics[0]!.pValue).toBeCloseTo(0.0041809082, 8); // binomtest(2, 16, 0.5)
  });

  it('reports no pairs when the experiments share no case', () => {
    const one: ScoredTrial[] = [{ caseId: 'a', trial: 0, scores: [{ name: 'q', value: 1 }] }];
    const other: ScoredTrial[] = [{ caseId: 'b', trial: 0, scores: [{ name: 'q', value: 0 }] }];
    const cmp = compareExperiments(one, other);
    expect(cmp.verdict).toBe('no_significant_change');
    expect(cmp.metrics[0]).toMatchObject({ pairs: 0, pValue: null, meanDelta: null, power: null });
    expect(cmp.cases.map((c) => [c.caseId, c.delta['q']])).toEqual([
      ['a', null],
      ['b', null],
    ]);
  });

  it('does not fire on pure noise: two runs of the same agent, 100 times, false alarms near alpha', () => {
    const next = seededRandom(20261125);
    const alpha = 0.05;
    let alarms = 0;
    let rawRejections = 0;
    const repetitions = 100;
    for (let rep = 0; rep < repetitions; rep++) {
      const d = difficulty(next, 100);
      const cmp = compareExperiments(simulateRun(next, d, 3), simulateRun(next, d, 3), {
        alpha,
        resamples: 500,
        seed: rep,
      });
      if (cmp.verdict !== 'no_significant_change') alarms++;
      rawRejections += cmp.metrics.filter((m) => m.pValue! < alpha).length;
    }
    // Family-wise (Holm over two metrics): at most alpha in expectation; 0.12 is far outside the
    // binomial(100, 0.05) band. Per test, unadjusted: near alpha, neither broken nor over-conservative.
    expect(alarms / repetitions).toBeLessThanOrEqual(0.12);
    expect(rawRejections / (2 * repetitions)).toBeGreaterThan(0.01);
    expect(rawRejections / (2 * repetitions)).toBeLessThan(0.1);
  });
});

describe('detectDrift', () => {
  it('alarms on a drop in a continuous score, not on a rise or on noise (one-sided by default)', () => {
    const next = seededRandom(5);
    const sample = (n: number, centre: number) =>
      Array.from({ length: n }, () => centre + 0.2 * (next() - 0.5));
    const reference = sample(300, 0.8);
    const drop = detectDrift(reference, sample(60, 0.7));
    expect(drop).toMatchObject({ test: 'mann_whitney', drifted: true, referenceN: 300, recentN: 60 });
    expect(drop.recentMean).toBeLessThan(drop.referenceMean!);
    expect(detectDrift(reference, sample(60, 0.9)).drifted).toBe(false);
    expect(detectDrift(reference, sample(60, 0.9), { direction: 'either' }).drifted).toBe(true);
    expect(detectDrift(reference, sample(60, 0.8)).drifted).toBe(false);
  });

  it('uses the two-proportion z test for pass/fail scores and abstains on an empty window', () => {
    const ref = Array.from({ length: 500 }, (_, i) => (i % 10 < 9 ? 1 : 0));
    const recent = Array.from({ length: 100 }, (_, i) => (i % 10 < 7 ? 1 : 0));
    const d = detectDrift(ref, recent, { alpha: 0.01 });
    expect(d).toMatchObject({ test: 'two_proportion_z', drifted: true, referenceMean: 0.9, recentMean: 0.7 });
    expect(detectDrift(ref, [])).toMatchObject({ pValue: null, drifted: false, recentN: 0 });
  });
});
