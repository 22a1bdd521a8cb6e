import type { Kysely } from 'kysely';
import type { Span } from '@hangar/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { createPricing, type Pricing } from '../pricing/pricing.js';
import { canonicalJson } from '../util/hash.js';
import { createTracesStore, spanRowValuesOf, toSpan } from './traces-store.js';

/**
 * A span to record: everything of a Span except what Hangar derives (cost from its price table, the
 * blob hashes of input and output, costDiffers).
 */
export type SpanInput = Omit<Span, 'costMicros' | 'costDiffers' | 'inputSha256' | 'outputSha256'> & {
  /** Input messages or tool arguments (any JSON); stored in the blob store. */
  input?: unknown;
  /** Output messages or tool result (any JSON); stored in the blob store. */
  output?: unknown;
};

export interface TracesOptions {
  db: Kysely<Database>;
  blobs: BlobStore;
  /** Prices for `costMicros`; by default the built-in table with the project's overrides. */
  pricing?: Pricing;
  /** SQLite's synchronous handle: span rows then go in through one prepared statement (see traces-store). */
  direct?: DirectConnection | undefined;
}

/** Spans from OTLP, the gateway and the SDK, normalized to one model. */
export function createTraces({ db, blobs, pricing = createPricing({ db }), direct }: TracesOptions) {
  /** Records in `trx`; returns the spans as stored when `keep` (building them costs, and OTLP needs none). */
  async function recordIn(trx: Kysely<Database>, projectId: string, inputs: SpanInput[], keep: boolean): Promise<Span[]> {
    const prices = await pricing.bookFor(projectId, trx);
    const ingestedAt = new Date().toISOString();
    // every input and output of the request goes to the blob store in a few statements
    const contents: Buffer[] = [];
    // where each span's input and output are in `contents` (-1: none), two slots per span
    const slots = new Int32Array(inputs.length * 2);
    for (let i = 0; i < inputs.length; i++) {
      const { input, output } = inputs[i]!;
      slots[2 * i] = input === undefined ? -1 : contents.push(Buffer.from(canonicalJson(input))) - 1;
      slots[2 * i + 1] = output === undefined ? -1 : contents.push(Buffer.from(canonicalJson(output))) - 1;
    }
    const hashes = contents.length ? await blobs.putMany(trx, contents) : [];
    const rows: unknown[][] = new Array<unknown[]>(inputs.length);
    const spans: Span[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i]!;
      const inAt = slots[2 * i]!;
      const outAt = slots[2 * i + 1]!;
      const inputSha256 = inAt < 0 ? null : hashes[inAt]!;
      const outputSha256 = outAt < 0 ? null : hashes[outAt]!;
      const costMicros = prices.costOf({ provider: x.provider, model: x.model, time: x.startTime, usage: x.usage });
      // straight from the input to the row's values: no Span in between unless the caller wants it
      rows[i] = spanRowValuesOf(projectId, x, costMicros, inputSha256, outputSha256, ingestedAt);
      if (!keep) continue;
      // fields listed one by one: spreading a span's ~25 fields costs more than pricing it
      spans.push({
        traceId: x.traceId,
        spanId: x.spanId,
        parentSpanId: x.parentSpanId,
        name: x.name,
        kind: x.kind,
        status: x.status,
        statusMessage: x.statusMessage,
        errorType: x.errorType,
        startTime: x.startTime,
        endTime: x.endTime,
        durationMs: x.durationMs,
        serviceName: x.serviceName,
        agent: x.agent,
        provider: x.provider,
        model: x.model,
        usage: x.usage,
        costMicros,
        providerCostMicros: x.providerCostMicros,
        costDiffers: costMicros !== null && x.providerCostMicros !== null && costMicros !== x.providerCostMicros,
        toolName: x.toolName,
        inputSha256,
        outputSha256,
        attributes: x.attributes,
        source: x.source,
      });
    }
    await createTracesStore(trx, direct).insertSpans(rows);
    return spans;
  }

  return {
    /** Records spans in one transaction (or in `trx`); returns them as stored, with cost. */
    async record(projectId: string, inputs: SpanInput[], trx?: Kysely<Database>): Promise<Span[]> {
      if (trx) return recordIn(trx, projectId, inputs, true);
      return db.transaction().execute((t) => recordIn(t, projectId, inputs, true));
    },

    /** `record` in a transaction of its own for a batch whose stored form nobody reads back (OTLP export). */
    async ingest(projectId: string, inputs: SpanInput[]): Promise<void> {
      await db.transaction().execute((t) => recordIn(t, projectId, inputs, false));
    },

    async trace(projectId: string, traceId: string): Promise<Span[]> {
      return (await createTracesStore(db).trace(projectId, traceId)).map(toSpan);
    },
  };
}

export type Traces = ReturnType<typeof createTraces>;
