import type { JudgeCall } from '@hangar/evals';
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

const verdict = (pass: boolean): SpanScoreOutcome => ({ value: pass ? 1 : 0, pass, error: null });

/** Scores one span with a rule's scorer. A scorer that fails gives an error and no value, never a 0. */
export async function scoreSpan(scorer: OnlineScorer, span: SpanView, judge: JudgeCall): Promise<SpanScoreOutcome> {
  try {
    switch (scorer.type) {
      case 'regex':
        return verdict(new RegExp(scorer.pattern, (scorer.flags ?? '').replace(/[gy]/g, '')).test(textOf(span.output)));
      case 'includes': {
        const text = textOf(span.output);
        return verdict(scorer.caseSensitive ? text.includes(scorer.text) : text.toLowerCase().includes(scorer.text.toLowerCase()));
      }
      case 'json_valid': {
        try {
          JSON.parse(textOf(span.output));
          return verdict(true);
        } catch {
          return verdict(false);
        }
      }
      case 'max_latency':
        return verdict(span.durationMs <= scorer.ms);
      case 'max_cost':
        return span.costMicros === null ? { value: null, pass: null, error: null } : verdict(span.costMicros <= scorer.micros);
      case 'llm_judge':
        return await judgeSpan(scorer, span, judge);
    }
  } catch (err) {
    return { value: null, pass: null, error: (err as Error).message.slice(0, 4000) };
  }
}

async function judgeSpan(scorer: Extract<OnlineScorer, { type: 'llm_judge' }>, span: SpanView, judge: JudgeCall): Promise<SpanScoreOutcome> {
  const { text } = await judge({
    model: scorer.model,
    messages: [
      {
        role: 'system',
        content:
          'You grade the output of an AI system against a rubric. Answer with JSON only: ' +
          '{"score": <a number from 0 to 1>, "reason": "<one sentence>"}.',
      },
      { role: 'user', content: `Rubric:\n${scorer.rubric}\n\nInput:\n${textOf(span.input)}\n\nOutput:\n${textOf(span.output)}` },
    ],
  });
  const match = /\{[\s\S]*\}/.exec(text);
  const parsed = match ? (JSON.parse(match[0]) as { score?: unknown }) : null;
  const score = typeof parsed?.score === 'number' ? parsed.score : Number.NaN;
  if (!(score >= 0 && score <= 1)) throw new Error(`the judge's answer has no score from 0 to 1: ${text.slice(0, 200)}`);
  return { value: score, pass: score >= (scorer.passThreshold ?? 0.5), error: null };
}
