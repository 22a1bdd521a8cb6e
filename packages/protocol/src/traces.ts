import { z } from 'zod';
import { JsonValue, Timestamp } from './schemas.js';

/** What a span is, whichever convention its attributes followed (GenAI, OpenInference, AI SDK). */
export const SPAN_KINDS = ['llm', 'embedding', 'tool', 'agent', 'chain', 'retriever', 'guardrail', 'evaluator', 'other'] as const;
export const SpanKind = z.enum(SPAN_KINDS);
export type SpanKind = z.infer<typeof SpanKind>;

export const SpanStatus = z.enum(['unset', 'ok', 'error']);
export type SpanStatus = z.infer<typeof SpanStatus>;

/** Token counts; null where the source did not say. */
export const TokenUsage = z.object({
  input: z.number().int().nullable(),
  output: z.number().int().nullable(),
  cacheRead: z.number().int().nullable(),
  cacheWrite: z.number().int().nullable(),
  reasoning: z.number().int().nullable(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/** One chat message, as normalized from any convention. */
export const Message = z.object({
  role: z.string(),
  content: JsonValue.describe('text, or an array of parts'),
  toolCalls: z.array(z.object({ id: z.string().nullable(), name: z.string(), arguments: JsonValue })).optional(),
  toolCallId: z.string().optional(),
  name: z.string().optional(),
});
export type Message = z.infer<typeof Message>;

/** A normalized span, as stored and served. Money is integer micro-units (1 USD = 1,000,000). */
export const Span = z.object({
  traceId: z.string().describe('32 hex characters'),
  spanId: z.string().describe('16 hex characters'),
  parentSpanId: z.string().nullable(),
  name: z.string(),
  kind: SpanKind,
  status: SpanStatus,
  statusMessage: z.string().nullable(),
  errorType: z.string().nullable(),
  startTime: Timestamp,
  endTime: Timestamp,
  durationMs: z.number(),
  serviceName: z.string().nullable(),
  agent: z.string().nullable().describe('the agent (or key) the span is attributed to'),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  usage: TokenUsage,
  costMicros: z.number().int().nullable().describe("Hangar's cost from its price table"),
  providerCostMicros: z.number().int().nullable().describe('the cost the provider or instrumentation reported'),
  costDiffers: z.boolean().describe('both costs are known and differ'),
  toolName: z.string().nullable(),
  /** sha256 of the input messages / tool arguments (JSON) in the blob store. */
  inputSha256: z.string().nullable(),
  outputSha256: z.string().nullable(),
  attributes: z.record(z.string(), JsonValue),
  source: z.enum(['otlp', 'gateway', 'sdk']),
});
export type Span = z.infer<typeof Span>;
