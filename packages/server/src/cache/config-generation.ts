import type { Kysely } from 'kysely';
import type { DirectConnection } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { createGenerationStore } from './generation-store.js';

/** How old the known generation may be when no request has read it (workers, direct service calls). */
const MAX_AGE_MS = 1000;

export interface ConfigGenerationOptions {
  db: Kysely<Database>;
  /** SQLite's connection, called synchronously: the per-request read goes straight to it when it can (generation-store.ts). */
  direct?: DirectConnection | undefined;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * Invalidation of the request path's per-process caches (API keys, gateway providers and routes,
 * compiled policy sets, budget definitions, price overrides) that stays correct across processes.
 *
 * Every change to cached data bumps one counter row in the same transaction as the change (`bump`).
 * Every /v1 request reads the counter once before anything else (`check`, one indexed single-row
 * read with prebuilt SQL); caches keep what they loaded tagged with the generation read *before*
 * loading, and drop it when the counter moved. So a change committed by any process — a revoked key, a
 * new budget, a tighter policy — is seen by the next request of every process; an entry loaded while a
 * change committed carries the older generation and is reloaded by the next request. Outside a
 * request (a worker calling a service), the counter is reread when it is older than a second.
 */
export function createConfigGeneration({ db, direct, now = () => performance.now() }: ConfigGenerationOptions) {
  const store = createGenerationStore(db, direct);
  let known = -1;
  let checkedAt = -Infinity;
  /** After a change made here: reread until the counter shows it (or the change rolled back). */
  let waitFor: { generation: number; until: number } | null = null;

  async function check(): Promise<number> {
    const read = await store.read();
    if (read > known) known = read; // a slower, older read never moves it back
    checkedAt = now();
    if (waitFor && (known >= waitFor.generation || checkedAt > waitFor.until)) waitFor = null;
    return known;
  }

  /** The generation caches compare with: the one this request read, or a fresh one. */
  async function current(): Promise<number> {
    return fresh() ? known : check();
  }

  function fresh(): boolean {
    return !waitFor && now() - checkedAt <= MAX_AGE_MS;
  }

  return {
    /** Reads the counter: once per request, before any cached read (the /v1 middleware does). */
    check,

    current,

    /** Marks cached data as changed, inside the transaction that changes it. */
    async bump(trx: Kysely<Database>): Promise<void> {
      const generation = await createGenerationStore(trx).bump();
      waitFor = { generation, until: now() + MAX_AGE_MS };
    },

    /**
     * A cache of values loaded from the database, all dropped when the generation moves.
     * @example const keys = generation.cache<Found>(); const found = await keys.get(hash, () => store.findKeyByHash(hash));
     */
    cache<V>(maxEntries = 10_000): GenerationCache<V> {
      let at = -1;
      const entries = new Map<string, V>();
      return {
        async get(key, load, trx) {
          // Inside a transaction the counter cannot be read beside it (SQLite has one connection) and
          // what the transaction sees may not be committed: an entry of the current generation is
          // used (read through the transaction when the known one is old), anything else is loaded
          // and not kept.
          if (trx) {
            const hit = entries.get(key);
            if (hit === undefined) return load();
            const current = fresh() ? known : await createGenerationStore(trx).read();
            return at === current ? hit : load();
          }
          const generation = await current();
          if (generation !== at) {
            entries.clear();
            at = generation;
          }
          const hit = entries.get(key);
          if (hit !== undefined) return hit;
          const value = await load();
          // loaded under `generation`: kept only if the generation did not move meanwhile
          if (at === generation && value !== undefined) {
            if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
            entries.set(key, value);
          }
          return value;
        },
        delete(key) {
          entries.delete(key);
        },
      };
    },
  };
}

export type ConfigGeneration = ReturnType<typeof createConfigGeneration>;

/** Values loaded from the database, per process, valid while the config generation stays the same. */
export interface GenerationCache<V> {
  /** The cached value, or `load()`'s (kept unless undefined). `trx`: the transaction the caller is in, if any. */
  get(key: string, load: () => Promise<V>, trx?: Kysely<Database>): Promise<V>;
  /** Forgets one entry (this process changed it). */
  delete(key: string): void;
}
