import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

// The read runs on every request: its SQL is built once per database, not by Kysely each time.
const reads = new WeakMap<Kysely<Database>, CompiledQuery>();

/** The config generation counter (one row, `global`). */
export function createGenerationStore(db: Kysely<Database>) {
  return {
    async read(): Promise<number> {
      let compiled = reads.get(db);
      if (!compiled) {
        compiled = db.selectFrom('config_generation').select('generation').where('id', '=', 'global').compile();
        reads.set(db, compiled);
      }
      const { rows } = await db.executeQuery<{ generation: number | string }>(compiled);
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
