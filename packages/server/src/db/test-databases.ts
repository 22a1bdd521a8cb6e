import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { OpenDatabase } from './dialects/dialect.js';
import type { PGlite } from '@electric-sql/pglite';
import { createPglite, openPglite } from './dialects/pglite.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';
import { migrateTo, migrateToLatest } from './migrations/index.js';

/** Dialects every store test runs on: sqlite and pglite always, postgres where HANGAR_TEST_PG_URL is set. */
export const DIALECTS = ['sqlite', 'pglite', ...(process.env.HANGAR_TEST_PG_URL ? ['postgres'] : [])] as const;
export type TestDialect = (typeof DIALECTS)[number];

export interface TestDatabase extends OpenDatabase {
  dataDir: string;
}

// Starting PGlite takes about a second, so a test worker starts one and gives each database a schema.
let sharedPglite: PGlite | null = null;

/**
 * A fresh, migrated, empty database of the dialect; `close()` removes everything it made. `upTo`:
 * migrated only up to that migration, to test a later one on data.
 */
export async function openTestDatabase(dialect: TestDialect, upTo?: string): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-test-'));
  let opened: OpenDatabase;
  let cleanup = async () => {};
  if (dialect === 'postgres') {
    const url = process.env.HANGAR_TEST_PG_URL!;
    const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    opened = openPostgres(url, { schema, poolSize: 4 });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    };
  } else if (dialect === 'pglite') {
    sharedPglite ??= createPglite(null);
    const pg = sharedPglite;
    const schema = `t_${Math.random().toString(36).slice(2, 10)}`;
    await pg.exec(`create schema ${schema}; set search_path to ${schema}`);
    opened = openPglite(null, pg);
    cleanup = async () => {
      await pg.exec(`drop schema ${schema} cascade; set search_path to public`);
    };
  } else {
    opened = openSqlite(dataDir);
  }
  if (upTo) await migrateTo(opened.db, opened.types, upTo);
  else await migrateToLatest(opened.db, opened.types);
  return {
    ...opened,
    // PGlite and Postgres keep blobs in the table; a temp dir is still handy for tests
    dataDir,
    async close() {
      await opened.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
