/** The seed every bootstrap uses unless told otherwise, so the same data gives the same CI. */
export const DEFAULT_SEED = 0x5eed;

/**
 * A small seeded PRNG (mulberry32): uniform floats in [0, 1). Bootstraps use it instead of
 * `Math.random()` so a CI is reproducible from its inputs and seed.
 *
 * @example
 * const next = seededRandom(42);
 * next(); // same number every run for seed 42
 */
export function seededRandom(seed: number = DEFAULT_SEED): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomIndex(next: () => number, n: number): number {
  return Math.floor(next() * n);
}
