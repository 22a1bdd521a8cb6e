import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Column types that differ between databases; the only dialect facts migrations may use. */
export interface ColumnTypes {
  bytes: 'blob' | 'bytea';
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
