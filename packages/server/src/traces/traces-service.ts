import type { Kysely } from 'kysely';
import type { Span } from '@hangar/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { createPricing, type PriceBook, type Pricing } from '../pricing/pricing.js';
import { canonicalJson } from '../util/hash.js';
import { costQueryOfRow, createTracesStore, setRowDerived, spanRowValuesOf, toSpan } from './traces-store.js';

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

/**
 * Part of an OTLP batch made ready to write on the thread that decoded it: each span's row values
 * with its cost and blob hashes still null (the writer prices it in its transaction and stores the
 * blobs), and the canonical JSON of inputs and outputs, back to back in one buffer. Plain data: it
 * crosses to the record thread by structured clone, where one buffer is one copy of its bytes (a
 * string or Buffer per blob cost more to clone than to write here).
 */
export interface PreparedSpans {
  rows: unknown[][];
  /** The blob contents, each ending where `ends` says. */
  contents: Uint8Array;
  ends: Int32Array;
  /** Where each span's input and output are in `ends` (-1: none), two slots per span. */
  slots: Int32Array;
}

/**
 * Where OTLP batches are written when not on this thread: the record thread (records/record-thread.ts),
 * which writes each part as it arrives, while this thread decodes and prepares the next.
 */
export interface SpanBatchSink {
  /** A batch to fill and commit as one transaction; null when the sink takes none now (write here). */
  open(projectId: string): SpanBatchWriter | null;
}

export interface SpanBatchWriter {
  add(part: PreparedSpans): void;
  /**
   * Resolves once every part is committed in one transaction (`committed`), or when the writer went away
   * before writing any of it (`not-written`: write it elsewhere); rejects when the transaction failed.
   */
  commit(): Promise<'committed' | 'not-written'>;
  /** Rolls back what was added. */
  abort(): void;
}

/** Spans per part of an OTLP batch handed to the record thread: its SQLite work on one part overlaps decoding and preparing the next. */
const PART_SPANS = 100;

export interface TracesOptions {
  db: Kysely<Database>;
  blobs: BlobStore;
  /** Prices for `costMicros`; by default the built-in table with the project's overrides. */
  pricing?: Pricing;
  /** SQLite's synchronous handle: span rows then go in through one prepared statement (see traces-store). */
  direct?: DirectConnection | undefined;
  /** Where OTLP batches are written, when not here (the server on SQLite: the record thread). */
  spanSink?: SpanBatchSink | undefined;
}

/** Spans from OTLP, the gateway and the SDK, normalized to one model. */
export function createTraces({ db, blobs, pricing = createPricing({ db }), direct, spanSink }: TracesOptions) {
  /** Records in `trx`; returns the spans as stored (OTLP, which needs none, goes through `prepare` and `writeParts`). */
  async function recordIn(trx: Kysely<Database>, projectId: string, inputs: SpanInput[]): Promise<Span[]> {
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
      // straight from the input to the row's values, not through the Span returned
      rows[i] = spanRowValuesOf(projectId, x, costMicros, inputSha256, outputSha256, ingestedAt);
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

  /** The rows and blob contents of `inputs`, for `writePrepared` (here or on the record thread). */
  function prepare(projectId: string, inputs: SpanInput[], ingestedAt: string): PreparedSpans {
    const texts: string[] = [];
    const slots = new Int32Array(inputs.length * 2);
    const rows = new Array<unknown[]>(inputs.length);
    let bytes = 0;
    const add = (value: unknown) => {
      const text = canonicalJson(value);
      bytes += Buffer.byteLength(text);
      return texts.push(text) - 1;
    };
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i]!;
      slots[2 * i] = x.input === undefined ? -1 : add(x.input);
      slots[2 * i + 1] = x.output === undefined ? -1 : add(x.output);
      rows[i] = spanRowValuesOf(projectId, x, null, null, null, ingestedAt);
    }
    // a buffer of its own (not a slice of Node's pool, which a clone would copy whole)
    const contents = Buffer.allocUnsafeSlow(bytes);
    const ends = new Int32Array(texts.length);
    let at = 0;
    for (let i = 0; i < texts.length; i++) ends[i] = at += contents.write(texts[i]!, at);
    return { rows, contents, ends, slots };
  }

  /** Stores a prepared part in `trx`: its blobs, then its rows, priced from `prices`; the rows stored go to `stored`. */
  async function writePrepared(
    trx: Kysely<Database>,
    prices: PriceBook,
    { rows, contents, ends, slots }: PreparedSpans,
    stored: Array<readonly unknown[]>,
  ): Promise<void> {
    // a clone arrives as a Uint8Array: Buffer views on it, no copy
    const all = Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength);
    const views = new Array<Buffer>(ends.length);
    for (let i = 0, start = 0; i < ends.length; start = ends[i++]!) views[i] = all.subarray(start, ends[i]);
    const hashes = views.length ? await blobs.putMany(trx, views) : [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const inAt = slots[2 * i]!;
      const outAt = slots[2 * i + 1]!;
      setRowDerived(row, prices.costOf(costQueryOfRow(row)), inAt < 0 ? null : hashes[inAt]!, outAt < 0 ? null : hashes[outAt]!);
    }
    await createTracesStore(trx, direct).insertSpans(rows, stored);
  }

  /** Prepared parts of one batch, written in one transaction of this thread's; the traces' summaries once, at the end. */
  async function writeParts(projectId: string, parts: Iterable<PreparedSpans> | AsyncIterable<PreparedSpans>): Promise<void> {
    await db.transaction().execute(async (t) => {
      const prices = await pricing.bookFor(projectId, t);
      const stored: Array<readonly unknown[]> = [];
      for await (const part of parts) await writePrepared(t, prices, part, stored);
      await createTracesStore(t, direct).addToSummaries(stored);
    });
  }

  return {
    /** Records spans in one transaction (or in `trx`); returns them as stored, with cost. */
    async record(projectId: string, inputs: SpanInput[], trx?: Kysely<Database>): Promise<Span[]> {
      if (trx) return recordIn(trx, projectId, inputs);
      return db.transaction().execute((t) => recordIn(t, projectId, inputs));
    },

    /**
     * `record` in a transaction of its own for a batch whose stored form nobody reads back (OTLP
     * export). With a span sink (the record thread), each part of the batch goes there as soon as it is
     * prepared, so the writer's inserts overlap preparing the next part (`inputs` may be lazy: an OTLP
     * request's spans are decoded and normalized as they are taken); resolves once the whole batch is
     * committed. A batch of no spans writes nothing.
     */
    async ingest(projectId: string, inputs: Iterable<SpanInput>): Promise<void> {
      const ingestedAt = new Date().toISOString();
      const batch = spanSink?.open(projectId);
      if (!batch) {
        const all = [...inputs];
        if (all.length) await writeParts(projectId, [prepare(projectId, all, ingestedAt)]);
        return;
      }
      const parts: PreparedSpans[] = [];
      try {
        let part: SpanInput[] = [];
        for (const input of inputs) {
          part.push(input);
          if (part.length < PART_SPANS) continue;
          parts.push(prepare(projectId, part, ingestedAt));
          batch.add(parts.at(-1)!);
          part = [];
        }
        if (part.length) {
          parts.push(prepare(projectId, part, ingestedAt));
          batch.add(parts.at(-1)!);
        }
      } catch (err) {
        batch.abort();
        throw err;
      }
      if (!parts.length) return batch.abort();
      // the record thread stopped before writing any of it: written here instead
      if ((await batch.commit()) === 'not-written') await writeParts(projectId, parts);
    },

    /** Writes a batch whose parts arrive one by one (the record thread's side of `ingest`), in one transaction. */
    writeParts,

    async trace(projectId: string, traceId: string): Promise<Span[]> {
      return (await createTracesStore(db).trace(projectId, traceId)).map(toSpan);
    },
  };
}

export type Traces = ReturnType<typeof createTraces>;
