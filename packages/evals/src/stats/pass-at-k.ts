function check(n: number, c: number, k: number): void {
  if (
    !Number.isInteger(n) ||
    !Number.isInteger(c) ||
    !Number.isInteger(k) ||
    n < 0 ||
    c < 0 ||
    c > n ||
    k < 1 ||
    k > n
  ) {
    throw new RangeError(`need integers 0 ≤ c ≤ n and 1 ≤ k ≤ n (got n=${n}, c=${c}, k=${k})`);
  }
}

/**
 * Unbiased pass@k of Chen et al. (2021): the chance that at least one of k trials drawn without
 * replacement from n trials, c of which passed, passes: 1 − C(n − c, k)/C(n, k), computed as a
 * stable product.
 *
 * @example
 * passAtK(10, 3, 1); // 0.3
 * passAtK(10, 3, 5); // 0.9166…
 */
export function passAtK(n: number, c: number, k: number): number {
  check(n, c, k);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * Unbiased pass^k (τ-bench; the same estimator turned around): the chance that all k trials drawn
 * without replacement from n trials, c of which passed, pass: C(c, k)/C(n, k).
 *
 * @example
 * passHatK(10, 7, 2); // 0.4666…
 */
export function passHatK(n: number, c: number, k: number): number {
  check(n, c, k);
  if (c < k) return 0;
  let all = 1;
  for (let i = 0; i < k; i++) all *= (c - i) / (n - i);
  return all;
}
