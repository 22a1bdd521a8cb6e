import { OnlineScorer } from '@hangar/protocol';
import { describe, expect, it } from 'vitest';
import type { ScorerContext } from '../types.js';
import { fromOnlineScorer } from './online.js';
import { runScorer } from './run-scorer.js';

const span = (output: unknown, durationMs = 800, costMicros = 500): ScorerContext => ({
  input: null,
  output,
  expected: undefined,
  metadata: {},
  spans: [],
  durationMs,
  costMicros,
});

describe('fromOnlineScorer', () => {
  it('scores a production span the way each rule configuration says', async () => {
    const run = async (config: unknown, ctx: ScorerContext) =>
      (await runScorer(fromOnlineScorer(OnlineScorer.parse(config)), ctx)).pass;
    expect(await run({ type: 'regex', pattern: '^order \\d+$', flags: 'i' }, span('ORDER 12'))).toBe(true);
    expect(await run({ type: 'includes', text: 'sorry', caseSensitive: false }, span('We are SORRY'))).toBe(
      true,
    );
    expect(await run({ type: 'json_valid', schema: { type: 'array' } }, span('{"a":1}'))).toBe(false);
    expect(await run({ type: 'max_latency', ms: 500 }, span('x'))).toBe(false);
    expect(await run({ type: 'max_cost', micros: 500 }, span('x'))).toBe(true);
  });

  it('needs a judge call for llm_judge and uses it', async () => {
    const config = OnlineScorer.parse({
      type: 'llm_judge',
      model: 'judge',
      rubric: 'Polite?',
      passThreshold: 0.7,
    });
    expect(() => fromOnlineScorer(config)).toThrow(/judge call/);
    const s = fromOnlineScorer(config, {
      name: 'politeness',
      judge: async () => ({ text: '{"score": 0.6, "pass": true}' }),
    });
    expect(await runScorer(s, span('hi'))).toMatchObject({ name: 'politeness', value: 0.6, pass: false });
  });
});
