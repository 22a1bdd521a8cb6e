import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import type { DialectFunctions, OpenDatabase } from './dialect.js';

/** Postgres (and PGlite) expressions; attributes are JSON text, read through jsonb. */
export const postgresFunctions: DialectFunctions = {
  jsonMemberText: (column, key) => sql<string | null>`(${sql.ref(column)}::jsonb -> ${key}::text)::text`,
};

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** pg returns int8 and numeric as strings; Hangar's integers (micro-units, counts) fit in 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresOptions {
  poolSize?: number;
  /** A schema to use instead of `public` (it must exist); lets tests and tenants share a database. */
  schema?: string;
}

export function openPostgres(url: string, options: PostgresOptions = {}): OpenDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    describe: `postgres ${redact(url)}${options.schema ? ` schema ${options.schema}` : ''}`,
    types: { bytes: 'bytea', hasSchemas: true, withoutRowid: false },
    functions: postgresFunctions,
    blobDir: null,
    close: () => db.destroy(),
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable url)';
  }
}
