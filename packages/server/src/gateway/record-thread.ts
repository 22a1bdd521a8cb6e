import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ThreadDatabase } from '../db/database.js';
import type { CallRecord, CallRecorder, RecordedCall } from './call-records.js';

/** Main thread → record thread. */
export type ToRecordThread =
  | { type: 'write'; id: number; record: CallRecord }
  | { type: 'flush' }
  | { type: 'close' };

/** Record thread → main thread. */
export type FromRecordThread =
  | { type: 'ready' }
  | { type: 'written'; id: number; result: RecordedCall }
  | { type: 'failed'; id: number; message: string };

export interface RecordThreadOptions {
  /** How the thread opens its own connection to the server's database. */
  database: ThreadDatabase;
  delayMs: number;
  logger?: Logger | undefined;
  /** Where records go should the thread not start or stop unexpectedly. */
  fallback: () => CallRecorder;
}

/**
 * Writes call records on a thread of its own, with its own connection to the database: the span and
 * journal inserts, their JSON and hashing and the commit — about half of what a gateway call costs
 * the server — happen off the thread that answers requests, so a commit never holds up an answer.
 * A record is plain data and crosses by structured clone. Should the thread fail, later records are
 * written on this thread; those it had been sent are written here too when it failed before opening
 * its connection, and reported lost (logged, as an unrecordable call is) when it failed after, since
 * they may have been committed.
 */
export function createRecordThread({ database, delayMs, logger, fallback }: RecordThreadOptions): CallRecorder {
  const pending = new Map<number, { record: CallRecord; resolve: (r: RecordedCall) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let local: CallRecorder | null = null;
  let thread: { worker: Worker; exited: Promise<void> } | null = null;
  let closing = false;

  let opened = false;

  const giveUp = (reason: string, details: Record<string, unknown>) => {
    if (!closing && !local) {
      logger?.error(details, `${reason}: gateway calls are recorded on the main thread from now on`);
      local = fallback();
    }
    for (const p of pending.values()) {
      if (local && !opened) local.write(p.record).then(p.resolve, p.reject);
      else p.reject(new Error(`${reason}; the call's record may be lost`));
    }
    pending.clear();
  };

  /** Started with the first record: a server that is never asked for a model call never pays for it. */
  function start() {
    const worker = new Worker(new URL('./record-thread-boot.mjs', import.meta.url), { workerData: { database, delayMs } });
    worker.on('message', (message: FromRecordThread) => {
      if (message.type === 'ready') {
        opened = true;
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
        pending.set(id, { record, resolve, reject });
        send({ type: 'write', id, record });
      });
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
