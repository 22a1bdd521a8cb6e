/**
 * Cohen's κ for two raters labelling the same items (unweighted, R `irr::kappa2`): agreement beyond
 * what the raters' label frequencies give by chance. Null when chance agreement is already 1 (one
 * label used throughout) or there are no items. Items where either label is null are dropped.
 *
 * @example
 * cohensKappa(['pass', 'pass', 'fail', 'fail'], ['pass', 'fail', 'fail', 'fail']); // 0.5
 */
export function cohensKappa<T extends string | number | boolean>(
  a: readonly (T | null)[],
  b: readonly (T | null)[],
): number | null {
  if (a.length !== b.length) throw new RangeError('cohensKappa needs two ratings of the same items');
  const pairs: [T, T][] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x !== null && y !== null && y !== undefined) pairs.push([x, y]);
  });
  const n = pairs.length;
  if (n === 0) return null;
  const countA = new Map<T, number>();
  const countB = new Map<T, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree++;
    countA.set(x, (countA.get(x) ?? 0) + 1);
    countB.set(y, (countB.get(y) ?? 0) + 1);
  }
  let expected = 0;
  for (const [label, ca] of countA) expected += (ca / n) * ((countB.get(label) ?? 0) / n);
  if (expected >= 1) return null;
  return (agree / n - expected) / (1 - expected);
}

/**
 * Krippendorff's α (R `irr::kripp.alpha`): agreement among any number of raters, with missing
 * ratings (null). `ratings[unit][rater]`: one row per item, one column per rater (or per judge
 * re-run). `nominal` treats values as labels; `interval` uses squared differences. 1 is perfect
 * agreement, 0 is chance level. Null when fewer than two pairable values or no variation at all.
 *
 * @example
 * krippendorffAlpha([[1, 1], [0, 0], [1, 0]], 'nominal'); // 0.4444…
 */
export function krippendorffAlpha(
  ratings: readonly (readonly (number | null)[])[],
  level: 'nominal' | 'interval',
): number | null {
  // Only units with at least two values are pairable.
  const units = ratings
    .map((row) => row.filter((v): v is number => v !== null && Number.isFinite(v)))
    .filter((row) => row.length >= 2);
  const all = units.flat();
  const n = all.length;
  if (n < 2) return null;
  // Σ over ordered pairs i ≠ j of δ²(v_i, v_j).
  const pairSum = (values: readonly number[]): number => {
    const m = values.length;
    if (level === 'interval') {
      if (m <= 64) {
        // Directly, so a unit whose raters agree contributes exactly 0.
        let s = 0;
        for (let i = 0; i < m; i++)
          for (let j = i + 1; j < m; j++) s += ((values[i] as number) - (values[j] as number)) ** 2;
        return 2 * s;
      }
      const centre = values.reduce((a, b) => a + b, 0) / m;
      let ss = 0;
      for (const v of values) ss += (v - centre) ** 2;
      return 2 * m * ss;
    }
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    let same = 0;
    for (const c of counts.values()) same += c * c;
    return m * m - same;
  };
  let observed = 0;
  for (const unit of units) observed += pairSum(unit) / (unit.length - 1);
  observed /= n;
  const expected = pairSum(all) / (n * (n - 1));
  if (expected === 0) return null;
  return 1 - observed / expected;
}
