import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ThreadDatabase } from '../db/database.js';
import type { CallRecord, CallRecorder, RecordedCall } from '../gateway/call-records.js';
import type { PreparedSpans, SpanBatchSink, SpanBatchWriter } from '../traces/traces-service.js';

/** Main thread → record thread. */
export type ToRecordThread =
  | { type: 'write'; id: number; record: CallRecord }
  /** A part of span batch `id` (the first opens its transaction); `last` asks for the commit once it is written. */
  | { type: 'spans'; id: number; projectId: string; part: PreparedSpans | null; last: boolean }
  /** Span batch `id` rolls back. */
  | { type: 'abort'; id: number }
  | { type: 'flush' }
  | { type: 'close' };

/** Record thread → main thread. */
export type FromRecordThread =
  | { type: 'ready' }
  | { type: 'written'; id: number; result: RecordedCall | null }
  | { type: 'failed'; id: number; message: string };

export interface RecordThreadOptions {
  /** How the thread opens its own connection to the server's database. */
  database: ThreadDatabase;
  delayMs: number;
  logger?: Logger | undefined;
  /** Where call records go should the thread not start or stop unexpectedly. */
  fallback: () => CallRecorder;
}

/** The record thread: a CallRecorder for gateway calls, and a sink for OTLP span batches. */
export type RecordThread = CallRecorder &
  SpanBatchSink & {
    /**
     * Starts the thread now rather than with the first record, and resolves once it has opened its
     * connection (or failed, records then being written here): for benchmarks, which should not time a
     * thread's start-up (it loads and compiles the server's modules) as if it were ingest work.
     */
    started(): Promise<void>;
  };

interface Pending {
  resolve: (r: RecordedCall | null) => void;
  reject: (e: Error) => void;
  /** Writes it here instead, when the thread failed before opening its connection (nothing of it written). */
  here: () => void;
}

/**
 * Writes on a thread of its own, with its own connection to the database: gateway call records (the
 * span and journal inserts, their JSON and hashing and the commit — about half of what a gateway call
 * costs the server) and OTLP span batches (their inserts and commit, while the answering thread decodes
 * and prepares the next part or request). A commit never holds up the answering thread. What is sent is
 * plain data and crosses by structured clone. Should the thread fail, later records are written on this
 * thread; those it had been sent are written here too when it failed before opening its connection, and
 * reported lost (logged, as an unrecordable call is; an OTLP request fails) when it failed after, since
 * they may have been committed.
 */
export function createRecordThread({ database, delayMs, logger, fallback }: RecordThreadOptions): RecordThread {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let local: CallRecorder | null = null;
  let thread: { worker: Worker; exited: Promise<void> } | null = null;
  let closing = false;

  let opened = false;
  let whenOpened: (() => void) | null = null;

  const giveUp = (reason: string, details: Record<string, unknown>) => {
    if (!closing && !local) {
      logger?.error(details, `${reason}: gateway calls and spans are recorded on the main thread from now on`);
      local = fallback();
    }
    for (const p of pending.values()) {
      if (local && !opened) p.here();
      else p.reject(new Error(`${reason}; the record may be lost`));
    }
    pending.clear();
  };

  /** Started with the first record: a server that is never asked to record anything never pays for it. */
  function start() {
    const worker = new Worker(new URL('./record-thread-boot.mjs', import.meta.url), { workerData: { database, delayMs } });
    worker.on('message', (message: FromRecordThread) => {
      if (message.type === 'ready') {
        opened = true;
        whenOpened?.();
        return;
      }
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (message.type === 'written') p.resolve(message.result);
      else p.reject(new Error(message.message));
    });
    worker.on('error', (err) => giveUp('the record thread failed', { err }));
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        giveUp(`the record thread exited (code ${code})`, { code });
        whenOpened?.();
        resolve();
      }),
    );
    return { worker, exited };
  }
  const send = (message: ToRecordThread) => (thread ??= start()).worker.postMessage(message);

  return {
    write(record) {
      if (local) return local.write(record);
      const id = nextId++;
      return new Promise<RecordedCall>((resolve, reject) => {
        pending.set(id, {
          resolve: (r) => resolve(r!),
          reject,
          here: () => void local!.write(record).then(resolve, reject),
        });
        send({ type: 'write', id, record });
      });
    },

    open(projectId): SpanBatchWriter | null {
      if (local || closing) return null;
      const id = nextId++;
      // the parts go as they come; the outcome is known from the commit's answer
      const outcome = new Promise<'committed' | 'not-written'>((resolve, reject) => {
        pending.set(id, { resolve: () => resolve('committed'), reject, here: () => resolve('not-written') });
      });
      let sent = false;
      let done = false;
      return {
        add(part) {
          if (done || !pending.has(id)) return; // the thread failed: commit() tells how
          send({ type: 'spans', id, projectId, part, last: false });
          sent = true;
        },
        commit() {
          done = true;
          if (pending.has(id)) send({ type: 'spans', id, projectId, part: null, last: true });
          return outcome;
        },
        abort() {
          done = true;
          if (!pending.has(id)) return;
          pending.delete(id);
          if (sent) send({ type: 'abort', id });
        },
      };
    },

    started() {
      if (local || opened) return Promise.resolve();
      const ready = new Promise<void>((resolve) => (whenOpened = resolve));
      thread ??= start();
      return ready;
    },

    flush() {
      if (local) local.flush();
      else if (thread) send({ type: 'flush' });
    },
    async close() {
      closing = true;
      await local?.close();
      if (!thread) return;
      // the thread writes what it has, closes its connection, then exits
      thread.worker.postMessage({ type: 'close' } satisfies ToRecordThread);
      await thread.exited;
    },
  };
}
