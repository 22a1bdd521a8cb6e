import type { SpanKind } from '@hangar/protocol';

/**
 * One span of a trial's trace, as a trajectory scorer sees it. The runner builds these from the
 * trial's spans (local SDK spans and the gateway's spans of the same trace).
 */
export interface TrialSpan {
  name: string;
  kind: SpanKind;
  toolName: string | null;
  /** Parsed tool arguments, or null when the span is not a tool call or they were not recorded. */
  toolArguments: unknown;
  model: string | null;
  status: 'unset' | 'ok' | 'error';
  /** Milliseconds since the epoch. */
  startTime: number;
  durationMs: number;
  costMicros: number | null;
}

/** What a scorer is given for one trial. */
export interface ScorerContext<Input = unknown, Output = unknown, Expected = unknown> {
  input: Input;
  output: Output;
  expected: Expected | undefined;
  metadata: Record<string, unknown>;
  /** The trial's spans in start order; empty unless the scorer sets `usesTrace`. */
  spans: readonly TrialSpan[];
  /** Wall time of the task and its cost so far, for latency and cost ceilings. */
  durationMs: number;
  costMicros: number;
}

/** A scorer's verdict. `value` is usually in 0..1; null means abstained. */
export interface ScoreOutcome {
  name: string;
  value: number | null;
  pass?: boolean | null;
  metadata?: Record<string, unknown>;
}

/**
 * A scorer: a name and a function. It may return a full outcome, a number (the value) or a boolean
 * (pass/fail, value 1 or 0). If it throws, the runner records an error for this score — never a 0.
 */
export interface Scorer<Input = unknown, Output = unknown, Expected = unknown> {
  readonly name: string;
  /** Set when the scorer reads `spans`; the runner then collects the trial's trace before scoring. */
  readonly usesTrace?: boolean;
  score(ctx: ScorerContext<Input, Output, Expected>): ScoreOutcome | number | boolean | Promise<ScoreOutcome | number | boolean>;
}

/** How an LLM judge reaches a model: any provider, normally through Hangar's gateway. */
export type JudgeCall = (request: {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
}) => Promise<{ text: string; costMicros?: number }>;

/** How an embedding scorer embeds text (normally through the gateway's /v1/embeddings). */
export type EmbedCall = (request: { model: string; input: string[] }) => Promise<number[][]>;
