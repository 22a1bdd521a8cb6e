// Every statistic against values computed with scipy / statsmodels / scikit-learn; see
// fixtures/generate.py for which function and which variant each one is.
import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/stats-reference.json' with { type: 'json' };
import { cohensKappa, krippendorffAlpha } from './agreement.js';
import { clusteredMeanCI } from './bootstrap.js';
import { mean, standardError } from './descriptive.js';
import { normalCdf, normalQuantile, normalSf } from './distributions.js';
import {
  holm,
  mannWhitneyU,
  mcnemar,
  signTest,
  twoProportionZ,
  wilcoxonSignedRank,
} from './hypothesis-tests.js';
import { passAtK, passHatK } from './pass-at-k.js';
import { casesNeeded } from './power.js';

/** Within 1e-6, and within 1e-6 relative for small values (tiny p-values must be right too). */
function expectClose(actual: number | null, expected: number, what: string): void {
  expect(actual, what).not.toBeNull();
  const a = actual as number;
  const tolerance = Math.abs(expected) < 1e-3 ? 1e-6 * Math.abs(expected) : 1e-6;
  if (!(Math.abs(a - expected) <= tolerance)) expect.fail(`${what}: ${a} differs from reference ${expected}`);
}

describe('statistics match their reference values', () => {
  it('normal cdf, sf and quantile (scipy.stats.norm)', () => {
    const { z, cdf, sf, p, ppf } = reference.normal;
    z.forEach((x, i) => {
      expectClose(normalCdf(x), cdf[i] as number, `cdf(${x})`);
      expectClose(normalSf(x), sf[i] as number, `sf(${x})`);
    });
    p.forEach((x, i) => expectClose(normalQuantile(x), ppf[i] as number, `ppf(${x})`));
  });

  it('mean and standard error (scipy.stats.sem)', () => {
    for (const c of reference.sem) {
      expectClose(mean(c.values), c.mean, 'mean');
      expectClose(standardError(c.values), c.sem, `sem of ${c.values.length}`);
    }
  });

  it('cluster-robust standard error (statsmodels OLS cov_type=cluster)', () => {
    for (const c of reference.clustered) {
      const r = clusteredMeanCI(c.byCase, { resamples: 10 });
      expectClose(r.estimate, c.mean, 'clustered mean');
      expectClose(r.standardError, c.se, `clustered se of ${c.byCase.length} cases`);
    }
  });

  it('Wilcoxon signed-rank, exact and tie-corrected normal (scipy.stats.wilcoxon)', () => {
    for (const c of reference.wilcoxon) {
      const r = wilcoxonSignedRank(c.deltas, { method: c.method as 'exact' | 'approx' });
      expectClose(r.statistic, c.statistic, `wilcoxon ${c.method} statistic, n=${c.deltas.length}`);
      expectClose(r.pValue, c.pValue, `wilcoxon ${c.method} p, n=${c.deltas.length}`);
    }
  });

  it('sign test (scipy.stats.binomtest)', () => {
    for (const c of reference.sign) {
      const deltas = [...Array<number>(c.positive).fill(0.1), ...Array<number>(c.negative).fill(-0.2), 0, 0];
      expectClose(signTest(deltas).pValue, c.pValue, `sign ${c.positive}/${c.negative}`);
    }
  });

  it('McNemar, exact and χ² with continuity correction (statsmodels mcnemar)', () => {
    for (const c of reference.mcnemar) {
      expectClose(mcnemar(c.b, c.c).pValue, c.exactP, `mcnemar exact ${c.b}/${c.c}`);
      const chi = mcnemar(c.b, c.c, { exact: false });
      expectClose(chi.statistic, c.chi2, `mcnemar χ² ${c.b}/${c.c}`);
      expectClose(chi.pValue, c.chi2P, `mcnemar χ² p ${c.b}/${c.c}`);
    }
  });

  it('Mann–Whitney U, exact and asymptotic (scipy.stats.mannwhitneyu)', () => {
    for (const c of reference.mannWhitney) {
      const r = mannWhitneyU(c.a, c.b, {
        method: c.method as 'exact' | 'asymptotic',
        alternative: c.alternative as 'two-sided',
      });
      const what = `mann-whitney ${c.method} ${c.alternative} ${c.a.length}×${c.b.length}`;
      expectClose(r.u, c.u, `${what} U`);
      expectClose(r.pValue, c.pValue, `${what} p`);
    }
  });

  it('two-proportion z test (statsmodels proportions_ztest)', () => {
    for (const c of reference.twoProportion) {
      const r = twoProportionZ(c.x1, c.n1, c.x2, c.n2, {
        alternative: c.alternative as 'two-sided' | 'less',
      });
      expectClose(r.z, c.z, 'z');
      expectClose(r.pValue, c.pValue, `two-proportion ${c.alternative} p`);
    }
  });

  it('Holm adjustment (statsmodels multipletests)', () => {
    for (const c of reference.holm)
      holm(c.p).forEach((p, i) => expectClose(p, c.adjusted[i] as number, `holm ${c.p.join(',')}`));
  });

  it('pass@k and pass^k (exact rationals with math.comb)', () => {
    for (const c of reference.passAtK) {
      expectClose(passAtK(c.n, c.c, c.k), c.passAtK, `pass@${c.k} n=${c.n} c=${c.c}`);
      expectClose(passHatK(c.n, c.c, c.k), c.passHatK, `pass^${c.k} n=${c.n} c=${c.c}`);
    }
  });

  it('cases needed (statsmodels NormalIndPower, one sample)', () => {
    for (const c of reference.casesNeeded) {
      expect(casesNeeded({ sd: c.sd, delta: c.delta, alpha: c.alpha, power: c.power })).toBe(
        Math.max(2, c.casesNeeded),
      );
    }
  });

  it("Cohen's κ (sklearn cohen_kappa_score)", () => {
    for (const c of reference.cohensKappa)
      expectClose(cohensKappa<string | number>(c.a, c.b), c.kappa, `kappa of ${c.a.length}`);
  });

  it("Krippendorff's α, with missing ratings (Krippendorff 2011 and a coincidence-matrix implementation)", () => {
    for (const c of reference.krippendorff) {
      expectClose(
        krippendorffAlpha(c.ratings, c.level as 'nominal' | 'interval'),
        c.alpha,
        `α ${c.level} ${c.ratings.length} units`,
      );
    }
    // The worked example of the paper, as published.
    const [nominal, interval] = reference.krippendorff;
    expect(krippendorffAlpha(nominal!.ratings, 'nominal')).toBeCloseTo(0.743, 3);
    expect(krippendorffAlpha(interval!.ratings, 'interval')).toBeCloseTo(0.849, 3);
  });
});
