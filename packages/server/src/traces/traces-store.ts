import type { Kysely, Selectable } from 'kysely';
import type { Span, SpanKind, SpanStatus } from '@hangar/protocol';
import { createBulkInsert } from '../db/bulk-insert.js';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { traceSummaryValues, upsertTraceSummaries } from './trace-summaries-store.js';

export type SpanRow = Selectable<Database['spans']>;

/** The columns of a span row, in the order `spanRowValues` gives them. */
const SPAN_COLUMNS = [
  'project_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'status',
  'status_message',
  'error_type',
  'start_time',
  'end_time',
  'duration_ms',
  'service_name',
  'agent',
  'provider',
  'model',
  'tokens_input',
  'tokens_output',
  'tokens_cache_read',
  'tokens_cache_write',
  'tokens_reasoning',
  'cost_micros',
  'provider_cost_micros',
  'tool_name',
  'input_sha256',
  'output_sha256',
  'attributes',
  'source',
  'ingested_at',
] as const satisfies ReadonlyArray<keyof SpanRow>;

/**
 * A span's row as values in SPAN_COLUMNS order: what ingest inserts (no object per row).
 * `ingestedAt` orders spans for the online-eval worker's cursor; pass one time for a whole batch.
 */
export function spanRowValues(projectId: string, s: Span, ingestedAt = new Date().toISOString()): unknown[] {
  return spanRowValuesOf(projectId, s, s.costMicros, s.inputSha256, s.outputSha256, ingestedAt);
}

/** A span's fields as recorded, without what recording derives (cost and blob hashes). */
export type SpanRowFields = Omit<Span, 'costMicros' | 'costDiffers' | 'inputSha256' | 'outputSha256'>;

/** `spanRowValues` of a span to record and what recording derived for it, without a Span in between. */
export function spanRowValuesOf(
  projectId: string,
  s: SpanRowFields,
  costMicros: number | null,
  inputSha256: string | null,
  outputSha256: string | null,
  ingestedAt: string,
): unknown[] {
  return [
    projectId,
    s.traceId,
    s.spanId,
    s.parentSpanId,
    s.name,
    s.kind,
    s.status,
    s.statusMessage,
    s.errorType,
    s.startTime,
    s.endTime,
    s.durationMs,
    s.serviceName,
    s.agent,
    s.provider,
    s.model,
    s.usage.input,
    s.usage.output,
    s.usage.cacheRead,
    s.usage.cacheWrite,
    s.usage.reasoning,
    costMicros,
    s.providerCostMicros,
    s.toolName,
    inputSha256,
    outputSha256,
    JSON.stringify(s.attributes),
    s.source,
    ingestedAt,
  ];
}

const at = (c: (typeof SPAN_COLUMNS)[number]) => SPAN_COLUMNS.indexOf(c);
const [START, PROVIDER, MODEL, T_IN, T_OUT, T_READ, T_WRITE, T_REASON, COST, IN_SHA, OUT_SHA] = (
  ['start_time', 'provider', 'model', 'tokens_input', 'tokens_output', 'tokens_cache_read', 'tokens_cache_write', 'tokens_reasoning', 'cost_micros', 'input_sha256', 'output_sha256'] as const
).map(at) as [number, number, number, number, number, number, number, number, number, number, number];

/** What a span's cost is computed from, read from its row's values (a row made before it was priced). */
export function costQueryOfRow(row: readonly unknown[]) {
  return {
    provider: row[PROVIDER] as string | null,
    model: row[MODEL] as string | null,
    time: row[START] as string,
    usage: {
      input: row[T_IN] as number | null,
      output: row[T_OUT] as number | null,
      cacheRead: row[T_READ] as number | null,
      cacheWrite: row[T_WRITE] as number | null,
      reasoning: row[T_REASON] as number | null,
    },
  };
}

/** Fills in what recording derives (cost, blob hashes) in a row made by `spanRowValuesOf` without them. */
export function setRowDerived(row: unknown[], costMicros: number | null, inputSha256: string | null, outputSha256: string | null): void {
  row[COST] = costMicros;
  row[IN_SHA] = inputSha256;
  row[OUT_SHA] = outputSha256;
}

export function toSpanRow(projectId: string, s: Span): SpanRow {
  const values = spanRowValues(projectId, s);
  return Object.fromEntries(SPAN_COLUMNS.map((c, i) => [c, values[i]])) as SpanRow;
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

const insertRows = createBulkInsert<SpanRow>(SPAN_COLUMNS, (db, rows) =>
  db
    .insertInto('spans')
    .values(rows)
    .onConflict((oc) => oc.columns(['project_id', 'trace_id', 'span_id']).doNothing())
    // the spans actually stored (not a retry's), for their traces' summaries
    .returning(['trace_id', 'span_id']),
);

/**
 * The rows of `chunk` the insert stored, given the keys it returned: a key returned once stands for its
 * first row in the chunk (a span sent twice in one request is stored as first sent).
 */
function storedOf(chunk: ReadonlyArray<readonly unknown[]>, returned: Array<Pick<SpanRow, 'trace_id' | 'span_id'>>) {
  const keys = new Set(returned.map((r) => `${r.trace_id}\n${r.span_id}`));
  return chunk.filter((row) => keys.delete(`${row[1] as string}\n${row[2] as string}`));
}

const INSERT_ONE = `insert into spans (${SPAN_COLUMNS.join(', ')}) values (${SPAN_COLUMNS.map(() => '?').join(', ')}) on conflict do nothing`;

/**
 * Spans, one row each, keyed by (project, trace, span). With `direct` (SQLite's synchronous handle),
 * inserts inside a transaction go row by row through one prepared statement: no multi-row statement's
 * parameter list to build and no promise per statement, for the same work in SQLite.
 */
export function createTracesStore(db: Kysely<Database>, direct?: DirectConnection) {
  return {
    /**
     * Inserts spans given as `spanRowValues`; a span already stored (an exporter's retry) is left as
     * it was. Adds the stored ones to their traces' summaries, in the same transaction as the caller's
     * — or, given `storedInto`, leaves that to one `addToSummaries` of them all (a batch inserted in
     * parts: one upsert per trace instead of one per part).
     */
    async insertSpans(rows: ReadonlyArray<readonly unknown[]>, storedInto?: Array<readonly unknown[]>): Promise<void> {
      const stored: Array<readonly unknown[]> = storedInto ?? [];
      // a transaction holds the one connection, so the synchronous handle is the caller's transaction
      if (direct && db.isTransaction) {
        const insert = direct.prepare(INSERT_ONE);
        // a span already stored (a retry, or sent twice in one request) changes nothing and is not counted again
        for (const row of rows) if (insert.run(row).changes === 1) stored.push(row);
        if (!storedInto) await upsertTraceSummaries(db, traceSummaryValues(stored, SPAN_COLUMNS));
        return;
      }
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        const returned = (await insertRows.insertValues(db, chunk)) as Array<Pick<SpanRow, 'trace_id' | 'span_id'>>;
        stored.push(...(returned.length === chunk.length ? chunk : storedOf(chunk, returned)));
      }
      if (!storedInto) await upsertTraceSummaries(db, traceSummaryValues(stored, SPAN_COLUMNS));
    },

    /** Adds rows `insertSpans` stored (into its `storedInto`) to their traces' summaries. */
    async addToSummaries(stored: ReadonlyArray<readonly unknown[]>): Promise<void> {
      await upsertTraceSummaries(db, traceSummaryValues(stored, SPAN_COLUMNS));
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
