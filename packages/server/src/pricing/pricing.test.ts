import type { PriceEntry, TokenUsage } from '@hangar/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { PRICE_TABLE } from './price-table.js';
import { costAt, createPriceBook, createPricing } from './pricing.js';

const usage = (u: Partial<TokenUsage>): TokenUsage => ({ input: null, output: null, cacheRead: null, cacheWrite: null, reasoning: null, ...u });
const book = createPriceBook([]);
const at = (provider: string | null, model: string, u: Partial<TokenUsage>, time = '2025-11-01T00:00:00.000Z') =>
  book.costOf({ provider, model, time, usage: usage(u) });

describe('cost from the built-in table (values computed by hand)', () => {
  const cases: [string, string | null, string, Partial<TokenUsage>, number | null, string?][] = [
    // 1000 × $0.15/M + 500 × $0.60/M = $0.00015 + $0.0003
    ['input and output', 'openai', 'gpt-4o-mini', { input: 1000, output: 500 }, 450],
    // 600 uncached × 0.15 + 400 cached × 0.075 + 500 × 0.60 = 90 + 30 + 300 micro-USD
    ['cached input is a part of input (OpenAI, GenAI)', 'openai', 'gpt-4o-mini', { input: 1000, cacheRead: 400, output: 500 }, 420],
    // Anthropic counts input apart from cache: 100 × 3 + 2000 × 0.30 + 500 × 3.75 + 50 × 15 = 300 + 600 + 1875 + 750
    ['cache counted apart from input (Anthropic)', 'anthropic', 'claude-3-5-sonnet-20241022', { input: 100, cacheRead: 2000, cacheWrite: 500, output: 50 }, 3525],
    // a dated snapshot takes the most specific pattern: gpt-4o-mini*, not gpt-4o
    ['snapshot name', 'openai', 'gpt-4o-mini-2024-07-18', { input: 1_000_000 }, 150_000],
    // a reseller's provider and a provider/ prefix still find the maker's price
    ['provider prefix, other provider', 'openrouter', 'openai/gpt-4o-mini', { input: 1_000_000 }, 150_000],
    ['provider unknown', null, 'claude-haiku-4-5-20251001', { input: 1_000_000, output: 1_000_000 }, 6_000_000],
    // reasoning is part of output and priced as output: 1000 × $4.40/M
    ['reasoning inside output', 'openai', 'o4-mini', { input: 0, output: 1000, reasoning: 800 }, 4400],
    // Gemini 2.5 Pro: a prompt over 200k tokens uses the higher tier for all of it
    ['long-context tier', 'google', 'gemini-2.5-pro', { input: 250_000, output: 1000 }, 640_000],
    ['at the tier boundary', 'google', 'gemini-2.5-pro', { input: 200_000, output: 1000 }, 260_000],
    ['Sonnet 4.5 over 200k', 'anthropic', 'claude-sonnet-4-5', { input: 300_000, output: 1000 }, 1_822_500],
    ['unknown model', 'openai', 'not-a-model', { input: 1000 }, null],
    ['no token counts', 'openai', 'gpt-4o-mini', {}, null],
  ];
  for (const [name, provider, model, u, expected] of cases) {
    it(name, () => expect(at(provider, model, u)).toBe(expected));
  }
});

describe('price in effect at the span time', () => {
  // gpt-4o: $5/$15 from 2024-05-13, $2.50/$10 from 2024-10-02
  it('uses the older price before the change', () => {
    expect(at('openai', 'gpt-4o', { input: 1000, output: 1000 }, '2024-07-01T12:00:00.000Z')).toBe(20_000);
  });
  it('uses the newer price from the day of the change', () => {
    expect(at('openai', 'gpt-4o', { input: 1000, output: 1000 }, '2024-10-02T00:00:00.000Z')).toBe(12_500);
  });
  it('has no price before the first entry', () => {
    expect(at('openai', 'gpt-4o', { input: 1000, output: 1000 }, '2024-01-01T00:00:00.000Z')).toBeNull();
  });
});

describe('rounding: exact integer sum, rounded half up once', () => {
  const entry: PriceEntry = { provider: 'p', model: 'm', effectiveFrom: '2020-01-01', input: 500_000, output: 1_500_001 };
  const cases: [Partial<TokenUsage>, number][] = [
    [{ input: 1 }, 1], // 0.5 → 1
    [{ input: 2 }, 1],
    [{ input: 3 }, 2], // 1.5 → 2
    [{ output: 1 }, 2], // 1.500001 → 2
    [{ input: 1, output: 1 }, 2], // 0.5 + 1.500001 = 2.000001 → 2, not 1 + 2
    // Σ = 2,000,000,997,999,999 (micro-USD × 1M): beyond what a float adds exactly in steps
    [{ input: 999_999_999, output: 999_999_999 }, 2_000_000_998],
  ];
  for (const [u, expected] of cases) it(JSON.stringify(u), () => expect(costAt(entry, usage(u))).toBe(expected));

  it('explicit cache and reasoning prices', () => {
    const e: PriceEntry = { ...entry, cacheRead: 100_000, cacheWrite: 2_000_000, reasoning: 3_000_000 };
    // 10 uncached × 0.5 + 20 × 0.1 + 30 × 2 + 40 plain output × 1.500001 + 60 × 3 = 5 + 2 + 60 + 60.00004 + 180
    expect(costAt(e, usage({ input: 60, cacheRead: 20, cacheWrite: 30, output: 100, reasoning: 60 }))).toBe(307);
  });
});

describe('the built-in table', () => {
  it('is well-formed: patterns compile, dates parse, tiers ascend', () => {
    for (const e of PRICE_TABLE) {
      expect(e.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number.isNaN(Date.parse(e.effectiveFrom))).toBe(false);
      expect(Number.isInteger(e.input) && Number.isInteger(e.output)).toBe(true);
    }
    const keys = PRICE_TABLE.map((e) => `${e.provider} ${e.model} ${e.effectiveFrom}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

for (const dialect of DIALECTS) {
  describe(`project overrides on ${dialect}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase(dialect);
    });
    afterAll(async () => {
      await t.close();
    });

    it('win over the built-in table for their project only, and can be cleared', async () => {
      const pricing = createPricing({ db: t.db });
      const q = { provider: 'openai', model: 'gpt-4o-mini', time: '2025-06-01T00:00:00.000Z', usage: usage({ input: 1_000_000 }) };
      const negotiated: PriceEntry = { provider: 'openai', model: 'gpt-4o-mini*', effectiveFrom: '2025-01-01', input: 100_000, output: 400_000 };
      await pricing.setOverrides('proj_a', [negotiated]);
      expect(await pricing.costOf({ ...q, projectId: 'proj_a' })).toBe(100_000);
      expect(await pricing.costOf({ ...q, projectId: 'proj_b' })).toBe(150_000);
      // not yet in effect before its date: the built-in price applies
      expect(await pricing.costOf({ ...q, projectId: 'proj_a', time: '2024-12-31T23:59:59.999Z' })).toBe(150_000);
      expect(await pricing.overrides('proj_a')).toEqual([negotiated]);
      await pricing.setOverrides('proj_a', []);
      expect(await pricing.costOf({ ...q, projectId: 'proj_a' })).toBe(150_000);
    });
  });
}
