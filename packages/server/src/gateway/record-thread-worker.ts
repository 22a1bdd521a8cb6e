// The record thread (see record-thread.ts): its own connection to the server's database and the
// services a call record needs, writing what the main thread sends, group-committed.
import { parentPort, workerData } from 'node:worker_threads';
import { createBlobStore } from '../blobs/blob-store.js';
import { createConfigGeneration } from '../cache/config-generation.js';
import { openThreadDatabase, type ThreadDatabase } from '../db/database.js';
import { createJournal } from '../journal/journal-service.js';
import { createPricing } from '../pricing/pricing.js';
import { createTraces } from '../traces/traces-service.js';
import { createCallRecorder } from './call-records.js';
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

port.on('message', (message: ToRecordThread) => {
  switch (message.type) {
    case 'write': {
      const { id, record } = message;
      // priced inside the record's transaction, which reads the project's prices as committed: a
      // price changed before the call is the one used
      const done = recorder.write(record).then(
        (result) => reply({ type: 'written', id, result }),
        (err: unknown) => reply({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }),
      );
      writing.add(done);
      void done.then(() => writing.delete(done));
      break;
    }
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
