import { describe, expect, it } from 'vitest';
import { sortByWorstDelta } from './comparison.js';
import { histogram } from './score-charts.js';

describe('histogram', () => {
  it('puts the top edge in the last bin and clamps nothing else away', () => {
    expect(histogram([0, 0.05, 0.1, 0.55, 0.99, 1], 0, 1, 10)).toEqual([2, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(histogram([], 0, 1, 4)).toEqual([0, 0, 0, 0]);
  });
});

describe('sortByWorstDelta', () => {
  const row = (caseId: string, d: number | null) => ({
    caseId,
    baseline: {},
    candidate: {},
    delta: { exact: d },
  });
  it('orders by the delta, worst first, then case ids in natural order; missing deltas last', () => {
    const sorted = sortByWorstDelta(
      [row('c10', -1), row('c2', null), row('c9', -1), row('c1', 0.5), row('c3', -0.2)],
      'exact',
    );
    expect(sorted.map((r) => r.caseId)).toEqual(['c9', 'c10', 'c3', 'c1', 'c2']);
  });
});
