import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Multi-row inserts with their SQL built once. Building an insert of hundreds of rows through Kysely
 * costs more than the database's insert itself; the text depends only on the dialect and the number
 * of rows, so it is built once for each (checked to take its parameters row by row, in column order)
 * and then run with new parameters. A store passes the query it would have run.
 */
export function createBulkInsert<R extends object>(build: (db: Kysely<Database>, rows: R[]) => Compilable & { execute(): Promise<unknown> }) {
  const texts = new Map<string, string | null>();

  function textFor(db: Kysely<Database>, sample: R, n: number): string | null {
    // the SQL of a one-row insert tells the dialect apart
    const key = `${build(db, [sample]).compile().sql}\n${n}`;
    let text = texts.get(key);
    if (text === undefined) {
      const columns = Object.keys(sample);
      const markers = Array.from({ length: n }, (_, r) => Object.fromEntries(columns.map((c, i) => [c, `m${r}_${i}`])) as R);
      const compiled = build(db, markers).compile();
      const expected = markers.flatMap((m) => Object.values(m));
      const inOrder = compiled.parameters.length === expected.length && compiled.parameters.every((p, i) => p === expected[i]);
      text = inOrder ? compiled.sql : null;
      if (texts.size > 100) texts.clear();
      texts.set(key, text);
    }
    return text;
  }

  /** Inserts `rows` (every row with the same keys in the same order) in one statement. */
  return async function insert(db: Kysely<Database>, rows: R[]): Promise<void> {
    if (!rows.length) return;
    const text = textFor(db, rows[0]!, rows.length);
    if (text === null) {
      await build(db, rows).execute();
      return;
    }
    const params: unknown[] = [];
    for (const row of rows) for (const key in row) params.push(row[key]);
    await db.executeQuery(CompiledQuery.raw(text, params));
  };
}
