import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../dialects/dialect.js';
import * as initial from './001-initial.js';
import * as traces from './002-traces.js';
import * as prices from './003-prices.js';
import * as traceIndexes from './004-trace-indexes.js';
import * as gateway from './005-gateway.js';
import * as ledger from './006-ledger.js';
import * as payments from './007-payments.js';
import * as identity from './008-identity.js';
import * as policy from './009-policy.js';
import * as approvals from './010-approvals.js';
import * as evals from './011-evals.js';
import * as paymentRecovery from './012-payment-recovery.js';
import * as configGeneration from './014-config-generation.js';
import * as traceSummaries from './015-trace-summaries.js';
import * as ledgerFewerIndexes from './016-ledger-fewer-indexes.js';
import * as spansTimeIndex from './017-spans-time-index.js';
import * as agentActions from './018-agent-actions.js';
import * as paymentActions from './019-payment-actions.js';

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
  '003-prices': prices,
  '004-trace-indexes': traceIndexes,
  '005-gateway': gateway,
  '006-ledger': ledger,
  '007-payments': payments,
  '008-identity': identity,
  '009-policy': policy,
  '010-approvals': approvals,
  '011-evals': evals,
  '012-payment-recovery': paymentRecovery,
  '014-config-generation': configGeneration,
  '015-trace-summaries': traceSummaries,
  '016-ledger-fewer-indexes': ledgerFewerIndexes,
  '017-spans-time-index': spansTimeIndex,
  '018-agent-actions': agentActions,
  '019-payment-actions': paymentActions,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1)!;

async function migrator(db: AnyDb, types: ColumnTypes): Promise<Migrator> {
  const migrations: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(MIGRATIONS)) migrations[name] = { up: (d) => m.up(d, types) };
  // Kysely decides whether its bookkeeping tables exist by looking in every schema unless told which:
  // with two Hangars in one Postgres database (two schemas), the second would skip creating its own.
  const schema = types.hasSchemas
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'hangar_migrations',
    migrationLockTableName: 'hangar_migrations_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/**
 * Applies pending migrations. Safe when several processes start at once: Kysely's migrator holds a
 * lock for the duration (a Postgres advisory lock; on SQLite the write lock of the transaction).
 */
export async function migrateToLatest(db: AnyDb, types: ColumnTypes): Promise<string[]> {
  const { error, results } = await (await migrator(db, types)).migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies pending migrations up to and including `name` (tests of a migration's data copy). */
export async function migrateTo(db: AnyDb, types: ColumnTypes, name: string): Promise<void> {
  const { error } = await (await migrator(db, types)).migrateTo(name);
  if (error) throw new Error(`database migration failed: ${(error as Error).message}`, { cause: error });
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: AnyDb, types: ColumnTypes): Promise<string[]> {
  const all = await (await migrator(db, types)).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
