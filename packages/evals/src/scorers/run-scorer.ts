import type { Scorer, ScorerContext, ScoreOutcome } from '../types.js';

/** A scorer's result as the runner records it (a protocol `Score`). */
export interface ScoreRecord {
  name: string;
  /** Null when the scorer threw or abstained — never a silent 0. */
  value: number | null;
  pass: boolean | null;
  error: string | null;
  metadata?: Record<string, unknown>;
}

/**
 * A custom code scorer from a function. Return a boolean (pass/fail: 1 or 0), a number (the value,
 * usually 0..1), or a full outcome; throw to record an error.
 *
 * @example
 * const short = scorer('short', ({ output }) => String(output).length <= 280);
 */
export function scorer<Input = unknown, Output = unknown, Expected = unknown>(
  name: string,
  fn: Scorer<Input, Output, Expected>['score'],
  options: { usesTrace?: boolean } = {},
): Scorer<Input, Output, Expected> {
  if (!name.trim()) throw new TypeError('a scorer needs a name');
  return { name, usesTrace: options.usesTrace ?? false, score: fn };
}

const MAX_ERROR = 4000;

/**
 * Runs one scorer on one trial and normalizes what it returns: a boolean becomes value 1/0 with
 * `pass`, a number becomes the value, an outcome is checked; a throw or a non-finite value becomes
 * `{ value: null, error }`, so a broken scorer is visible as an error and never counts as a 0.
 *
 * @example
 * const record = await runScorer(exact(), { input: 'q', output: 'Paris', expected: 'Paris', metadata: {}, spans: [], durationMs: 5, costMicros: 0 });
 * record; // { name: 'exact', value: 1, pass: true, error: null, metadata: undefined }
 */
export async function runScorer<Input, Output, Expected>(
  s: Scorer<Input, Output, Expected>,
  ctx: ScorerContext<Input, Output, Expected>,
): Promise<ScoreRecord> {
  let result: ScoreOutcome | number | boolean;
  try {
    result = await s.score(ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message || error.name : String(error);
    return { name: s.name, value: null, pass: null, error: message.slice(0, MAX_ERROR) };
  }
  const fail = (error: string): ScoreRecord => ({ name: s.name, value: null, pass: null, error });
  if (typeof result === 'boolean') return { name: s.name, value: result ? 1 : 0, pass: result, error: null };
  if (typeof result === 'number') {
    return Number.isFinite(result)
      ? { name: s.name, value: result, pass: null, error: null }
      : fail(`scorer returned ${result}`);
  }
  if (result === null || typeof result !== 'object')
    return fail(`scorer returned ${typeof result}, not a number, boolean or outcome`);
  if (result.value !== null && (typeof result.value !== 'number' || !Number.isFinite(result.value))) {
    return fail(`scorer returned value ${String(result.value)}`);
  }
  return {
    name: result.name || s.name,
    value: result.value,
    pass: typeof result.pass === 'boolean' ? result.pass : null,
    error: null,
    ...(result.metadata ? { metadata: result.metadata } : {}),
  };
}
