import { rankWithTies } from './descriptive.js';
import { binomialHalfTwoSided, chiSquare1Sf, normalCdf, normalSf } from './distributions.js';

/** Which way a test looks: scipy's `alternative`. */
export type Alternative = 'two-sided' | 'less' | 'greater';

/** Result of the Wilcoxon signed-rank test. */
export interface WilcoxonResult {
  /** min(R+, R−), as scipy's two-sided statistic. */
  statistic: number;
  rPlus: number;
  rMinus: number;
  /** Non-zero deltas the test used (zeros are dropped: `zero_method='wilcox'`). */
  n: number;
  pValue: number;
  method: 'exact' | 'approx';
}

/**
 * Wilcoxon signed-rank test of paired deltas against a symmetric distribution around 0, two-sided.
 * Matches scipy `wilcoxon(d, zero_method='wilcox', correction=False, method=…)`: zeros dropped;
 * `exact` sums the exact null distribution of R+; `approx` is the normal approximation with the tie
 * correction Σ(t³ − t)/48. `auto` (default) uses exact for n ≤ 50 without zeros or ties, else approx
 * (scipy's auto also uses exact with ties, which is not valid). No non-zero delta → p = 1.
 *
 * @example
 * wilcoxonSignedRank([0.1, 0.3, -0.05, 0.2, 0.4]).pValue; // 0.125 (exact)
 */
export function wilcoxonSignedRank(
  deltas: readonly number[],
  options: { method?: 'auto' | 'exact' | 'approx' } = {},
): WilcoxonResult {
  const hasZeros = deltas.some((d) => d === 0);
  const nonZero = deltas.filter((d) => d !== 0 && Number.isFinite(d));
  const n = nonZero.length;
  const { ranks, tieSizes } = rankWithTies(nonZero.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  nonZero.forEach((d, i) => {
    if (d > 0) rPlus += ranks[i] as number;
    else rMinus += ranks[i] as number;
  });
  const statistic = Math.min(rPlus, rMinus);
  let method = options.method ?? 'auto';
  if (method === 'auto') method = n <= 50 && !hasZeros && tieSizes.length === 0 ? 'exact' : 'approx';
  if (n === 0) return { statistic, rPlus, rMinus, n, pValue: 1, method };

  if (method === 'exact') {
    // counts[s] = number of subsets of {1..n} whose rank sum is s.
    const max = (n * (n + 1)) / 2;
    let counts = new Float64Array(max + 1);
    counts[0] = 1;
    for (let k = 1; k <= n; k++) {
      const next = counts.slice();
      for (let s = k; s <= max; s++) next[s] = (next[s] as number) + (counts[s - k] as number);
      counts = next;
    }
    const total = 2 ** n;
    const r = Math.floor(rPlus);
    if (r === Math.floor(max / 2)) return { statistic, rPlus, rMinus, n, pValue: 1, method };
    let less = 0;
    for (let s = 0; s <= r; s++) less += counts[s] as number;
    let greater = 0;
    for (let s = r; s <= max; s++) greater += counts[s] as number;
    const pValue = Math.min(1, (2 * Math.min(less, greater)) / total);
    return { statistic, rPlus, rMinus, n, pValue, method };
  }

  const mn = (n * (n + 1)) / 4;
  let v = n * (n + 1) * (2 * n + 1);
  for (const t of tieSizes) v -= 0.5 * t * (t * t - 1);
  const se = Math.sqrt(v / 24);
  const z = se === 0 ? 0 : (statistic - mn) / se;
  return { statistic, rPlus, rMinus, n, pValue: Math.min(1, 2 * normalSf(Math.abs(z))), method };
}

/**
 * Sign test of paired deltas: zeros dropped, then an exact two-sided binomial test of the number of
 * positive deltas against p = 1/2 (scipy `binomtest(k, n, 0.5)`).
 *
 * @example
 * signTest([1, 1, 1, 1, 1, 1, 0, -1]).pValue; // 0.125
 */
export function signTest(deltas: readonly number[]): { positive: number; negative: number; pValue: number } {
  let positive = 0;
  let negative = 0;
  for (const d of deltas) {
    if (d > 0) positive++;
    else if (d < 0) negative++;
  }
  return { positive, negative, pValue: binomialHalfTwoSided(positive, positive + negative) };
}

/**
 * McNemar's test for paired pass/fail outcomes, from the discordant counts: `b` cases passed only in
 * the baseline, `c` only in the candidate. Exact (default): two-sided binomial test of b in b + c at
 * 1/2 (scipy `binomtest(b, b + c, 0.5)`, R `mcnemar.exact`). `exact: false`: χ² with continuity
 * correction (|b − c| − 1)²/(b + c), one degree of freedom (R `mcnemar.test`).
 *
 * @example
 * mcnemar(2, 10).pValue; // 0.0386
 */
export function mcnemar(
  b: number,
  c: number,
  options: { exact?: boolean } = {},
): { statistic: number; pValue: number; exact: boolean } {
  const exact = options.exact ?? true;
  if (exact) return { statistic: Math.min(b, c), pValue: binomialHalfTwoSided(b, b + c), exact };
  if (b + c === 0) return { statistic: 0, pValue: 1, exact };
  const statistic = (Math.abs(b - c) - 1) ** 2 / (b + c);
  return { statistic, pValue: chiSquare1Sf(statistic), exact };
}

/** Result of the Mann–Whitney U test. */
export interface MannWhitneyResult {
  /** U of the first sample (scipy's statistic). */
  u: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/**
 * Mann–Whitney U test of two independent samples (`alternative` says whether `a` is stochastically
 * less/greater than `b`). Matches scipy `mannwhitneyu(a, b, use_continuity=True, alternative=…,
 * method=…)`: `asymptotic` is the tie-corrected normal approximation with continuity correction;
 * `exact` is the exact null distribution (valid without ties); `auto` (default) is exact when one
 * sample has at most 8 values and there are no ties, as scipy, and also n1·n2 ≤ 2500 to bound its cost.
 *
 * @example
 * mannWhitneyU([0.9, 0.8, 0.85, 0.95], [0.5, 0.6, 0.4, 0.55]).pValue; // 0.0286 (exact)
 */
export function mannWhitneyU(
  a: readonly number[],
  b: readonly number[],
  options: { alternative?: Alternative; method?: 'auto' | 'exact' | 'asymptotic'; continuity?: boolean } = {},
): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs two non-empty samples');
  const alternative = options.alternative ?? 'two-sided';
  const { ranks, tieSizes } = rankWithTies([...a, ...b]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i] as number;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const [u, factor] =
    alternative === 'greater' ? [u1, 1] : alternative === 'less' ? [u2, 1] : [Math.max(u1, u2), 2];
  let method = options.method ?? 'auto';
  if (method === 'auto')
    method = Math.min(n1, n2) <= 8 && n1 * n2 <= 2500 && tieSizes.length === 0 ? 'exact' : 'asymptotic';

  let p: number;
  if (method === 'exact') {
    p = mannWhitneyExactSf(Math.ceil(u), n1, n2);
  } else {
    const n = n1 + n2;
    let tieTerm = 0;
    for (const t of tieSizes) tieTerm += t * t * t - t;
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
    const numerator = u - (n1 * n2) / 2 - ((options.continuity ?? true) ? 0.5 : 0);
    p = s === 0 ? (numerator > 0 ? 0 : 1) : normalSf(numerator / s);
  }
  return { u: u1, pValue: Math.min(1, Math.max(0, p * factor)), method };
}

/** P(U ≥ u) under the null, by the recurrence f(u; m, n) = f(u − n; m − 1, n) + f(u; m, n − 1). */
function mannWhitneyExactSf(u: number, m: number, n: number): number {
  const max = m * n;
  // table[j][s]: ways for sizes (i, j) as i grows; start with i = 0 (only s = 0).
  let table: Float64Array[] = Array.from({ length: n + 1 }, () => {
    const row = new Float64Array(max + 1);
    row[0] = 1;
    return row;
  });
  for (let i = 1; i <= m; i++) {
    const next: Float64Array[] = [];
    const first = new Float64Array(max + 1);
    first[0] = 1;
    next.push(first);
    for (let j = 1; j <= n; j++) {
      const row = new Float64Array(max + 1);
      const withI = table[j] as Float64Array; // (i − 1, j): the largest value is from sample one
      const withJ = next[j - 1] as Float64Array; // (i, j − 1)
      for (let s = 0; s <= max; s++) row[s] = (withJ[s] as number) + (s >= j ? (withI[s - j] as number) : 0);
      next.push(row);
    }
    table = next;
  }
  const counts = table[n] as Float64Array;
  let total = 0;
  let tail = 0;
  for (let s = 0; s <= max; s++) {
    total += counts[s] as number;
    if (s >= u) tail += counts[s] as number;
  }
  return tail / total;
}

/**
 * Two-proportion z test with the pooled standard error (R `prop.test(c(x1, x2), c(n1, n2),
 * correct = FALSE)`, whose χ² is z²). `alternative: 'less'` tests p1 < p2.
 *
 * @example
 * twoProportionZ(30, 100, 45, 100).pValue; // 0.0285
 */
export function twoProportionZ(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  options: { alternative?: Alternative } = {},
): { z: number; pValue: number; p1: number; p2: number } {
  if (n1 <= 0 || n2 <= 0) throw new RangeError('twoProportionZ needs two non-empty samples');
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (p1 - p2) / se;
  const alternative = options.alternative ?? 'two-sided';
  const pValue =
    alternative === 'less'
      ? normalCdf(z)
      : alternative === 'greater'
        ? normalSf(z)
        : Math.min(1, 2 * normalSf(Math.abs(z)));
  return { z, pValue, p1, p2 };
}

/**
 * Holm's step-down adjustment of p-values for testing several hypotheses at once (R
 * `p.adjust(p, 'holm')`): controls the chance of any false alarm at alpha. Order is kept.
 *
 * @example
 * holm([0.01, 0.04, 0.03]); // [0.03, 0.06, 0.06]
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
