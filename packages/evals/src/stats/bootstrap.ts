import { mean, quantileSorted, standardError } from './descriptive.js';
import { DEFAULT_SEED, randomIndex, seededRandom } from './random.js';

/** Options of every bootstrap here. */
export interface BootstrapOptions {
  /** Confidence level, 0.95 by default. */
  level?: number;
  /** Bootstrap resamples, 2000 by default. */
  resamples?: number;
  /** PRNG seed; the same data and seed always give the same interval. */
  seed?: number;
}

/** A point estimate with a confidence interval. */
export interface ConfidenceInterval {
  estimate: number;
  low: number;
  high: number;
  level: number;
}

function settings(options: BootstrapOptions): { level: number; resamples: number; seed: number } {
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 2000;
  if (!(level > 0 && level < 1)) throw new RangeError('level must be between 0 and 1');
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError('resamples must be a positive integer');
  return { level, resamples, seed: options.seed ?? DEFAULT_SEED };
}

function percentileInterval(estimate: number, draws: number[], level: number): ConfidenceInterval {
  draws.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { estimate, low: quantileSorted(draws, tail), high: quantileSorted(draws, 1 - tail), level };
}

/**
 * Percentile bootstrap CI of the mean of independent values (seeded, so reproducible).
 * NaN bounds for an empty list.
 *
 * @example
 * const ci = bootstrapCI([0.2, 0.4, 0.9, 0.7], { level: 0.95, seed: 1 });
 * ci.estimate; // 0.55; ci.low ≤ 0.55 ≤ ci.high
 */
export function bootstrapCI(values: readonly number[], options: BootstrapOptions = {}): ConfidenceInterval {
  return clusteredMeanCI(
    values.map((v) => [v]),
    options,
  );
}

/** A clustered mean with its cluster-robust standard error and cluster-bootstrap CI. */
export interface ClusteredMean extends ConfidenceInterval {
  /** Cluster-robust (CR1) standard error: equals s/√n when every cluster has one value. */
  standardError: number;
  /** Values and clusters that had at least one value. */
  n: number;
  clusters: number;
}

/**
 * Mean of trial values grouped by case, with a CI that respects that trials of one case are not
 * independent: the cluster bootstrap resamples whole cases, and the standard error is the
 * cluster-robust (CR1, G/(G−1)) one — as R's `sandwich::vcovCL(lm(y ~ 1), cluster = ~case)`.
 * The estimate is the mean over all trials (equal to the mean of case means when every case has
 * the same number of trials). Empty cases are ignored.
 *
 * @example
 * const r = clusteredMeanCI([[1, 1, 0], [0, 0, 0], [1, 1, 1]], { seed: 7 });
 * r.estimate; // 0.555…; r.standardError is larger than the naive s/√9
 */
export function clusteredMeanCI(
  byCase: readonly (readonly number[])[],
  options: BootstrapOptions = {},
): ClusteredMean {
  const { level, resamples, seed } = settings(options);
  const clusters = byCase.filter((c) => c.length > 0);
  const g = clusters.length;
  const sums = clusters.map((c) => c.reduce((a, b) => a + b, 0));
  const sizes = clusters.map((c) => c.length);
  const n = sizes.reduce((a, b) => a + b, 0);
  const estimate = n === 0 ? Number.NaN : sums.reduce((a, b) => a + b, 0) / n;
  if (g < 2)
    return { estimate, low: Number.NaN, high: Number.NaN, level, standardError: Number.NaN, n, clusters: g };

  let meat = 0;
  for (let i = 0; i < g; i++) {
    const score = (sums[i] as number) - (sizes[i] as number) * estimate;
    meat += score * score;
  }
  const se = Math.sqrt(((g / (g - 1)) * meat) / (n * n));

  const next = seededRandom(seed);
  const draws = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    let m = 0;
    for (let i = 0; i < g; i++) {
      const pick = randomIndex(next, g);
      s += sums[pick] as number;
      m += sizes[pick] as number;
    }
    draws[r] = s / m;
  }
  return { ...percentileInterval(estimate, draws, level), standardError: se, n, clusters: g };
}

/**
 * Paired bootstrap CI on the mean of per-case deltas (candidate − baseline): resampling cases keeps
 * each pair together, so the case-to-case spread both runs share cancels out.
 *
 * @example
 * const ci = pairedBootstrapCI([0.1, 0, 0.2, -0.05, 0.1], { seed: 3 });
 * ci.estimate; // 0.07
 */
export function pairedBootstrapCI(
  deltas: readonly number[],
  options: BootstrapOptions = {},
): ConfidenceInterval & { standardError: number } {
  const ci = bootstrapCI(deltas, options);
  return { ...ci, estimate: mean(deltas), standardError: standardError(deltas) };
}
