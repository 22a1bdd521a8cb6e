import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Multi-row inserts with their SQL built once. Building an insert of hundreds of rows through Kysely
 * costs more than the database's insert itself; the text depends only on the dialect and the number
 * of rows, so it is built once for each (checked to take its parameters row by row, in `columns`
 * order) and then run with new parameters. A store passes the columns and the query it would have run.
 */
export function createBulkInsert<R extends object>(
  columns: ReadonlyArray<keyof R & string>,
  build: (db: Kysely<Database>, rows: R[]) => Compilable & { execute(): Promise<unknown> },
) {
  // per dialect adapter (a database and its transactions share one), per number of rows
  const texts = new WeakMap<object, Map<number, string | null>>();

  function textFor(db: Kysely<Database>, n: number): string | null {
    const adapter = db.getExecutor().adapter;
    let byCount = texts.get(adapter);
    if (!byCount) texts.set(adapter, (byCount = new Map()));
    let text = byCount.get(n);
    if (text === undefined) {
      const markers = Array.from({ length: n }, (_, r) => columns.map((_c, i) => `m${r}_${i}`));
      const compiled = build(db, markers.map(toRow)).compile();
      const expected = markers.flat();
      const inOrder = compiled.parameters.length === expected.length && compiled.parameters.every((p, i) => p === expected[i]);
      text = inOrder ? compiled.sql : null;
      if (byCount.size > 100) byCount.clear();
      byCount.set(n, text);
    }
    return text;
  }

  function toRow(values: readonly unknown[]): R {
    const row: Record<string, unknown> = {};
    columns.forEach((c, i) => (row[c] = values[i]));
    return row as R;
  }

  /**
   * Inserts rows given as their values in `columns` order, in one statement; returns what the
   * statement returns (the rows of its RETURNING clause, if it has one).
   */
  async function insertValues(db: Kysely<Database>, rows: ReadonlyArray<readonly unknown[]>): Promise<unknown[]> {
    if (!rows.length) return [];
    const text = textFor(db, rows.length);
    if (text === null) {
      const result = await build(db, rows.map(toRow)).execute();
      return Array.isArray(result) ? (result as unknown[]) : [];
    }
    const params: unknown[] = [];
    for (const row of rows) for (let i = 0; i < columns.length; i++) params.push(row[i]);
    return (await db.executeQuery(CompiledQuery.raw(text, params))).rows as unknown[];
  }

  return {
    insertValues,
    /** Inserts `rows` in one statement. */
    async insert(db: Kysely<Database>, rows: R[]): Promise<void> {
      await insertValues(
        db,
        rows.map((r) => columns.map((c) => r[c])),
      );
    },
  };
}
