import type { PriceEntry, TokenUsage } from '@hangar/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { createConfigGeneration, type ConfigGeneration } from '../cache/config-generation.js';
import { PRICE_TABLE } from './price-table.js';
import { createPricingStore } from './pricing-store.js';

/**
 * Cost of model calls from a price table, in integer micro-USD.
 *
 * Token counts follow the OpenTelemetry GenAI convention: `input` counts every prompt token, cached
 * ones included, and `output` every generated token, reasoning included. Where a source reports them
 * apart instead (Anthropic's `input_tokens` excludes cache reads and writes; some report reasoning
 * outside the output), a cache or reasoning count larger than its total shows it, and it is then
 * added rather than subtracted.
 *
 * Rule: cost = round_half_up( Σ tokens_i × price_i / 1,000,000 ), where price_i is micro-USD per
 * million tokens, summed exactly in integers (BigInt) and rounded once at the end.
 */

export interface CostQuery {
  provider: string | null;
  model: string | null;
  /** When the call started (RFC 3339): the price in effect then applies. */
  time: string;
  usage: TokenUsage;
}

interface CompiledEntry {
  entry: PriceEntry;
  regex: RegExp;
  /** Literal characters, doubled, plus one for an exact name: the most specific match wins. */
  specificity: number;
  from: string;
}

function compile(entry: PriceEntry): CompiledEntry {
  const pattern = entry.model.toLowerCase();
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const literal = pattern.replaceAll('*', '').length;
  const from = entry.effectiveFrom.length === 10 ? `${entry.effectiveFrom}T00:00:00.000Z` : entry.effectiveFrom;
  return { entry, regex, specificity: literal * 2 + (pattern.includes('*') ? 0 : 1), from };
}

/** The model name as a price table knows it: lower case, without a `provider/` or `models/` prefix. */
function bareModel(model: string): string {
  const m = model.trim().toLowerCase();
  const slash = m.lastIndexOf('/');
  return slash >= 0 ? m.slice(slash + 1) : m;
}

/**
 * The entry for a call, among the entries whose pattern matches its model: overrides before built-in prices; within each, entries of the call's provider
 * before others (a gateway or cloud reselling a model, e.g. `azure` or `openrouter`, gets the maker's
 * price unless it has its own), then the most specific pattern, then the latest `effectiveFrom` not
 * after the call.
 */
function pick(groups: CompiledEntry[][], provider: string | null, time: string): PriceEntry | null {
  for (const group of groups) {
    let best: CompiledEntry | null = null;
    let bestScore = -1;
    for (const c of group) {
      if (c.from > time) continue;
      const score = (provider !== null && c.entry.provider === provider ? 1_000_000 : 0) + c.specificity;
      if (score > bestScore || (score === bestScore && best !== null && c.from > best.from)) {
        best = c;
        bestScore = score;
      }
    }
    if (best) return best.entry;
  }
  return null;
}

const MILLION = 1_000_000n;

/** Cost in micro-USD of `usage` at `entry`'s prices (see the rule at the top of this file). */
export function costAt(entry: PriceEntry, usage: TokenUsage): number | null {
  if (usage.input === null && usage.output === null) return null;
  const input = usage.input ?? 0;
  const cacheRead = usage.cacheRead ?? 0;
  const cacheWrite = usage.cacheWrite ?? 0;
  const cachedApart = cacheRead + cacheWrite > input;
  const uncached = cachedApart ? input : input - cacheRead - cacheWrite;
  const prompt = cachedApart ? input + cacheRead + cacheWrite : input;
  const output = usage.output ?? 0;
  const reasoning = usage.reasoning ?? 0;
  const plainOutput = reasoning > output ? output : output - reasoning;

  let p: Omit<PriceEntry, 'provider' | 'model' | 'effectiveFrom' | 'tiers'> = entry;
  for (const tier of [...(entry.tiers ?? [])].sort((a, b) => a.aboveInputTokens - b.aboveInputTokens)) {
    if (prompt > tier.aboveInputTokens) p = tier;
  }
  const total =
    BigInt(uncached) * BigInt(p.input) +
    BigInt(cacheRead) * BigInt(p.cacheRead ?? p.input) +
    BigInt(cacheWrite) * BigInt(p.cacheWrite ?? p.input) +
    BigInt(plainOutput) * BigInt(p.output) +
    BigInt(reasoning) * BigInt(p.reasoning ?? p.output);
  return Number((total + MILLION / 2n) / MILLION);
}

/**
 * A built-in table compiled once per process, with the entries that match each model name seen: it
 * never changes, while a project's book is rebuilt whenever it is loaded (inside a transaction, on
 * every span batch and gateway record).
 */
const compiledTables = new WeakMap<readonly PriceEntry[], { entries: CompiledEntry[]; matching: Map<string, CompiledEntry[]> }>();

/** The entries whose pattern matches the model's name, as given or without its prefix. */
function matchingEntries(entries: readonly CompiledEntry[], model: string): CompiledEntry[] {
  const names = [model.trim().toLowerCase(), bareModel(model)];
  return entries.filter((c) => names.some((n) => c.regex.test(n)));
}

/** A price table with a project's overrides on top: pure, synchronous, reusable for many spans. */
export function createPriceBook(overrides: readonly PriceEntry[], builtIn: readonly PriceEntry[] = PRICE_TABLE) {
  let compiled = compiledTables.get(builtIn);
  if (!compiled) compiledTables.set(builtIn, (compiled = { entries: builtIn.map(compile), matching: new Map() }));
  const table = compiled;
  const own = overrides.map(compile);
  // the entries whose pattern matches a model, per group; a batch of spans names few models
  const matching = new Map<string, CompiledEntry[][]>();
  function entryFor(provider: string | null, model: string, time: string): PriceEntry | null {
    let candidates = matching.get(model);
    if (!candidates) {
      let fromTable = table.matching.get(model);
      if (!fromTable) {
        fromTable = matchingEntries(table.entries, model);
        if (table.matching.size > 1000) table.matching.clear();
        table.matching.set(model, fromTable);
      }
      candidates = [own.length ? matchingEntries(own, model) : [], fromTable];
      if (matching.size > 1000) matching.clear();
      matching.set(model, candidates);
    }
    return pick(candidates, provider, time);
  }
  return {
    /** The entry that prices this call, or null when no price is known. */
    entryFor,
    /** Cost in micro-USD, or null when the model, its price or the token counts are unknown. */
    costOf({ provider, model, time, usage }: CostQuery): number | null {
      if (!model) return null;
      const entry = entryFor(provider, model, time);
      return entry ? costAt(entry, usage) : null;
    },
  };
}

export type PriceBook = ReturnType<typeof createPriceBook>;

export interface PricingOptions {
  db: Kysely<Database>;
  /** The built-in table; tests pass their own. */
  table?: readonly PriceEntry[];
  /** Invalidates this process's price books when any process changes overrides (shared by the services). */
  generation?: ConfigGeneration;
}

/** Prices per project: the built-in table, overridden per project through `PUT /v1/prices`. */
export function createPricing({ db, table = PRICE_TABLE, generation = createConfigGeneration({ db }) }: PricingOptions) {
  // compiling the table's patterns costs more than pricing a call: one book per project, kept until
  // any process changes overrides
  const books = generation.cache<PriceBook>(1000);

  /** The project's price book; `trx` when called inside a transaction. */
  async function bookFor(projectId: string, trx?: Kysely<Database>): Promise<PriceBook> {
    return books.get(projectId, async () => createPriceBook(await createPricingStore(trx ?? db).overrides(projectId), table), trx);
  }

  return {
    builtIn: table,
    bookFor,
    /**
     * The cost of one model call in micro-USD (null when unknown), at the prices in effect at `time`.
     * @example await pricing.costOf({ projectId, provider: 'openai', model: 'gpt-4o-mini', time, usage })
     */
    async costOf(query: CostQuery & { projectId: string }): Promise<number | null> {
      return (await bookFor(query.projectId)).costOf(query);
    },
    async overrides(projectId: string): Promise<PriceEntry[]> {
      return createPricingStore(db).overrides(projectId);
    },
    /** Replaces the project's overrides (an empty list goes back to the built-in table). */
    async setOverrides(projectId: string, overrides: PriceEntry[]): Promise<PriceEntry[]> {
      await db.transaction().execute(async (trx) => {
        await createPricingStore(trx).setOverrides(projectId, overrides);
        await generation.bump(trx);
      });
      books.delete(projectId);
      return overrides;
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;
