import { CompiledQuery, type Kysely } from 'kysely';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';

// Read on every request: SQL that every dialect takes as it is, never built by Kysely each time.
const READ_SQL = `select generation from config_generation where id = 'global'`;
const READ = CompiledQuery.raw(READ_SQL);

/**
 * The config generation counter (one row, `global`). With `direct` (SQLite's connection, called
 * synchronously), `read` asks it directly when no transaction is open on it, skipping Kysely's queue
 * and promises: it still reads what is committed, by any process. While one is open (another
 * request's transaction, between its awaits), it waits its turn through Kysely, so that it never sees
 * a change that is not committed yet.
 */
export function createGenerationStore(db: Kysely<Database>, direct?: DirectConnection) {
  return {
    async read(): Promise<number> {
      if (direct && !direct.inTransaction) {
        const row = direct.prepare(READ_SQL).get() as { generation: number } | undefined;
        return Number(row?.generation ?? 0);
      }
      const { rows } = await db.executeQuery<{ generation: number | string }>(READ);
      return Number(rows[0]?.generation ?? 0);
    },

    /** Adds one; returns the new value. */
    async bump(): Promise<number> {
      const row = await db
        .updateTable('config_generation')
        .set((eb) => ({ generation: eb('generation', '+', 1) }))
        .where('id', '=', 'global')
        .returning('generation')
        .executeTakeFirstOrThrow();
      return Number(row.generation);
    },
  };
}
