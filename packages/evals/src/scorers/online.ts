import type { OnlineScorer } from '@hangar/protocol';
import type { JudgeCall, Scorer } from '../types.js';
import { llmJudge } from './semantic.js';
import { includes, jsonValid, regex } from './text.js';
import { costCeiling, latencyCeiling } from './trajectory.js';

/**
 * The scorer an online eval rule's configuration (protocol `OnlineScorer`) describes, so the server
 * scores production spans with the same code as offline evals. `llm_judge` needs a `judge` call;
 * without one it throws here.
 *
 * @example
 * const s = fromOnlineScorer({ type: 'regex', pattern: '^\\{' }, { name: rule.name });
 * const record = await runScorer(s, spanContext);
 */
export function fromOnlineScorer(
  config: OnlineScorer,
  options: { name?: string; judge?: JudgeCall } = {},
): Scorer {
  const { name } = options;
  switch (config.type) {
    case 'regex':
      return regex(config.pattern, { flags: config.flags, name });
    case 'includes':
      return includes(config.text, { caseSensitive: config.caseSensitive, name });
    case 'json_valid':
      return jsonValid({ schema: config.schema, name });
    case 'max_latency':
      return latencyCeiling(config.ms, { name });
    case 'max_cost':
      return costCeiling(config.micros, { name });
    case 'llm_judge':
      if (!options.judge) throw new Error('an llm_judge online scorer needs a judge call');
      return llmJudge({
        call: options.judge,
        model: config.model,
        rubric: config.rubric,
        passThreshold: config.passThreshold,
        name,
      });
  }
}
