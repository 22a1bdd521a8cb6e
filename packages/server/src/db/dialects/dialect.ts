import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from '../schema.js';

/** What differs between databases that migrations need to know: column types, and schemas. */
export interface ColumnTypes {
  bytes: 'blob' | 'bytea';
  /** Postgres has schemas: migration bookkeeping must stay in the current one (see migrations/index.ts). */
  hasSchemas: boolean;
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

/** An open database: the one thing outside this folder that knows which database it is. */
export interface OpenDatabase {
  db: Kysely<Database>;
  /** e.g. `sqlite /path/hangar.db`, for logs and `hangar doctor`; never includes a password. */
  describe: string;
  types: ColumnTypes;
  functions: DialectFunctions;
  /** Where blob contents live as files; null when they live in the `blobs` table. */
  blobDir: string | null;
  close(): Promise<void>;
}
