import { Migrator, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../dialects/dialect.js';
import * as initial from './001-initial.js';
import * as traces from './002-traces.js';
import * as identity from './007-identity.js';
import * as policy from './008-policy.js';
import * as approvals from './009-approvals.js';

// Migrations see the schema as it was then, not today's Database type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

interface HangarMigration {
  up(db: AnyDb, types: ColumnTypes): Promise<void>;
}

/** Every migration, in order. Names sort; a released migration is never edited, only followed. */
const MIGRATIONS: Record<string, HangarMigration> = {
  '001-initial': initial,
  '002-traces': traces,
  '007-identity': identity,
  '008-policy': policy,
  '009-approvals': approvals,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1)!;

function migrator(db: AnyDb, types: ColumnTypes): Migrator {
  const migrations: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(MIGRATIONS)) migrations[name] = { up: (d) => m.up(d, types) };
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'hangar_migrations',
    migrationLockTableName: 'hangar_migrations_lock',
  });
}

/**
 * Applies pending migrations. Safe when several processes start at once: Kysely's migrator holds a
 * lock for the duration (a Postgres advisory lock; on SQLite the write lock of the transaction).
 */
export async function migrateToLatest(db: AnyDb, types: ColumnTypes): Promise<string[]> {
  const { error, results } = await migrator(db, types).migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: AnyDb, types: ColumnTypes): Promise<string[]> {
  const all = await migrator(db, types).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
