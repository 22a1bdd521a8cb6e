import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { LATEST_MIGRATION, pendingMigrations } from './migrations/index.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from './test-databases.js';

describe('migrations', () => {
  const opened: TestDatabase[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  for (const dialect of DIALECTS) {
    it(`leave nothing pending on ${dialect}`, async () => {
      const t = await openTestDatabase(dialect);
      opened.push(t);
      expect(await pendingMigrations(t.db, t.types)).toEqual([]);
      expect(LATEST_MIGRATION).toBe('016-ledger-fewer-indexes');
    });
  }

  it.runIf(process.env.HANGAR_TEST_PG_URL)('keep two Hangars in two schemas of one Postgres database apart', async () => {
    // Kysely looked for its bookkeeping tables in every schema: the second schema found the first's
    // and skipped creating its own, then failed ("hangar_migrations_lock does not exist").
    const first = await openTestDatabase('postgres');
    opened.push(first);
    const second = await openTestDatabase('postgres');
    opened.push(second);
    expect(await pendingMigrations(second.db, second.types)).toEqual([]);
    expect(await second.db.selectFrom('journal_events').selectAll().execute()).toEqual([]);
  });

  it.runIf(process.env.HANGAR_TEST_PG_URL)('are safe when several pools migrate at once (Postgres advisory lock)', async () => {
    const t = await openTestDatabase('postgres');
    opened.push(t);
    // an empty schema: drop everything openTestDatabase migrated, then race four pools
    const schema = t.describe.split(' schema ')[1]!;
    await sql.raw(`drop schema ${schema} cascade; create schema ${schema}`).execute(t.db);
    const url = new URL(process.env.HANGAR_TEST_PG_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const all = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: url.toString(), dataDir: t.dataDir })));
    for (const d of all) expect(await pendingMigrations(d.db, d.types)).toEqual([]);
    await Promise.all(all.map((d) => d.close()));
  });
});
