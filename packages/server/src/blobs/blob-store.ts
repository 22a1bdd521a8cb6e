import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { createBulkInsert } from '../db/bulk-insert.js';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { newId, nowIso } from '../util/ids.js';
import { sha256Hex } from '../util/hash.js';

/**
 * Content-addressed blobs (sha256), deduplicated. Every blob has a row in `blobs`; its content is in
 * that row, or — where the database gives a directory (SQLite) and the blob is larger than
 * `inlineMaxBytes` — in a file named by its hash (small blobs are faster in the row than as files).
 */
export interface BlobStore {
  /** Stores content (idempotent) within `db`'s transaction; returns its sha256. */
  put(db: Kysely<Database>, content: Uint8Array, sha256?: string): Promise<string>;
  /** Stores many (idempotent) within `db`'s transaction, in few statements; returns their sha256s in order. */
  putMany(db: Kysely<Database>, contents: Uint8Array[]): Promise<string[]>;
  get(db: Kysely<Database>, sha256: string): Promise<Uint8Array | null>;
  /** Removes blobs that nothing references and that were last stored before `before`. */
  removeUnreferenced(db: Kysely<Database>, before: string): Promise<number>;
}

/** Blobs up to this size stay in their row even where a blob directory exists. */
export const DEFAULT_INLINE_MAX_BYTES = 16 * 1024;
const PUT_CHUNK = 100;

type BlobRow = Database['blobs'];
const insertBlobRows = createBulkInsert<BlobRow>(['sha256', 'size', 'created_at', 'content'], (db, rows) =>
  db
    .insertInto('blobs')
    .values(rows)
    // storing it again makes it young again, so a sweep racing this put does not remove it
    .onConflict((oc) => oc.column('sha256').doUpdateSet((eb) => ({ created_at: eb.ref('excluded.created_at') }))),
);

const INSERT_ONE =
  'insert into blobs (sha256, size, created_at, content) values (?, ?, ?, ?) on conflict (sha256) do update set created_at = excluded.created_at';

export interface BlobStoreOptions {
  /** Where blobs larger than `inlineMaxBytes` go as files; null keeps every blob in its row. */
  dir: string | null;
  inlineMaxBytes?: number;
  /**
   * The database's synchronous handle (SQLite): `putMany` inside a transaction then inserts row by row
   * through one prepared statement instead of building a multi-row statement.
   */
  direct?: DirectConnection | undefined;
}

export function createBlobStore(options: BlobStoreOptions): BlobStore {
  const { dir, direct } = options;
  const inlineMax = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  const asFile = (content: Uint8Array) => dir !== null && content.byteLength > inlineMax;
  const fileOf = (sha: string) => path.join(dir!, sha.slice(0, 2), sha);

  async function writeFileOnce(sha: string, content: Uint8Array): Promise<void> {
    const file = fileOf(sha);
    try {
      await stat(file);
      return;
    } catch {
      // not there yet
    }
    await mkdir(path.dirname(file), { recursive: true });
    // write then rename: a crash leaves either no file or the whole file, never a torn one
    const tmp = `${file}.${newId('tmp')}`;
    await writeFile(tmp, content);
    await rename(tmp, file);
  }

  return {
    async put(db, content, sha256 = sha256Hex(content)) {
      const file = asFile(content);
      if (file) await writeFileOnce(sha256, content);
      const createdAt = nowIso();
      await db
        .insertInto('blobs')
        .values({ sha256, size: content.byteLength, created_at: createdAt, content: file ? null : content })
        // storing it again makes it young again, so a sweep racing this put does not remove it
        .onConflict((oc) => oc.column('sha256').doUpdateSet({ created_at: createdAt }))
        .execute();
      return sha256;
    },

    async putMany(db, contents) {
      const hashes = contents.map((c) => sha256Hex(c));
      const unique = new Map<string, Uint8Array>();
      hashes.forEach((h, i) => unique.set(h, contents[i]!));
      const createdAt = nowIso();
      const rows: unknown[][] = [];
      for (const [sha256, content] of unique) {
        const file = asFile(content);
        if (file) await writeFileOnce(sha256, content);
        rows.push([sha256, content.byteLength, createdAt, file ? null : content]);
      }
      // a transaction holds the one connection, so the synchronous handle is the caller's transaction
      if (direct && db.isTransaction) {
        const insert = direct.prepare(INSERT_ONE);
        for (const row of rows) insert.run(row);
      } else {
        for (let i = 0; i < rows.length; i += PUT_CHUNK) await insertBlobRows.insertValues(db, rows.slice(i, i + PUT_CHUNK));
      }
      return hashes;
    },

    async get(db, sha256) {
      const row = await db.selectFrom('blobs').select(['content']).where('sha256', '=', sha256).executeTakeFirst();
      if (!row) return null;
      if (row.content) return new Uint8Array(row.content);
      if (!dir) return null;
      try {
        return new Uint8Array(await readFile(fileOf(sha256)));
      } catch {
        return null;
      }
    },

    async removeUnreferenced(db, before) {
      const doomed = await db
        .deleteFrom('blobs')
        .where('created_at', '<', before)
        .where(({ not, exists, or, selectFrom }) =>
          not(
            or([
              exists(
                selectFrom('journal_events')
                  .select('journal_events.seq')
                  .whereRef('journal_events.payload_sha256', '=', 'blobs.sha256')
                  .where('journal_events.payload', 'is', null),
              ),
              exists(selectFrom('spans').select('spans.span_id').whereRef('spans.input_sha256', '=', 'blobs.sha256')),
              exists(selectFrom('spans').select('spans.span_id').whereRef('spans.output_sha256', '=', 'blobs.sha256')),
            ]),
          ),
        )
        .returning('sha256')
        .execute();
      if (dir) {
        for (const { sha256 } of doomed) await rm(fileOf(sha256), { force: true });
        await removeOrphanFiles(db, before);
      }
      return doomed.length;
    },
  };

  /** Files left by a transaction that rolled back (or a crash) after the file was written. */
  async function removeOrphanFiles(db: Kysely<Database>, before: string): Promise<void> {
    const cutoff = Date.parse(before);
    let shards: string[];
    try {
      shards = await readdir(dir!);
    } catch {
      return;
    }
    for (const shard of shards) {
      for (const name of await readdir(path.join(dir!, shard)).catch(() => [] as string[])) {
        const file = path.join(dir!, shard, name);
        const info = await stat(file).catch(() => null);
        if (!info || info.mtimeMs >= cutoff) continue;
        const sha = name.split('.')[0]!;
        const row = await db.selectFrom('blobs').select('sha256').where('sha256', '=', sha).executeTakeFirst();
        if (!row || name.includes('.')) await rm(file, { force: true });
      }
    }
  }
}
