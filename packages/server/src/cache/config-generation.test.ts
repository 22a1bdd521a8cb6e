import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createConfigGeneration, type ConfigGeneration } from './config-generation.js';

// Two ConfigGenerations over one database stand for two server processes: each has its own caches
// and its own idea of the generation, and they share only the counter row. On SQLite they read it
// through the synchronous connection, as the server does.
for (const dialect of DIALECTS) {
  describe(`config generation on ${dialect}`, () => {
    let t: TestDatabase;
    let here: ConfigGeneration;
    let there: ConfigGeneration;
    /** The "database value" the cache loads, and how often it was loaded. */
    let value: string;
    let loads: number;
    const load = async () => {
      loads++;
      return value;
    };

    beforeEach(async () => {
      t = await openTestDatabase(dialect);
      here = createConfigGeneration({ db: t.db, direct: t.direct });
      there = createConfigGeneration({ db: t.db, direct: t.direct });
      value = 'v1';
      loads = 0;
    });
    afterEach(async () => {
      await t.close();
    });

    /** A change made by the other process: the data and the counter, in one transaction. */
    const changeThere = (next: string) =>
      t.db.transaction().execute(async (trx) => {
        value = next;
        await there.bump(trx);
      });

    it("drops what it cached on the next request after another process's change, and not before", async () => {
      const cache = here.cache<string>();
      await here.check();
      expect(await cache.get('k', load)).toBe('v1');
      await here.check();
      expect(await cache.get('k', load)).toBe('v1');
      expect(loads).toBe(1);

      await changeThere('v2');
      await here.check(); // the next request
      expect(await cache.get('k', load)).toBe('v2');
      expect(loads).toBe(2);
    });

    it('reloads a value loaded while a change committed: it carries the generation from before the change', async () => {
      const cache = here.cache<string>();
      await here.check();
      const raced = await cache.get('k', async () => {
        const old = value;
        await changeThere('v2'); // commits while this load is running
        return old;
      });
      expect(raced).toBe('v1');
      await here.check();
      expect(await cache.get('k', load)).toBe('v2');
    });

    it("sees this process's own change at once, even without a request in between", async () => {
      const cache = here.cache<string>();
      await here.check();
      expect(await cache.get('k', load)).toBe('v1');
      await t.db.transaction().execute(async (trx) => {
        value = 'v2';
        await here.bump(trx);
      });
      expect(await cache.get('k', load)).toBe('v2');
    });

    it('never reads a change that is not committed: a check while a transaction is open waits for it', async () => {
      const before = await here.check();
      let checked: Promise<number> | undefined;
      await t.db
        .transaction()
        .execute(async (trx) => {
          await there.bump(trx);
          checked = here.check(); // another request, between this transaction's awaits
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error('roll back');
        })
        .catch(() => {});
      expect(await checked).toBe(before);
      await changeThere('v2');
      expect(await here.check()).toBe(before + 1);
    });

    it('inside a transaction that changed the data, loads through it and keeps nothing', async () => {
      const cache = here.cache<string>();
      await here.check();
      expect(await cache.get('k', load)).toBe('v1');
      await t.db
        .transaction()
        .execute(async (trx) => {
          value = 'v2-uncommitted';
          await here.bump(trx);
          expect(await cache.get('k', load, trx)).toBe('v2-uncommitted');
          throw new Error('roll back');
        })
        .catch(() => {});
      value = 'v1';
      await here.check();
      expect(await cache.get('k', load)).toBe('v1');
    });
  });
}
