import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** What differs between databases that migrations need to know: column types, and schemas. */
export interface ColumnTypes {
  bytes: 'blob' | 'bytea';
  /** Postgres has schemas: migration bookkeeping must stay in the current one (see migrations/index.ts). */
  hasSchemas: boolean;
}

/** An open database: the one thing outside this folder that knows which database it is. */
export interface OpenDatabase {
  db: Kysely<Database>;
  /** e.g. `sqlite /path/hangar.db`, for logs and `hangar doctor`; never includes a password. */
  describe: string;
  types: ColumnTypes;
  /** Where blob contents live as files; null when they live in the `blobs` table. */
  blobDir: string | null;
  close(): Promise<void>;
}
