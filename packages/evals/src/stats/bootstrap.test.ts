import { describe, expect, it } from 'vitest';
import { bootstrapCI, clusteredMeanCI, pairedBootstrapCI } from './bootstrap.js';
import { standardError } from './descriptive.js';
import { seededRandom } from './random.js';

function normals(n: number, seed: number, sd = 1): number[] {
  const next = seededRandom(seed);
  return Array.from(
    { length: n },
    () => sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  );
}

describe('bootstrap confidence intervals', () => {
  it('contain the point estimate and are reproducible from the seed', () => {
    const values = normals(50, 1).map((x) => 0.6 + 0.1 * x);
    const a = bootstrapCI(values, { seed: 9 });
    expect(a.low).toBeLessThan(a.estimate);
    expect(a.high).toBeGreaterThan(a.estimate);
    expect(bootstrapCI(values, { seed: 9 })).toEqual(a);
    expect(bootstrapCI(values, { seed: 10 }).low).not.toBe(a.low);
    expect(bootstrapCI(values)).toEqual(bootstrapCI(values));
  });

  it('on a large sample are about as wide as the normal CI', () => {
    const values = normals(2000, 2);
    const ci = bootstrapCI(values, { resamples: 4000 });
    const analytic = 2 * 1.959964 * standardError(values);
    expect((ci.high - ci.low) / analytic).toBeGreaterThan(0.93);
    expect((ci.high - ci.low) / analytic).toBeLessThan(1.07);
    const narrow = bootstrapCI(values, { level: 0.5 });
    expect(narrow.high - narrow.low).toBeLessThan((ci.high - ci.low) / 2);
  });

  it('are wider clustered than naive when trials of a case are correlated', () => {
    // 80 cases whose difficulty varies a lot, 5 trials each that vary little around it.
    const caseEffects = normals(80, 3, 0.3);
    const noise = normals(400, 4, 0.05);
    const byCase = caseEffects.map((e, i) => noise.slice(i * 5, i * 5 + 5).map((x) => 0.5 + e + x));
    const clustered = clusteredMeanCI(byCase);
    const naive = bootstrapCI(byCase.flat());
    expect(clustered.estimate).toBeCloseTo(naive.estimate, 12);
    expect(clustered.high - clustered.low).toBeGreaterThan(1.8 * (naive.high - naive.low));
    expect(clustered.standardError).toBeGreaterThan(1.8 * standardError(byCase.flat()));
    // …and the cluster bootstrap agrees with the cluster-robust standard error.
    expect((clustered.high - clustered.low) / (2 * 1.959964 * clustered.standardError)).toBeGreaterThan(0.85);
    expect((clustered.high - clustered.low) / (2 * 1.959964 * clustered.standardError)).toBeLessThan(1.15);
  });

  it('equal the plain bootstrap when every case has one trial, and give NaN bounds below two cases', () => {
    const values = normals(30, 5);
    const clustered = clusteredMeanCI(values.map((v) => [v]));
    expect(clustered.low).toBe(bootstrapCI(values).low);
    expect(clustered.standardError).toBeCloseTo(standardError(values), 12);
    expect(clusteredMeanCI([[0.5, 0.7]]).low).toBeNaN();
    expect(clusteredMeanCI([]).estimate).toBeNaN();
  });

  it('paired: the CI of the mean delta excludes 0 for a consistent gain and not for noise', () => {
    const gain = normals(60, 6, 0.05).map((x) => 0.05 + x);
    const ci = pairedBootstrapCI(gain);
    expect(ci.low).toBeGreaterThan(0);
    const noise = pairedBootstrapCI(normals(60, 7, 0.05));
    expect(noise.low).toBeLessThan(0);
    expect(noise.high).toBeGreaterThan(0);
  });
});
