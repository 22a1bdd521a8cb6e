import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

// Read on every request: SQL that every dialect takes as it is, never built by Kysely each time.
const READ = CompiledQuery.raw(`select generation from config_generation where id = 'global'`);

/** The config generation counter (one row, `global`). */
export function createGenerationStore(db: Kysely<Database>) {
  return {
    async read(): Promise<number> {
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
