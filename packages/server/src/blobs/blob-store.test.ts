import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { sha256Hex } from '../util/hash.js';
import { createBlobStore } from './blob-store.js';

describe('blob store on SQLite (a blob directory)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });
  const fileOf = (sha: string) => path.join(t.blobDir!, sha.slice(0, 2), sha);

  it('keeps small blobs in their row and large ones in files; both read back', async () => {
    const blobs = createBlobStore({ dir: t.blobDir, inlineMaxBytes: 1024 });
    const small = Buffer.from('x'.repeat(1024));
    const large = Buffer.from('y'.repeat(1025));
    const [a, b] = [await blobs.put(t.db, small), await blobs.put(t.db, large)];
    expect(existsSync(fileOf(a))).toBe(false);
    expect(existsSync(fileOf(b))).toBe(true);
    expect(Buffer.from((await blobs.get(t.db, a))!).equals(small)).toBe(true);
    expect(Buffer.from((await blobs.get(t.db, b))!).equals(large)).toBe(true);
  });

  it('putMany stores each distinct content once and returns hashes in order', async () => {
    const blobs = createBlobStore({ dir: t.blobDir, inlineMaxBytes: 1024 });
    const contents = ['one', 'two', 'one', 'z'.repeat(5000)].map((s) => Buffer.from(s));
    const hashes = await t.db.transaction().execute((trx) => blobs.putMany(trx, contents));
    expect(hashes).toEqual(contents.map((c) => sha256Hex(c)));
    const rows = await t.db.selectFrom('blobs').select('sha256').where('sha256', 'in', hashes).execute();
    expect(rows).toHaveLength(3);
    expect(Buffer.from((await blobs.get(t.db, hashes[3]!))!).toString()).toBe('z'.repeat(5000));
  });

  it('putMany through the synchronous handle (as services wire it) stores the same, and rolls back with its transaction', async () => {
    const blobs = createBlobStore({ dir: t.blobDir, inlineMaxBytes: 1024, direct: t.direct });
    const contents = ['direct one', 'direct two', 'direct one', 'w'.repeat(5000)].map((s) => Buffer.from(s));
    const hashes = await t.db.transaction().execute((trx) => blobs.putMany(trx, contents));
    expect(hashes).toEqual(contents.map((c) => sha256Hex(c)));
    expect(await t.db.selectFrom('blobs').select('sha256').where('sha256', 'in', hashes).execute()).toHaveLength(3);
    expect(Buffer.from((await blobs.get(t.db, hashes[0]!))!).toString()).toBe('direct one');
    expect(Buffer.from((await blobs.get(t.db, hashes[3]!))!).toString()).toBe('w'.repeat(5000));

    const doomed = Buffer.from('written, then rolled back');
    await expect(
      t.db.transaction().execute(async (trx) => {
        await blobs.putMany(trx, [doomed]);
        throw new Error('the caller fails after the put');
      }),
    ).rejects.toThrow('the caller fails');
    expect(await blobs.get(t.db, sha256Hex(doomed))).toBeNull();
  });
});
