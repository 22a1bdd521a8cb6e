import type { Kysely } from 'kysely';

/**
 * One counter that every change to what the request path caches (keys, projects, gateway providers and
 * routes, policies, budgets, price overrides) bumps in the same transaction. A process reads it once
 * per request and drops its cached copies when it moved, so a revocation made through any process
 * applies to the next request everywhere.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('config_generation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('config_generation').values({ id: 'global', generation: 0 }).execute();
}
