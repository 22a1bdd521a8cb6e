import type { Score } from '@hangar/protocol';
import type { Scorer, ScorerContext } from '@hangar/evals';

/** Runs one scorer on one trial: a number or boolean becomes an outcome; a throw becomes an error score, never a 0. */
export async function runScorer<I, O, E>(scorer: Scorer<I, O, E>, ctx: ScorerContext<I, O, E>): Promise<Score> {
  try {
    const out = await scorer.score(ctx);
    if (typeof out === 'boolean') return { name: scorer.name, value: out ? 1 : 0, pass: out };
    if (typeof out === 'number') {
      if (!Number.isFinite(out)) return { name: scorer.name, value: null, error: `scorer returned ${out}` };
      return { name: scorer.name, value: out };
    }
    if (out.value !== null && !Number.isFinite(out.value)) return { name: out.name, value: null, error: `scorer returned ${out.value}` };
    return { name: out.name, value: out.value, ...(out.pass === undefined ? {} : { pass: out.pass }), ...(out.metadata ? { metadata: out.metadata as Score['metadata'] } : {}) };
  } catch (error) {
    return { name: scorer.name, value: null, error: (error instanceof Error ? error.message : String(error)).slice(0, 4000) };
  }
}
