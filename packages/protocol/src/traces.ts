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

// ---------------------------------------------------------------------------------------------
// Querying: span search, the trace list, a trace as a tree, aggregates.

/**
 * What to look for. `from` and `to` (start times, `from` inclusive, `to` exclusive) are required;
 * every other filter narrows the result. On the HTTP API each attribute filter is a query parameter
 * `attr.<key>=<value>`; the SDK takes them as `attributes`.
 */
export const TraceFilter = z.object({
  from: Timestamp,
  to: Timestamp,
  agent: z.string().optional(),
  model: z.string().optional(),
  /** One kind, or several separated by commas on the wire. */
  kind: z.union([SpanKind, z.array(SpanKind)]).optional(),
  status: SpanStatus.optional(),
  minCostMicros: z.number().int().min(0).optional(),
  minDurationMs: z.number().min(0).optional(),
  /** Text in the span's name or tool name (case-insensitive substring). */
  name: z.string().optional(),
  /** Attribute equality, e.g. `{ 'gen_ai.request.model': 'gpt-4o' }`. */
  attributes: z.record(z.string(), z.string()).optional(),
});
export type TraceFilter = z.input<typeof TraceFilter>;

/** A page of a list; pass `nextCursor` back as `cursor` for the next one (null on the last page). */
export const SpanPage = z.object({ spans: z.array(Span), nextCursor: z.string().nullable() });
export type SpanPage = z.infer<typeof SpanPage>;

/** One row of the trace list. Totals are sums over every span of the trace. */
export const TraceSummary = z.object({
  traceId: z.string(),
  rootSpanId: z.string().describe('the earliest span of the trace'),
  rootName: z.string(),
  startTime: Timestamp,
  endTime: Timestamp,
  durationMs: z.number().describe('from the first span start to the last span end'),
  spanCount: z.number().int(),
  errorCount: z.number().int(),
  tokensInput: z.number().int(),
  tokensOutput: z.number().int(),
  totalTokens: z.number().int().describe('input + output tokens'),
  costMicros: z.number().int().describe('sum of the spans’ costs (spans without a cost count 0)'),
  agent: z.string().nullable().describe("the root span's agent, else the first agent seen"),
  models: z.array(z.string()),
});
export type TraceSummary = z.infer<typeof TraceSummary>;

export const TracePage = z.object({ traces: z.array(TraceSummary), nextCursor: z.string().nullable() });
export type TracePage = z.infer<typeof TracePage>;

/** A span in a trace tree: `depth` 0 for roots (spans whose parent is not in the trace). */
export const TraceSpan = Span.extend({ depth: z.number().int() });
export type TraceSpan = z.infer<typeof TraceSpan>;

/** A trace as a tree: spans in depth-first order (children by start time), each with its depth. */
export const TraceTree = z.object({
  traceId: z.string(),
  summary: TraceSummary,
  spans: z.array(TraceSpan),
  truncated: z.boolean().describe('the trace has more spans than the server returns at once'),
});
export type TraceTree = z.infer<typeof TraceTree>;

/** A span with its input and output (messages, tool arguments and result) read from the blob store. */
export const SpanDetail = Span.extend({
  input: JsonValue.describe('null when the span recorded none'),
  output: JsonValue.describe('null when the span recorded none'),
});
export type SpanDetail = z.infer<typeof SpanDetail>;

export const AGGREGATE_GROUPS = ['model', 'agent', 'day'] as const;
export const AggregateGroupBy = z.enum(AGGREGATE_GROUPS);
export type AggregateGroupBy = z.infer<typeof AggregateGroupBy>;

/** Totals of the spans in one group. Latency percentiles are nearest-rank over span durations. */
export const AggregateRow = z.object({
  key: z.string().nullable().describe('the model, agent or UTC day (YYYY-MM-DD); null for spans without one'),
  split: z
    .string()
    .nullable()
    .optional()
    .describe('with splitBy: the model, agent or day within the group (null for spans without one); absent otherwise'),
  calls: z.number().int().describe('spans in the group'),
  errors: z.number().int(),
  errorRate: z.number().describe('errors / calls'),
  costMicros: z.number().int(),
  tokensInput: z.number().int(),
  tokensOutput: z.number().int(),
  totalTokens: z.number().int(),
  p50DurationMs: z.number().nullable().describe('null when asked for without percentiles'),
  p95DurationMs: z.number().nullable(),
});
export type AggregateRow = z.infer<typeof AggregateRow>;

export const AggregateReport = z.object({
  groupBy: AggregateGroupBy,
  splitBy: AggregateGroupBy.optional().describe('present when the groups are split by a second dimension'),
  groups: z.array(AggregateRow),
});
export type AggregateReport = z.infer<typeof AggregateReport>;

/** One project's spans over a window: what they cost, how many, and their tokens. */
export const ProjectSpend = z.object({
  projectId: z.string(),
  projectName: z.string(),
  calls: z.number().int().describe('spans in the window (as `calls` of GET /v1/spans/aggregates)'),
  costMicros: z.number().int(),
  tokensInput: z.number().int(),
  tokensOutput: z.number().int(),
  totalTokens: z.number().int(),
});
export type ProjectSpend = z.infer<typeof ProjectSpend>;

/** One project's spans on one UTC day. */
export const ProjectDaySpend = ProjectSpend.omit({ projectName: true }).extend({
  day: z.string().describe('the UTC day, YYYY-MM-DD'),
});
export type ProjectDaySpend = z.infer<typeof ProjectDaySpend>;

/** Span costs of every project of the caller's organization over a window, per project and per day. */
export const OrganizationSpend = z.object({
  organization: z.object({ id: z.string(), name: z.string() }),
  from: z.string().describe('start of the window, inclusive (as stored: UTC, milliseconds)'),
  to: z.string().describe('end of the window, exclusive'),
  projects: z
    .array(ProjectSpend)
    .describe('every project of the organization, also those that spent nothing: by cost, then calls, most first, then by name'),
  days: z
    .array(ProjectDaySpend)
    .describe('one row per UTC day and project that had spans that day: days in order, within a day by cost, most first'),
});
export type OrganizationSpend = z.infer<typeof OrganizationSpend>;
