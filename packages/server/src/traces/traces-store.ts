import type { Kysely, Selectable } from 'kysely';
import type { Span, SpanKind, SpanStatus } from '@hangar/protocol';
import { createBulkInsert } from '../db/bulk-insert.js';
import type { Database } from '../db/schema.js';

export type SpanRow = Selectable<Database['spans']>;

export function toSpanRow(projectId: string, s: Span): SpanRow {
  return {
    project_id: projectId,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    status: s.status,
    status_message: s.statusMessage,
    error_type: s.errorType,
    start_time: s.startTime,
    end_time: s.endTime,
    duration_ms: s.durationMs,
    service_name: s.serviceName,
    agent: s.agent,
    provider: s.provider,
    model: s.model,
    tokens_input: s.usage.input,
    tokens_output: s.usage.output,
    tokens_cache_read: s.usage.cacheRead,
    tokens_cache_write: s.usage.cacheWrite,
    tokens_reasoning: s.usage.reasoning,
    cost_micros: s.costMicros,
    provider_cost_micros: s.providerCostMicros,
    tool_name: s.toolName,
    input_sha256: s.inputSha256,
    output_sha256: s.outputSha256,
    attributes: JSON.stringify(s.attributes),
    source: s.source,
    ingested_at: new Date().toISOString(),
  };
}

export function toSpan(r: SpanRow): Span {
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    kind: r.kind as SpanKind,
    status: r.status as SpanStatus,
    statusMessage: r.status_message,
    errorType: r.error_type,
    startTime: r.start_time,
    endTime: r.end_time,
    durationMs: r.duration_ms,
    serviceName: r.service_name,
    agent: r.agent,
    provider: r.provider,
    model: r.model,
    usage: {
      input: r.tokens_input,
      output: r.tokens_output,
      cacheRead: r.tokens_cache_read,
      cacheWrite: r.tokens_cache_write,
      reasoning: r.tokens_reasoning,
    },
    costMicros: r.cost_micros,
    providerCostMicros: r.provider_cost_micros,
    costDiffers: r.cost_micros !== null && r.provider_cost_micros !== null && r.cost_micros !== r.provider_cost_micros,
    toolName: r.tool_name,
    inputSha256: r.input_sha256,
    outputSha256: r.output_sha256,
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    source: r.source as Span['source'],
  };
}

const INSERT_CHUNK = 200;

const insertRows = createBulkInsert<SpanRow>((db, rows) =>
  db
    .insertInto('spans')
    .values(rows)
    .onConflict((oc) => oc.columns(['project_id', 'trace_id', 'span_id']).doNothing()),
);

/** Spans, one row each, keyed by (project, trace, span). */
export function createTracesStore(db: Kysely<Database>) {
  return {
    /** Inserts spans; a span already stored (an exporter's retry) is left as it was. */
    async insertSpans(rows: SpanRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await insertRows(db, rows.slice(i, i + INSERT_CHUNK));
      }
    },

    async trace(projectId: string, traceId: string): Promise<SpanRow[]> {
      return db
        .selectFrom('spans')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('trace_id', '=', traceId)
        .orderBy('start_time')
        .execute();
    },
  };
}
