import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from '../schema.js';

/** What differs between databases that migrations need to know: column types, and schemas. */
export interface ColumnTypes {
  bytes: 'blob' | 'bytea';
  /** Postgres has schemas: migration bookkeeping must stay in the current one (see migrations/index.ts). */
  hasSchemas: boolean;
  /**
   * Whether a table can be stored in its primary key's order with no separate key index (SQLite's
   * `without rowid`, best for narrow rows); Postgres tables are heaps whatever their key.
   */
  withoutRowid: boolean;
}

/**
 * Expressions whose SQL differs between databases. Stores build them here instead of asking which
 * database they run on.
 */
export interface DialectFunctions {
  /**
   * The JSON text (`"gpt-4o"`, `42`, `true`) of member `key` of the JSON object stored as text in
   * `column`; null where the member is absent. `key` is one member name, dots included
   * (`gen_ai.request.model`), never a path; it must not contain `"`.
   */
  jsonMemberText(column: string, key: string): RawBuilder<string | null>;
}

/**
 * A prepared statement on a synchronous connection. Parameters are given one by one, or as one array
 * of them (better-sqlite3 binds an array's elements in order).
 */
export interface DirectStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The same single connection Kysely uses, called synchronously: for hot paths that run many small
 * statements in one transaction (the ledger's group commit, span ingest), where a promise per statement
 * costs more than the statement. Use it only inside `db.connection().execute(...)` or a Kysely
 * transaction (`trx.isTransaction`), which hold the connection (Kysely's lock) so no other Kysely
 * query or transaction interleaves. SQLite only.
 */
export interface DirectConnection {
  /** Prepared once per text and cached. */
  prepare(source: string): DirectStatement;
  exec(source: string): void;
  readonly inTransaction: boolean;
}

/** How another thread of this process opens its own connection to the same database: plain data. */
export interface ThreadDatabase {
  kind: 'sqlite';
  dataDir: string;
  /** The opening connection's checkpointer thread runs: the thread's commits leave the WAL to it. */
  checkpointed: boolean;
}

/** An open database: the one thing outside this folder that knows which database it is. */
export interface OpenDatabase {
  db: Kysely<Database>;
  /** e.g. `sqlite /path/hangar.db`, for logs and `hangar doctor`; never includes a password. */
  describe: string;
  types: ColumnTypes;
  functions: DialectFunctions;
  /** Where blob contents live as files; null when they live in the `blobs` table. */
  blobDir: string | null;
  /** A synchronous handle on the connection, where the database has one (SQLite); see DirectConnection. */
  direct?: DirectConnection;
  /**
   * Set where work is worth moving to a thread with a connection of its own (SQLite: a commit blocks
   * the thread that makes it); absent where a connection cannot be opened twice (PGlite) or its I/O
   * is asynchronous already (Postgres).
   */
  thread?: ThreadDatabase;
  close(): Promise<void>;
}
