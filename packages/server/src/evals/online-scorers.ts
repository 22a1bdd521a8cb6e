import { costCeiling, includes, jsonValid, latencyCeiling, llmJudge, regex, runScorer, type JudgeCall, type Scorer } from '@hangar/evals';
import type { OnlineScorer } from '@hangar/protocol';

/** What a server-side scorer sees of a production span. */
export interface SpanView {
  /** The span's input messages (or value) as stored. */
  input: unknown;
  /** The span's output messages (or value) as stored. */
  output: unknown;
  durationMs: number;
  costMicros: number | null;
}

export interface SpanScoreOutcome {
  value: number | null;
  pass: boolean | null;
  error: string | null;
}

/** The text of stored messages: message contents (strings or text parts) joined, else the JSON. */
export function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  const parts = (v: unknown): string[] => {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.flatMap(parts);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('content' in o) return parts(o.content);
      if ('parts' in o) return parts(o.parts);
      if (typeof o.text === 'string') return [o.text];
    }
    return [];
  };
  const found = parts(value);
  return found.length ? found.join('\n') : JSON.stringify(value);
}

/** Outputs longer than this are scored on their first characters (bounds a regex's work). */
const MAX_TEXT = 100_000;

/** The @hangar/evals scorer a rule's scorer config stands for. */
function scorerFor(config: OnlineScorer, judge: JudgeCall): Scorer {
  switch (config.type) {
    case 'regex':
      return regex(config.pattern, { flags: config.flags });
    case 'includes':
      return includes(config.text, { caseSensitive: config.caseSensitive ?? false });
    case 'json_valid':
      return jsonValid({ schema: config.schema });
    case 'max_latency':
      return latencyCeiling(config.ms);
    case 'max_cost':
      return costCeiling(config.micros);
    case 'llm_judge':
      return llmJudge({ call: judge, model: config.model, rubric: config.rubric, passThreshold: config.passThreshold });
  }
}

// Built scorers without a judge, by config: a JSON Schema is compiled once, not per span.
const built = new Map<string, Scorer>();

function cachedScorer(config: OnlineScorer, judge: JudgeCall): Scorer {
  if (config.type === 'llm_judge') return scorerFor(config, judge);
  const key = JSON.stringify(config);
  let s = built.get(key);
  if (!s) {
    s = scorerFor(config, judge);
    if (built.size >= 1000) built.delete(built.keys().next().value!);
    built.set(key, s);
  }
  return s;
}

/** Throws when a scorer config cannot be built (a regex or JSON Schema that does not compile). */
export function checkScorer(config: OnlineScorer): void {
  scorerFor(config, () => Promise.reject(new Error('not called')));
}

/**
 * Scores one span with a rule's scorer, on the text of its messages. A scorer that fails (a judge
 * without a verdict) gives an error and no value, never a 0; a cost ceiling on a span without a cost
 * abstains.
 */
export async function scoreSpan(config: OnlineScorer, span: SpanView, judge: JudgeCall): Promise<SpanScoreOutcome> {
  if (config.type === 'max_cost' && span.costMicros === null) return { value: null, pass: null, error: null };
  let s: Scorer;
  try {
    s = cachedScorer(config, judge);
  } catch (err) {
    return { value: null, pass: null, error: (err as Error).message.slice(0, 4000) };
  }
  const record = await runScorer(s, {
    input: textOf(span.input).slice(0, MAX_TEXT),
    output: textOf(span.output).slice(0, MAX_TEXT),
    expected: undefined,
    metadata: {},
    spans: [],
    durationMs: span.durationMs,
    costMicros: span.costMicros ?? 0,
  });
  return { value: record.value, pass: record.pass, error: record.error };
}
