import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from '../blobs/blob-store.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createJournal, type Journal } from './journal-service.js';

const actor = { type: 'key', id: 'key_test' } as const;

for (const dialect of DIALECTS) {
  describe(`journal on ${dialect}`, () => {
    let t: TestDatabase;
    let journal: Journal;

    beforeEach(async () => {
      t = await openTestDatabase(dialect);
      journal = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
    });
    afterEach(async () => {
      await t.close();
    });

    it('numbers events 1, 2, 3 with each linked to the one before', async () => {
      const first = await journal.append({ projectId: 'p1', stream: 'run:1', actor, events: [{ type: 'a', payload: { x: 1 } }] });
      const rest = await journal.append({
        projectId: 'p1',
        stream: 'run:1',
        actor,
        events: [
          { type: 'b', payload: [1, 2] },
          { type: 'c', payload: null },
        ],
      });
      expect([...first, ...rest].map((e) => e.seq)).toEqual([1, 2, 3]);
      const page = await journal.read('p1', 'run:1', 0, 10);
      expect(page.events.map((e) => [e.seq, e.type, e.payload])).toEqual([
        [1, 'a', { x: 1 }],
        [2, 'b', [1, 2]],
        [3, 'c', null],
      ]);
      expect(page.events[0]!.prevHash).toBeNull();
      expect(page.events[1]!.prevHash).toBe(page.events[0]!.hash);
      expect(page.events[2]!.prevHash).toBe(page.events[1]!.hash);
      expect(await journal.verify('p1')).toMatchObject({ ok: true, streams: 1, events: 3 });
    });

    it('keeps streams of different projects apart', async () => {
      await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'a', payload: 1 }] });
      await journal.append({ projectId: 'p2', stream: 's', actor, events: [{ type: 'a', payload: 2 }] });
      expect((await journal.read('p1', 's', 0, 10)).events.map((e) => e.payload)).toEqual([1]);
      expect((await journal.read('p2', 's', 0, 10)).events.map((e) => e.payload)).toEqual([2]);
    });

    it('stays gap-free under concurrent appends to one stream', async () => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          journal.append({ projectId: 'p1', stream: 'hot', actor, events: [{ type: 'tick', payload: i }] }),
        ),
      );
      const page = await journal.read('p1', 'hot', 0, 100);
      expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await journal.verify('p1', 'hot')).ok).toBe(true);
    });

    it('recovers when another writer appended behind its back', async () => {
      const other = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
      await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'a', payload: 1 }] });
      await other.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'b', payload: 2 }] });
      const [third] = await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'c', payload: 3 }] });
      expect(third!.seq).toBe(3);
      expect((await journal.verify('p1')).ok).toBe(true);
    });

    it('refuses an append whose expectedSeq is stale, and writes nothing', async () => {
      await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'a', payload: 1 }] });
      await expect(
        journal.append({ projectId: 'p1', stream: 's', actor, expectedSeq: 0, events: [{ type: 'b', payload: 2 }] }),
      ).rejects.toMatchObject({ code: 'seq_conflict' });
      const ok = await journal.append({ projectId: 'p1', stream: 's', actor, expectedSeq: 1, events: [{ type: 'b', payload: 2 }] });
      expect(ok[0]!.seq).toBe(2);
      expect((await journal.read('p1', 's', 0, 10)).events).toHaveLength(2);
    });

    it('rolls back a failed append entirely, and the next append fills the same seq', async () => {
      await expect(
        t.db.transaction().execute(async (trx) => {
          await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'a', payload: 1 }] }, trx);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await journal.read('p1', 's', 0, 10)).events).toHaveLength(0);
      const [e] = await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'a', payload: 1 }] });
      expect(e!.seq).toBe(1);
    });

    it('stores large payloads once in the blob store and reads them back', async () => {
      const big = { text: 'x'.repeat(10_000) };
      await journal.append({
        projectId: 'p1',
        stream: 's',
        actor,
        events: [
          { type: 'a', payload: big },
          { type: 'b', payload: big },
        ],
      });
      const blobs = await t.db.selectFrom('blobs').selectAll().execute();
      expect(blobs).toHaveLength(1);
      const rows = await t.db.selectFrom('journal_events').select(['payload']).execute();
      expect(rows.every((r) => r.payload === null)).toBe(true);
      const page = await journal.read('p1', 's', 0, 10);
      expect(page.events[1]!.payload).toEqual(big);
      expect((await journal.verify('p1')).ok).toBe(true);
    });

    it('finds a row changed in the database', async () => {
      await journal.append({
        projectId: 'p1',
        stream: 's',
        actor,
        events: [1, 2, 3].map((n) => ({ type: 'n', payload: { n } })),
      });
      await sql`update journal_events set payload = '{"n":20}' where seq = 2`.execute(t.db);
      const report = await journal.verify('p1');
      expect(report.ok).toBe(false);
      expect(report.broken).toEqual([{ stream: 's', seq: 2, reason: 'payload_mismatch' }]);

      await sql`update journal_events set payload = '{"n":2}', type = 'm' where seq = 2`.execute(t.db);
      expect((await journal.verify('p1')).broken).toEqual([{ stream: 's', seq: 2, reason: 'hash_mismatch' }]);
    });

    it('applies retention: old events go, the chain still verifies and continues, orphan blobs go', async () => {
      const big = { text: 'y'.repeat(5000) };
      await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'old', payload: big }, { type: 'old', payload: 2 }] });
      await journal.append({ projectId: 'p2', stream: 's', actor, events: [{ type: 'other', payload: 1 }] });
      // pretend the blob and events are 10 days old
      const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
      await t.db.updateTable('journal_events').set({ time: tenDaysAgo }).where('project_id', '=', 'p1').execute();
      await t.db.updateTable('blobs').set({ created_at: tenDaysAgo }).execute();

      const report = await journal.applyRetention('p1', 7);
      expect(report).toEqual({ eventsRemoved: 2, blobsRemoved: 1 });
      expect((await journal.read('p1', 's', 0, 10)).events).toHaveLength(0);
      expect((await journal.read('p2', 's', 0, 10)).events).toHaveLength(1);

      const [next] = await journal.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'new', payload: 3 }] });
      expect(next!.seq).toBe(3);
      expect(await journal.verify('p1')).toMatchObject({ ok: true, events: 1 });
      // a fresh process (no cached head) continues the chain from the anchor too
      const fresh = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
      const [after] = await fresh.append({ projectId: 'p1', stream: 's', actor, events: [{ type: 'new', payload: 4 }] });
      expect(after!.seq).toBe(4);
      expect((await fresh.verify('p1')).ok).toBe(true);
    });
  });
}
