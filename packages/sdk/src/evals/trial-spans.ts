import type { SpanKind, TraceSpan } from '@hangar/protocol';
import type { TrialSpan } from '@hangar/evals';
import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { addSpanTap } from '../tracing/span-tap.js';

/**
 * Gathers the spans of the trials in flight, by trace id: each trial is a trace of its own, so a
 * span ended under a trial's trace is that trial's. Spans of traces no trial waits for are ignored,
 * so memory is bounded by the trials running.
 */
export interface TrialSpanCollector {
  /** Starts collecting the trace's spans; `take` hands them over and stops. */
  begin(traceId: string): void;
  /** The trace's spans by span id, in the order they ended. */
  take(traceId: string): Map<string, TrialSpan>;
  close(): void;
}

export function createTrialSpanCollector(options: { exclude: (span: ReadableSpan) => boolean }): TrialSpanCollector {
  const open = new Map<string, Map<string, TrialSpan>>();
  const remove = addSpanTap((span) => {
    const spans = open.get(span.spanContext().traceId);
    if (spans && !options.exclude(span)) spans.set(span.spanContext().spanId, trialSpanOf(span));
  });
  return {
    begin(traceId) {
      open.set(traceId, new Map());
    },
    take(traceId) {
      const spans = open.get(traceId) ?? new Map<string, TrialSpan>();
      open.delete(traceId);
      return spans;
    },
    close: remove,
  };
}

const OPERATION_KINDS: Record<string, SpanKind> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  embeddings: 'embedding',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
};

const OPENINFERENCE_KINDS: Record<string, SpanKind> = {
  LLM: 'llm',
  EMBEDDING: 'embedding',
  TOOL: 'tool',
  AGENT: 'agent',
  CHAIN: 'chain',
  RETRIEVER: 'retriever',
  GUARDRAIL: 'guardrail',
  EVALUATOR: 'evaluator',
};

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The kind a span plays, from the GenAI, OpenInference and AI SDK conventions (as the server reads them). */
function kindOf(attrs: Attributes, name: string): SpanKind {
  const op = str(attrs['gen_ai.operation.name']);
  if (op && OPERATION_KINDS[op]) return OPERATION_KINDS[op];
  const oi = str(attrs['openinference.span.kind']);
  if (oi && OPENINFERENCE_KINDS[oi.toUpperCase()]) return OPENINFERENCE_KINDS[oi.toUpperCase()]!;
  if (name.startsWith('ai.toolCall') || str(attrs['gen_ai.tool.name'])) return 'tool';
  if (/^ai\.\w+\.do(Generate|Stream)$/.test(name)) return 'llm';
  if (name.startsWith('ai.embed')) return 'embedding';
  return 'other';
}

function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

const STATUS = ['unset', 'ok', 'error'] as const;

/** A locally ended span as a trajectory scorer sees it. */
export function trialSpanOf(span: ReadableSpan): TrialSpan {
  const attrs = span.attributes;
  const kind = kindOf(attrs, span.name);
  const start = span.startTime[0] * 1000 + span.startTime[1] / 1e6;
  return {
    name: span.name,
    kind,
    toolName: str(attrs['gen_ai.tool.name']) ?? str(attrs['ai.toolCall.name']) ?? str(attrs['tool.name']),
    toolArguments:
      kind === 'tool' ? parsedJson(attrs['gen_ai.tool.call.arguments'] ?? attrs['ai.toolCall.args'] ?? attrs['ai.toolCall.input']) : null,
    model: str(attrs['gen_ai.response.model']) ?? str(attrs['gen_ai.request.model']) ?? str(attrs['ai.model.id']),
    status: STATUS[span.status.code] ?? 'unset',
    startTime: start,
    durationMs: span.duration[0] * 1000 + span.duration[1] / 1e6,
    costMicros: null,
  };
}

/**
 * The trial's spans: the local ones, plus the gateway's spans of the same trace (fetched from the
 * server). A gateway span under a local model-call span (a wrapped client calling the gateway) is
 * the same call seen from the server: it lends that span its cost and model instead of counting twice.
 */
export function mergeTrialSpans(local: ReadonlyMap<string, TrialSpan>, server: readonly TraceSpan[]): TrialSpan[] {
  const byId = new Map([...local].map(([id, s]) => [id, { ...s }]));
  const out: TrialSpan[] = [];
  const absorbed = new Set<string>();
  for (const g of server) {
    if (g.source !== 'gateway') continue;
    const parent = g.parentSpanId ? byId.get(g.parentSpanId) : undefined;
    if (parent && (parent.kind === 'llm' || parent.kind === 'embedding') && !absorbed.has(g.parentSpanId!)) {
      absorbed.add(g.parentSpanId!);
      parent.costMicros = (parent.costMicros ?? 0) + (g.costMicros ?? 0);
      parent.model = g.model ?? parent.model;
      continue;
    }
    out.push({
      name: g.name,
      kind: g.kind,
      toolName: g.toolName,
      toolArguments: null,
      model: g.model,
      status: g.status,
      startTime: Date.parse(g.startTime),
      durationMs: g.durationMs,
      costMicros: g.costMicros,
    });
  }
  out.push(...byId.values());
  return out.sort((a, b) => a.startTime - b.startTime);
}
