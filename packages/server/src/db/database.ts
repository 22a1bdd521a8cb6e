import type { OpenDatabase, ThreadDatabase } from './dialects/dialect.js';
import { openPglite } from './dialects/pglite.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';
import { migrateToLatest } from './migrations/index.js';

export type { OpenDatabase, ThreadDatabase } from './dialects/dialect.js';
export type { Database } from './schema.js';

export interface DatabaseOptions {
  /** `postgres://…` for Postgres, `pglite:` or `pglite:/dir` for in-process Postgres; otherwise SQLite. */
  url?: string | undefined;
  /** Data directory: the SQLite file and blob files live here. */
  dataDir: string;
  /** Apply pending migrations (default true); `hangar doctor` opens without migrating. */
  migrate?: boolean;
  /** SQLite: checkpoint the WAL from a worker thread this often (the server does; see openSqlite). */
  checkpointEveryMs?: number | undefined;
}

/** Opens the configured database and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  const { url } = options;
  const opened =
    url && /^postgres(ql)?:\/\//.test(url)
      ? openPostgres(url)
      : url?.startsWith('pglite:')
        ? openPglite(url.slice('pglite:'.length) || null)
        : openSqlite(options.dataDir, { checkpointEveryMs: options.checkpointEveryMs });
  if (options.migrate === false) return opened;
  try {
    await migrateToLatest(opened.db, opened.types);
  } catch (error) {
    await opened.close().catch(() => {});
    throw error;
  }
  return opened;
}

/** Another thread's own connection to a database the server opened (its `thread`), already migrated. */
export function openThreadDatabase(where: ThreadDatabase): OpenDatabase {
  return openSqlite(where.dataDir, { checkpointedElsewhere: where.checkpointed });
}
