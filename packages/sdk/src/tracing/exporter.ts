import { TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { offerToTaps } from './span-tap.js';

/** Options for {@link HangarExporter}. */
export interface HangarExporterOptions {
  /** Where Hangar listens, e.g. `http://127.0.0.1:7070`; spans go to `{baseUrl}/v1/traces`. */
  baseUrl: string;
  /** An API key (`hk_…`); an `ingest-only` key is enough. */
  apiKey: string;
  /** The most spans waiting to be sent; further spans are dropped and counted. Default 2048. */
  maxQueueSize?: number;
  /** The most spans in one request. Default 512. */
  maxBatchSize?: number;
  /** How long a span may wait for a full batch before a smaller one is sent. Default 1000 ms. */
  scheduledDelayMillis?: number;
  /** Tries per batch, the first included, on 429, 5xx and network errors. Default 5. */
  maxAttempts?: number;
  /** The first retry's backoff; it doubles each try, with jitter. Default 500 ms. */
  initialBackoffMillis?: number;
  /** The longest wait before a retry, `Retry-After` included. Default 30 s. */
  maxBackoffMillis?: number;
  /** Timeout of one request. Default 10 s. */
  timeoutMillis?: number;
  /** Requests under way at once, at most; a full batch waits for one to finish. Default 4. */
  maxConcurrentRequests?: number;
  /** OTLP encoding: `'json'` (default, readable when debugging) or `'protobuf'` (smaller). */
  encoding?: 'json' | 'protobuf';
  /** More request headers. */
  headers?: Record<string, string>;
  /** Where warnings go (spans dropped, export failing); once per kind. Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Send what is queued when the process is about to exit (`beforeExit`). Default true. */
  flushOnExit?: boolean;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

/** What happened to the spans handed to the exporter, counted since it was created. */
export interface ExporterStats {
  /** Spans waiting to be sent, and in a request under way. */
  pending: number;
  /** Spans Hangar accepted. */
  exported: number;
  /** Spans dropped because the queue was full (or the exporter was shut down). */
  dropped: number;
  /** Spans given up on: retries exhausted, or an error a retry cannot fix (e.g. a revoked key). */
  failed: number;
  /** Spans Hangar refused in a partial-success response. */
  rejected: number;
  /** Requests sent again after a 429, a 5xx or a network error. */
  retries: number;
  /** Requests Hangar answered with 2xx. */
  requests: number;
  /** The last error, if any: an HTTP status and message, or a network error. */
  lastError: string | null;
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/**
 * Sends spans to Hangar over OTLP/HTTP (JSON or protobuf) with a bounded queue, batching, and retries with
 * exponential backoff and jitter. Usable as the `SpanExporter` of any OpenTelemetry SDK setup;
 * `export()` only queues, so it never blocks span processing. Spans that do not fit in the queue
 * are dropped and counted in {@link HangarExporter.stats}, with a one-time warning.
 * @example
 * const exporter = new HangarExporter({ baseUrl: 'http://127.0.0.1:7070', apiKey: process.env.HANGAR_API_KEY! });
 * const provider = new NodeTracerProvider({ spanProcessors: [new HangarSpanProcessor(exporter)] });
 * // …
 * await exporter.flush(); // before a serverless function returns
 */
export class HangarExporter implements SpanExporter {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly maxQueueSize: number;
  private readonly maxBatchSize: number;
  private readonly delay: number;
  private readonly maxAttempts: number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly timeout: number;
  private readonly warn: (message: string) => void;
  private readonly doFetch: typeof fetch;
  private readonly maxConcurrent: number;
  private readonly serializer: typeof JsonTraceSerializer;
  private queue: ReadableSpan[] = [];
  /** Spans in requests under way; they count against the queue bound until answered. */
  private inFlight = 0;
  private readonly sends = new Set<Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly warned = new Set<string>();
  private readonly counts = { exported: 0, dropped: 0, failed: 0, rejected: 0, retries: 0, requests: 0 };
  private lastError: string | null = null;
  private readonly onBeforeExit = () => {
    if (this.queue.length > 0) this.kick(true);
  };

  constructor(options: HangarExporterOptions) {
    if (!options.baseUrl) throw new Error('HangarExporter: baseUrl is required');
    if (!options.apiKey) throw new Error('HangarExporter: apiKey is required');
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v1/traces`;
    this.headers = {
      ...options.headers,
      'content-type': options.encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
      authorization: `Bearer ${options.apiKey}`,
    };
    this.maxQueueSize = positive(options.maxQueueSize, 2048);
    this.maxBatchSize = Math.min(positive(options.maxBatchSize, 512), this.maxQueueSize);
    this.delay = nonNegative(options.scheduledDelayMillis, 1000);
    this.maxAttempts = positive(options.maxAttempts, 5);
    this.initialBackoff = nonNegative(options.initialBackoffMillis, 500);
    this.maxBackoff = nonNegative(options.maxBackoffMillis, 30_000);
    this.timeout = positive(options.timeoutMillis, 10_000);
    this.maxConcurrent = positive(options.maxConcurrentRequests, 4);
    if (options.encoding !== undefined && options.encoding !== 'json' && options.encoding !== 'protobuf') {
      throw new Error(
        `HangarExporter: encoding must be 'json' or 'protobuf', not ${JSON.stringify(options.encoding)}`,
      );
    }
    this.serializer = options.encoding === 'protobuf' ? ProtobufTraceSerializer : JsonTraceSerializer;
    this.warn = options.onWarning ?? ((message) => console.warn(message));
    this.doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    if (options.flushOnExit !== false && typeof process !== 'undefined' && typeof process.on === 'function') {
      process.on('beforeExit', this.onBeforeExit);
    }
  }

  /** Queues spans; the count that did not fit is dropped and returned. */
  enqueue(spans: readonly ReadableSpan[]): number {
    if (this.closed) {
      this.drop(spans.length, 'the exporter is shut down');
      return spans.length;
    }
    const room = Math.max(0, this.maxQueueSize - this.queue.length - this.inFlight);
    const accepted = spans.length <= room ? spans : spans.slice(0, room);
    for (const span of accepted) this.queue.push(span);
    const dropped = spans.length - accepted.length;
    if (dropped > 0) this.drop(dropped, `the queue is full (${this.maxQueueSize} spans)`);
    if (this.queue.length >= this.maxBatchSize) this.kick(false);
    else if (this.queue.length > 0 && !this.timer) this.schedule();
    return dropped;
  }

  /** The `SpanExporter` entry point: queues the spans and reports at once whether they all fit. */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const dropped = this.enqueue(spans);
    resultCallback(
      dropped === 0
        ? { code: ExportResultCode.SUCCESS }
        : {
            code: ExportResultCode.FAILED,
            error: new Error(`${dropped} span(s) dropped: Hangar exporter queue full`),
          },
    );
  }

  /**
   * Sends everything queued now and resolves when Hangar has it (or it was given up on). Call it
   * before a serverless function returns: the process may be frozen right after.
   */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sends.size > 0) {
      this.kick(true);
      await Promise.race(this.sends);
    }
  }

  forceFlush(): Promise<void> {
    return this.flush();
  }

  /** Flushes, then stops: later spans are dropped (and counted). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (typeof process !== 'undefined' && typeof process.off === 'function')
      process.off('beforeExit', this.onBeforeExit);
  }

  /** Counts of spans exported, dropped, failed and waiting. */
  stats(): ExporterStats {
    return { ...this.counts, pending: this.queue.length + this.inFlight, lastError: this.lastError };
  }

  private drop(n: number, why: string): void {
    this.counts.dropped += n;
    this.warnOnce(
      'dropped',
      `Hangar: dropping spans because ${why}; see exporter.stats().dropped for the count.`,
    );
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    try {
      this.warn(message);
    } catch {
      // a broken logger must not break tracing
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick(true);
    }, this.delay);
    // The timer alone never keeps a process alive; `beforeExit` sends what is left.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * Starts requests for what is queued, up to the concurrency limit: full batches only, unless
   * `partial` (the delay is up, or a flush), when the last, smaller batch goes too.
   */
  private kick(partial: boolean): void {
    if (partial && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (
      this.sends.size < this.maxConcurrent &&
      (this.queue.length >= this.maxBatchSize || (partial && this.queue.length > 0))
    ) {
      const batch = this.queue.splice(0, this.maxBatchSize);
      this.inFlight += batch.length;
      const sending: Promise<void> = this.send(batch)
        .catch((error: unknown) => this.giveUp(batch.length, String(error)))
        .finally(() => {
          this.inFlight -= batch.length;
          this.sends.delete(sending);
          if (this.queue.length >= this.maxBatchSize) this.kick(false);
          else if (this.queue.length > 0 && !this.timer && !this.closed) this.schedule();
        });
      this.sends.add(sending);
    }
  }

  private async send(batch: ReadableSpan[]): Promise<void> {
    let body: Uint8Array | undefined;
    try {
      body = this.serializer.serializeRequest(batch);
    } catch (error) {
      this.giveUp(batch.length, `cannot serialize spans: ${(error as Error).message}`);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      let wait: number | null = null;
      try {
        const res = await this.doFetch(this.url, {
          method: 'POST',
          headers: this.headers,
          body: body as Uint8Array<ArrayBuffer>,
          signal: AbortSignal.timeout(this.timeout),
        });
        const bytes = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
        const text = new TextDecoder().decode(bytes);
        if (res.ok) {
          this.counts.requests++;
          const partial = this.partialSuccess(res, bytes);
          const rejected = Math.min(batch.length, partial.rejected);
          this.counts.exported += batch.length - rejected;
          if (rejected > 0) {
            this.counts.rejected += rejected;
            this.lastError = `partial success: ${rejected} span(s) rejected`;
            this.warnOnce('rejected', `Hangar rejected ${rejected} span(s): ${partial.message}`);
          }
          return;
        }
        this.lastError = `HTTP ${res.status}: ${errorMessage(text)}`;
        if (!RETRYABLE_STATUS(res.status)) {
          this.giveUp(batch.length, this.lastError);
          return;
        }
        wait = retryAfterMillis(res.headers.get('retry-after'));
      } catch (error) {
        this.lastError = `network error: ${(error as Error).message}`;
      }
      if (attempt >= this.maxAttempts) {
        this.giveUp(batch.length, `${this.lastError} (after ${attempt} tries)`);
        return;
      }
      this.counts.retries++;
      const backoff = Math.min(this.maxBackoff, this.initialBackoff * 2 ** (attempt - 1));
      // "equal jitter": at least half the backoff, so retries from many processes spread out
      const delay = Math.min(this.maxBackoff, wait ?? backoff / 2 + Math.random() * (backoff / 2));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** The OTLP partial-success part of a 2xx response, in whichever encoding it came. */
  private partialSuccess(res: Response, bytes: Uint8Array): { rejected: number; message: string } {
    if (bytes.length === 0) return { rejected: 0, message: '' };
    try {
      const type = res.headers.get('content-type') ?? '';
      const body = type.includes('protobuf')
        ? ProtobufTraceSerializer.deserializeResponse(bytes)
        : (JSON.parse(new TextDecoder().decode(bytes)) as ReturnType<
            typeof JsonTraceSerializer.deserializeResponse
          >);
      const n = Number(body.partialSuccess?.rejectedSpans ?? 0);
      return {
        rejected: Number.isFinite(n) && n > 0 ? n : 0,
        message: String(body.partialSuccess?.errorMessage ?? ''),
      };
    } catch {
      return { rejected: 0, message: '' };
    }
  }

  private giveUp(n: number, why: string): void {
    this.counts.failed += n;
    this.warnOnce('failed', `Hangar: could not export ${n} span(s): ${why}; see exporter.stats().failed.`);
  }
}

/**
 * A span processor that hands each finished, sampled span straight to a {@link HangarExporter}'s
 * queue: no per-span promise, no second queue. Add it to an existing tracer provider to send its
 * spans to Hangar too.
 * @example
 * const provider = new NodeTracerProvider({ spanProcessors: [new HangarSpanProcessor(new HangarExporter({ baseUrl, apiKey }))] });
 */
export class HangarSpanProcessor implements SpanProcessor {
  constructor(readonly exporter: HangarExporter) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    offerToTaps(span);
    this.exporter.enqueue([span]);
  }

  forceFlush(): Promise<void> {
    return this.exporter.flush();
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }
}

/** A `Retry-After` header in milliseconds: delay-seconds or an HTTP date. */
export function retryAfterMillis(header: string | null): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function errorMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    if (e) return `${String(e.code)}: ${String(e.message)}`;
  } catch {
    // not Hangar's error envelope
  }
  return text.slice(0, 200);
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

function nonNegative(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}
