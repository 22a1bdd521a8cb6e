import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, sql, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection } from 'kysely';
import type { Database } from '../schema.js';
import type { DialectFunctions, DirectConnection, OpenDatabase } from './dialect.js';

/**
 * Write transactions start with BEGIN IMMEDIATE: a deferred BEGIN that reads and then writes can fail
 * at once with SQLITE_BUSY when another process (a CLI next to the server) committed in between, while
 * IMMEDIATE takes the write lock up front and waits for it under busy_timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite's DDL is transactional, though Kysely's adapter says otherwise. Saying so makes the migrator
 * run in one (IMMEDIATE) transaction: processes starting at once take turns, and a crash mid-migration
 * leaves the schema as it was.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * better-sqlite3 compiles SQL on every `prepare`, and Kysely prepares every query it runs; for the
 * large multi-row inserts of span ingest that compile is a good part of the cost. Statements are
 * cached by their text (Kysely runs one query at a time on this single connection, so a statement is
 * never in use twice at once). Statements that change the schema are never cached.
 */
function withStatementCache(sqlite: SQLite.Database, size = 200): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      // most recently used last, so the oldest is first to go
      cache.delete(source);
      cache.set(source, stmt);
      return stmt;
    }
    stmt = sqlite.prepare(source);
    if (/^\s*(create|drop|alter|pragma|begin|commit|rollback|savepoint|release)\b/i.test(source)) return stmt;
    cache.set(source, stmt);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return stmt;
  };
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      if (prop === 'close') {
        return () => {
          cache.clear();
          return target.close();
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** SQLite expressions (JSON operators need SQLite 3.38; better-sqlite3 12 bundles a newer one). */
export const sqliteFunctions: DialectFunctions = {
  jsonMemberText(column, key) {
    if (key.includes('"')) throw new Error('a JSON member name for a query must not contain "');
    // `->` returns JSON text; the quoted label makes the dots part of the name, not a path
    return sql<string | null>`(${sql.ref(column)} -> ${`$."${key}"`})`;
  },
};

// A thread of its own with its own connection, checkpointing the WAL into the database file: a
// checkpoint copies pages and fsyncs, work SQLite otherwise does inside whichever commit crosses
// `wal_autocheckpoint` — on the server's one thread, blocking every request meanwhile.
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const db = new (require(workerData.driver))(workerData.file);
db.pragma('busy_timeout = 5000');
let closed = false;
const tick = () => {
  if (closed) return;
  try {
    // PASSIVE: never waits for or blocks the writer; what a running transaction still uses is left for the next tick
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy (another process checkpointing): the next tick tries again
  }
  setTimeout(tick, workerData.everyMs);
};
setTimeout(tick, workerData.everyMs);
parentPort.on('message', () => { closed = true; db.close(); process.exit(0); });
`;

export interface SqliteOptions {
  /**
   * Checkpoint the WAL from a worker thread every this many ms instead of inside commits (the server
   * turns this on; short-lived handles — the CLI, tests — keep SQLite's automatic checkpoints).
   */
  checkpointEveryMs?: number;
  /**
   * Another connection's checkpointer keeps the WAL short (a thread's connection to the server's
   * database): this one's commits checkpoint only as the same backstop.
   */
  checkpointedElsewhere?: boolean;
}

/** Commits checkpoint only should the checkpointer thread fall far behind. */
function leaveCheckpointsToThread(sqlite: SQLite.Database): void {
  // a backstop, not the rule: should the thread fall 10,000 pages (~40 MB) behind, commits checkpoint again
  sqlite.pragma('wal_autocheckpoint = 10000');
  // and the WAL file is cut back to 64 MiB when it is reused
  sqlite.pragma('journal_size_limit = 67108864');
}

/** Starts the checkpointer thread; SQLite's own checkpoints come back if it stops. */
function startCheckpointer(sqlite: SQLite.Database, file: string, everyMs: number): () => Promise<void> {
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, everyMs, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
  worker.unref();
  leaveCheckpointsToThread(sqlite);
  let exited = false;
  const fallBack = () => {
    exited = true;
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return async () => {
    if (exited) return;
    worker.ref(); // wait for it: the final checkpoint is the connection's own, on close
    worker.postMessage('close');
    await new Promise((resolve) => worker.once('exit', resolve));
  };
}

export function openSqlite(dataDir: string, options: SqliteOptions = {}): OpenDatabase {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'hangar.db');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives process crashes (the crash test kills the server mid-write); only an
  // OS crash or power loss can lose the last transactions, never corrupt the file.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const everyMs = options.checkpointEveryMs;
  const stopCheckpointer = everyMs ? startCheckpointer(sqlite, file, everyMs) : async () => {};
  // without this a thread's connection (the gateway's record thread: most of the server's writes)
  // checkpointed inside its own commits every 1,000 pages, fsync included
  if (options.checkpointedElsewhere) leaveCheckpointsToThread(sqlite);
  const cached = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cached }) });
  const direct: DirectConnection = {
    prepare: (source) => cached.prepare(source),
    exec: (source) => void sqlite.exec(source),
    get inTransaction() {
      return sqlite.inTransaction;
    },
  };
  return {
    db,
    describe: `sqlite ${file}`,
    types: { bytes: 'blob', hasSchemas: false, withoutRowid: true },
    functions: sqliteFunctions,
    blobDir: path.join(dataDir, 'blobs'),
    direct,
    thread: { kind: 'sqlite', dataDir, checkpointed: Boolean(everyMs) },
    close: async () => {
      await stopCheckpointer();
      await db.destroy();
    },
  };
}
