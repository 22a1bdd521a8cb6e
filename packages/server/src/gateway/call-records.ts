import type { Kysely } from 'kysely';
import type { Actor } from '@hangar/protocol';
import type { Database } from '../db/schema.js';
import type { Journal } from '../journal/journal-service.js';
import type { SpanInput, Traces } from '../traces/traces-service.js';
import { extend } from '../util/objects.js';
import { createGatewayStore } from './gateway-store.js';
import type { Endpoint } from './gateway-types.js';
import { formatOf } from './providers/offline-providers.js';
import { asRecord } from './wire-format.js';

/** The journal stream every gateway call of a project is recorded in. */
export const GATEWAY_STREAM = 'gateway';

/** How long a record may wait for others to share its transaction (it is written after the answer). */
export const RECORD_DELAY_MS = 10;

/**
 * What is written about one gateway call: its span and its journal event, in one transaction. Plain
 * data (no functions, no class instances), so it can be handed to the record thread as it is.
 */
export interface CallRecord {
  projectId: string;
  endpoint: Endpoint;
  request: Record<string, unknown>;
  response: Record<string, unknown> | null;
  /** The span but its input and output messages, which are read from the request and response here. */
  span: Omit<SpanInput, 'input' | 'output'>;
  actor: Actor;
  /**
   * The `model.call` event's payload but the request and response, which are added here, and its
   * `costMicros`, filled in from the stored span.
   */
  payload: Record<string, unknown>;
  cacheHit: boolean;
  /** Indexes the answer for the response cache and replay (fresh, successful answers only). */
  answer: { requestSha256: string; createdAt: string } | null;
}

/** What the caller learns once its record is committed: what the call cost, as priced when stored. */
export interface RecordedCall {
  costMicros: number | null;
}

export interface CallRecorder {
  write(record: CallRecord): Promise<RecordedCall>;
  /** Writes what is waiting now, without the group commit's delay. */
  flush(): void;
  /** Stops taking records once those written so far are committed (the record thread ends). */
  close(): Promise<void>;
}

/** The span's input and output: the messages in the endpoint's format, or an embedding's input and size. */
function spanContents({ endpoint, request, response }: CallRecord): Pick<SpanInput, 'input' | 'output'> {
  if (endpoint === 'embeddings') {
    const first = asRecord((response?.data as unknown[] | undefined)?.[0]).embedding;
    return { input: request.input, ...(response ? { output: { dimensions: Array.isArray(first) ? first.length : null } } : {}) };
  }
  const format = formatOf(endpoint);
  return { input: format.inputMessages(request), ...(response ? { output: format.outputMessages(response) } : {}) };
}

async function writeCallRecord(trx: Kysely<Database>, traces: Traces, journal: Journal, record: CallRecord): Promise<RecordedCall> {
  const [stored] = await traces.record(record.projectId, [extend(record.span, spanContents(record))], trx);
  const costMicros = record.cacheHit ? 0 : (stored?.costMicros ?? null);
  const [event] = await journal.append(
    {
      projectId: record.projectId,
      stream: GATEWAY_STREAM,
      actor: record.actor,
      events: [{ type: 'model.call', payload: extend(record.payload, { request: record.request, response: record.response, costMicros }) }],
    },
    trx,
  );
  if (record.answer && event) {
    await createGatewayStore(trx).insertAnswer({
      project_id: record.projectId,
      request_sha256: record.answer.requestSha256,
      stream: GATEWAY_STREAM,
      seq: event.seq,
      created_at: record.answer.createdAt,
    });
  }
  return { costMicros: stored ? costMicros : null };
}

export interface CallRecorderOptions {
  db: Kysely<Database>;
  traces: Traces;
  journal: Journal;
  /** How long a record waits for others to share its commit. */
  delayMs?: number;
}

/** Writes call records on this thread, group-committed. */
export function createCallRecorder({ db, traces, journal, delayMs = 0 }: CallRecorderOptions): CallRecorder {
  const commits = createGroupCommit(db, { delayMs });
  return {
    write: (record) => commits.write((trx) => writeCallRecord(trx, traces, journal, record)),
    flush: () => commits.flush(),
    close: async () => {},
  };
}

type Write<T> = (trx: Kysely<Database>) => Promise<T>;

/**
 * Group commit: records wait up to `delayMs` (or until `maxBatch` are waiting) and then share one
 * transaction, so under load many calls pay for one BEGIN/COMMIT — the WAL write of a commit is the
 * largest single cost of a record — and one turn at SQLite's single connection, instead of one each.
 * Records are written after their call was answered, so the wait costs no latency; `flush` cuts it
 * short when someone is waiting for them. If a shared transaction fails, its writes are retried one
 * transaction each, so one bad write never takes others down with it.
 */
function createGroupCommit(db: Kysely<Database>, { maxBatch = 64, delayMs = 0 } = {}) {
  type Pending = { write: Write<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };
  let queue: Pending[] = [];
  let running = false;
  let timer: NodeJS.Timeout | null = null;

  async function drain() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (running) return;
    running = true;
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      if (batch.length === 1) {
        const [only] = batch as [Pending];
        await db.transaction().execute(only.write).then(only.resolve, only.reject);
        continue;
      }
      try {
        const results = await db.transaction().execute(async (trx) => {
          const out: unknown[] = [];
          for (const p of batch) out.push(await p.write(trx));
          return out;
        });
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch {
        for (const p of batch) await db.transaction().execute(p.write).then(p.resolve, p.reject);
      }
    }
    running = false;
  }

  return {
    write<T>(write: Write<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
        if (running) return; // the running drain takes it next
        if (delayMs === 0 || queue.length >= maxBatch) void drain();
        else timer ??= setTimeout(() => void drain(), delayMs);
      });
    },
    /** Writes what is waiting now, without the delay. */
    flush(): void {
      if (queue.length > 0) void drain();
    },
  };
}
