import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Database } from '../schema.js';
import type { OpenDatabase } from './dialect.js';
import { postgresFunctions } from './postgres.js';

/** One in-process Postgres; a mutex gives each transaction the connection to itself. */
class PgliteDriver implements Driver {
  readonly #pg: PGlite;
  readonly #owned: boolean;
  #queue: Promise<void> = Promise.resolve();

  constructor(pg: PGlite, owned: boolean) {
    this.#pg = pg;
    this.#owned = owned;
  }
  async init(): Promise<void> {
    await this.#pg.waitReady;
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const previous = this.#queue;
    this.#queue = new Promise((resolve) => (release = resolve));
    await previous;
    return new PgliteConnection(this.#pg, release);
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PgliteConnection).release();
  }
  async destroy(): Promise<void> {
    if (this.#owned) await this.#pg.close();
  }
}

class PgliteConnection implements DatabaseConnection {
  constructor(
    private readonly pg: PGlite,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pg.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const affected = result.affectedRows === undefined ? undefined : BigInt(result.affectedRows);
    return { rows: result.rows, numAffectedRows: affected };
  }
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported on PGlite');
  }
}

class PgliteDialect implements Dialect {
  constructor(
    private readonly pg: PGlite,
    private readonly owned: boolean,
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver() {
    return new PgliteDriver(this.pg, this.owned);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

/** A PGlite instance with Hangar's type parsers (int8 and numeric as numbers). `dir` null = memory. */
export function createPglite(dir: string | null = null): PGlite {
  const toNumber = (value: string) => Number(value);
  return new PGlite(dir ?? undefined, {
    parsers: { [pgliteTypes.INT8]: toNumber, [pgliteTypes.NUMERIC]: toNumber },
  });
}

/**
 * Postgres in this process: the Postgres SQL path on any machine, for tests. Pass an instance to share
 * one between databases (tests give each its own schema); it is then not closed with this database.
 */
export function openPglite(dir: string | null = null, shared?: PGlite): OpenDatabase {
  const pg = shared ?? createPglite(dir);
  const db = new Kysely<Database>({ dialect: new PgliteDialect(pg, !shared) });
  return {
    db,
    describe: `pglite ${dir ?? '(memory)'}`,
    types: { bytes: 'bytea', hasSchemas: true, withoutRowid: false },
    functions: postgresFunctions,
    blobDir: null,
    close: () => db.destroy(),
  };
}
