import type { PriceEntry } from '@hangar/protocol';

/**
 * The built-in price table: list prices of OpenAI, Anthropic and Google models, in micro-USD per
 * million tokens (`2_500_000` = $2.50 / 1M tokens), standard (not batch) tier, text tokens.
 *
 * THIS IS DATA TO KEEP CURRENT. Providers change prices and add models; when one does, add an entry
 * with a new `effectiveFrom` (never edit an old one: spans before that date keep their old price).
 * Projects override any of it through `PUT /v1/prices`. Patterns use `*` for "anything", and the most
 * specific pattern matching a model wins (`gpt-4o-mini*` over `gpt-4o*`).
 *
 * Fallbacks when a field is left out: cache reads and writes cost the input price, reasoning tokens
 * the output price.
 */
const M = 1_000_000;
const usd = (dollarsPerMillion: number) => Math.round(dollarsPerMillion * M);

type Row = [model: string, effectiveFrom: string, input: number, output: number, cacheRead?: number | null, cacheWrite?: number | null];

function rows(provider: string, list: Row[], extra: Partial<PriceEntry> = {}): PriceEntry[] {
  return list.map(([model, effectiveFrom, input, output, cacheRead, cacheWrite]) => ({
    provider,
    model,
    effectiveFrom,
    input: usd(input),
    output: usd(output),
    ...(cacheRead === undefined || cacheRead === null ? {} : { cacheRead: usd(cacheRead) }),
    ...(cacheWrite === undefined || cacheWrite === null ? {} : { cacheWrite: usd(cacheWrite) }),
    ...extra,
  }));
}

const OPENAI: PriceEntry[] = rows('openai', [
  // OpenAI bills cached input at a discount and has no separate cache-write price
  ['gpt-4o', '2024-05-13', 5, 15],
  ['gpt-4o', '2024-10-02', 2.5, 10, 1.25], // the alias moved to gpt-4o-2024-08-06
  ['gpt-4o-2024-05-13', '2024-05-13', 5, 15],
  ['gpt-4o-2024-08-06', '2024-08-06', 2.5, 10, 1.25],
  ['gpt-4o-2024-11-20', '2024-11-20', 2.5, 10, 1.25],
  ['gpt-4o-mini*', '2024-07-18', 0.15, 0.6, 0.075],
  ['gpt-4.1', '2025-04-14', 2, 8, 0.5],
  ['gpt-4.1-2025-04-14', '2025-04-14', 2, 8, 0.5],
  ['gpt-4.1-mini*', '2025-04-14', 0.4, 1.6, 0.1],
  ['gpt-4.1-nano*', '2025-04-14', 0.1, 0.4, 0.025],
  ['gpt-5', '2025-08-07', 1.25, 10, 0.125],
  ['gpt-5-2025-08-07', '2025-08-07', 1.25, 10, 0.125],
  ['gpt-5-mini*', '2025-08-07', 0.25, 2, 0.025],
  ['gpt-5-nano*', '2025-08-07', 0.05, 0.4, 0.005],
  ['o1', '2024-12-17', 15, 60, 7.5],
  ['o1-2024-12-17', '2024-12-17', 15, 60, 7.5],
  ['o1-mini*', '2024-09-12', 1.1, 4.4, 0.55],
  ['o3-mini*', '2025-01-31', 1.1, 4.4, 0.55],
  ['o3', '2025-04-16', 10, 40, 2.5],
  ['o3', '2025-06-10', 2, 8, 0.5],
  ['o3-2025-04-16', '2025-04-16', 10, 40, 2.5],
  ['o3-2025-04-16', '2025-06-10', 2, 8, 0.5],
  ['o4-mini*', '2025-04-16', 1.1, 4.4, 0.275],
  ['gpt-4-turbo*', '2024-04-09', 10, 30],
  ['gpt-3.5-turbo*', '2024-01-25', 0.5, 1.5],
  ['text-embedding-3-small', '2024-01-25', 0.02, 0],
  ['text-embedding-3-large', '2024-01-25', 0.13, 0],
  ['text-embedding-ada-002', '2022-12-15', 0.1, 0],
]);

// Anthropic: cache writes (5-minute) cost 1.25 × input, cache reads 0.1 × input
const ANTHROPIC: PriceEntry[] = [
  ...rows('anthropic', [
    ['claude-3-haiku*', '2024-03-07', 0.25, 1.25, 0.03, 0.3],
    ['claude-3-opus*', '2024-02-29', 15, 75, 1.5, 18.75],
    ['claude-3-5-haiku*', '2024-10-22', 0.8, 4, 0.08, 1],
    ['claude-3-5-sonnet*', '2024-06-20', 3, 15, 0.3, 3.75],
    ['claude-3-7-sonnet*', '2025-02-24', 3, 15, 0.3, 3.75],
    ['claude-opus-4*', '2025-05-22', 15, 75, 1.5, 18.75],
    ['claude-opus-4-1*', '2025-08-05', 15, 75, 1.5, 18.75],
    ['claude-opus-4-5*', '2025-11-24', 5, 25, 0.5, 6.25],
    ['claude-haiku-4-5*', '2025-10-15', 1, 5, 0.1, 1.25],
  ]),
  // Sonnet 4 and 4.5: prompts over 200k tokens (1M context) cost more
  ...rows(
    'anthropic',
    [
      ['claude-sonnet-4*', '2025-05-22', 3, 15, 0.3, 3.75],
      ['claude-sonnet-4-5*', '2025-09-29', 3, 15, 0.3, 3.75],
    ],
    { tiers: [{ aboveInputTokens: 200_000, input: usd(6), output: usd(22.5), cacheRead: usd(0.6), cacheWrite: usd(7.5) }] },
  ),
];

const GOOGLE: PriceEntry[] = [
  ...rows('google', [
    ['gemini-2.5-flash', '2025-06-17', 0.3, 2.5],
    ['gemini-2.5-flash-lite*', '2025-07-22', 0.1, 0.4],
    ['gemini-2.0-flash', '2025-02-05', 0.1, 0.4],
    ['gemini-2.0-flash-001', '2025-02-05', 0.1, 0.4],
    ['gemini-2.0-flash-lite*', '2025-02-25', 0.075, 0.3],
  ]),
  ...rows('google', [['gemini-2.5-pro*', '2025-06-17', 1.25, 10]], {
    tiers: [{ aboveInputTokens: 200_000, input: usd(2.5), output: usd(15) }],
  }),
  ...rows('google', [['gemini-1.5-pro*', '2024-10-01', 1.25, 5]], {
    tiers: [{ aboveInputTokens: 128_000, input: usd(2.5), output: usd(10) }],
  }),
  ...rows('google', [['gemini-1.5-flash', '2024-08-12', 0.075, 0.3], ['gemini-1.5-flash-00*', '2024-08-12', 0.075, 0.3]], {
    tiers: [{ aboveInputTokens: 128_000, input: usd(0.15), output: usd(0.6) }],
  }),
];

export const PRICE_TABLE: readonly PriceEntry[] = [...OPENAI, ...ANTHROPIC, ...GOOGLE];
