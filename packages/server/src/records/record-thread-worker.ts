// The record thread (see record-thread.ts): its own connection to the server's database and the
// services a call record or a span batch needs, writing what the main thread sends.
import { parentPort, workerData } from 'node:worker_threads';
import { createBlobStore } from '../blobs/blob-store.js';
import { createConfigGeneration } from '../cache/config-generation.js';
import { openThreadDatabase, type ThreadDatabase } from '../db/database.js';
import { createCallRecorder } from '../gateway/call-records.js';
import { createJournal } from '../journal/journal-service.js';
import { createPricing } from '../pricing/pricing.js';
import { createTraces, type PreparedSpans } from '../traces/traces-service.js';
import type { FromRecordThread, ToRecordThread } from './record-thread.js';

const { database: where, delayMs } = workerData as { database: ThreadDatabase; delayMs: number };
const port = parentPort!;
const database = openThreadDatabase(where);
const { db } = database;
const generation = createConfigGeneration({ db });
const blobs = createBlobStore({ dir: database.blobDir, direct: database.direct });
const journal = createJournal({ db, blobs });
const pricing = createPricing({ db, generation });
const traces = createTraces({ db, blobs, pricing, direct: database.direct });
const recorder = createCallRecorder({ db, traces, journal, delayMs });
const reply = (message: FromRecordThread) => port.postMessage(message);
reply({ type: 'ready' });
const writing = new Set<Promise<void>>();

/** The parts of a span batch still to be written, handed to its transaction as they arrive. */
class Parts implements AsyncIterable<PreparedSpans> {
  #queue: PreparedSpans[] = [];
  #ended = false;
  #failed: Error | null = null;
  #wake: (() => void) | null = null;
  push(part: PreparedSpans | null, last: boolean) {
    if (part) this.#queue.push(part);
    if (last) this.#ended = true;
    this.#wake?.();
  }
  abort() {
    this.#failed = new Error('the span batch was abandoned');
    this.#wake?.();
  }
  async *[Symbol.asyncIterator]() {
    for (;;) {
      if (this.#failed) throw this.#failed;
      const part = this.#queue.shift();
      if (part) yield part;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
const batches = new Map<number, Parts>();

function track(done: Promise<void>) {
  writing.add(done);
  void done.then(() => writing.delete(done));
}

port.on('message', (message: ToRecordThread) => {
  switch (message.type) {
    case 'write': {
      const { id, record } = message;
      // priced inside the record's transaction, which reads the project's prices as committed: a
      // price changed before the call is the one used
      track(
        recorder.write(record).then(
          (result) => reply({ type: 'written', id, result }),
          (err: unknown) => reply({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }),
        ),
      );
      break;
    }
    case 'spans': {
      const { id, projectId, part, last } = message;
      let parts = batches.get(id);
      if (!parts) {
        // one transaction per batch, begun with its first part; the parts after it follow while it runs
        parts = new Parts();
        batches.set(id, parts);
        track(
          traces.writeParts(projectId, parts).then(
            () => reply({ type: 'written', id, result: null }),
            (err: unknown) => reply({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }),
          ),
        );
      }
      parts.push(part, last);
      if (last) batches.delete(id);
      break;
    }
    case 'abort':
      batches.get(message.id)?.abort();
      batches.delete(message.id);
      break;
    case 'flush':
      recorder.flush();
      break;
    case 'close':
      recorder.flush();
      void Promise.all([...writing])
        .then(() => database.close())
        .finally(() => process.exit(0));
      break;
  }
});
