import { normalQuantile } from './distributions.js';

/** What `casesNeeded` needs. */
export interface CasesNeededOptions {
  /** Standard deviation of the per-case deltas (or of the per-case scores, for one run). */
  sd: number;
  /** The smallest change in the mean you want to detect. */
  delta: number;
  /** Two-sided significance level, 0.05 by default. */
  alpha?: number;
  /** Chance of detecting a true change of `delta`, 0.8 by default. */
  power?: number;
}

/**
 * Cases needed for a paired comparison to detect a mean change of `delta`: n = ((z₁₋α/₂ + z_power)·sd/δ)²,
 * rounded up (the normal approximation of the paired t test; Wilcoxon needs about 5 % more on
 * normal data). A power hint, not a guarantee: `sd` is itself estimated.
 *
 * @example
 * casesNeeded({ sd: 0.2, delta: 0.05 }); // 126
 */
export function casesNeeded(options: CasesNeededOptions): number {
  const { sd, delta } = options;
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  if (!(sd >= 0) || !(Math.abs(delta) > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) {
    throw new RangeError('casesNeeded needs sd ≥ 0, delta ≠ 0, and alpha and power between 0 and 1');
  }
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.max(2, Math.ceil(((z * sd) / Math.abs(delta)) ** 2));
}
