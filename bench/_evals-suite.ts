// The suite both sides of evals.bench.ts run: BENCH_CASES questions × BENCH_TRIALS trials, one model
// call each to the same scripted model (the fake provider, which answers "fake: <question>"), scored by
// "does the answer contain the expected text". One case in ten expects something else, so both
// runners must report the same pass count (a check that they ran the same suite).
import { positiveInt } from './bench-kit.js';

export const CASES = positiveInt('BENCH_CASES', 10_000);
export const TRIALS = positiveInt('BENCH_TRIALS', 5);
export const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 16);
export const MODEL = 'bench-scripted';

export interface SuiteCase {
  id: string;
  question: string;
  expected: string;
}

export function* suiteCases(): Generator<SuiteCase> {
  for (let i = 0; i < CASES; i++) {
    const question = `What is item ${i}?`;
    yield { id: `case-${i}`, question, expected: i % 10 === 9 ? `item ${i + 1}` : `item ${i}` };
  }
}

/** Trials that should pass: every trial of the cases whose expected text is in the answer. */
export const EXPECTED_PASSES = (CASES - Math.floor(CASES / 10)) * TRIALS;

/** What a side reports on its last line of stdout. */
export interface SideResult {
  side: string;
  trials: number;
  passed: number;
  seconds: number;
  maxRssMb: number;
  /** CPU time the runner process used, user + system. */
  cpuMs: number;
}

export function report(result: SideResult): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}
