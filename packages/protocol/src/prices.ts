import { z } from 'zod';

/**
 * Prices are integer micro-USD per million tokens (1 USD = 1,000,000), so `2_500_000` is $2.50 per
 * million tokens. A price left out (null) falls back: cache reads and writes to the input price,
 * reasoning to the output price.
 */
const PerMillion = z.number().int().min(0).max(1e12);

export const PriceTier = z.object({
  aboveInputTokens: z.number().int().min(0).describe('applies when the prompt (all input tokens) is larger than this'),
  input: PerMillion,
  output: PerMillion,
  cacheRead: PerMillion.nullable().optional(),
  cacheWrite: PerMillion.nullable().optional(),
  reasoning: PerMillion.nullable().optional(),
});
export type PriceTier = z.infer<typeof PriceTier>;

export const PriceEntry = z.object({
  provider: z.string().trim().min(1).max(100).describe('openai, anthropic, google, …'),
  model: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe("the model name, or a pattern with '*' for any characters, e.g. 'gpt-4o-mini*'"),
  effectiveFrom: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/, 'a date (2025-01-31) or a UTC time (2025-01-31T12:00:00Z)')
    .describe('the price applies to spans that start at or after this time'),
  input: PerMillion.describe('micro-USD per million input tokens'),
  output: PerMillion.describe('micro-USD per million output tokens'),
  cacheRead: PerMillion.nullable().optional(),
  cacheWrite: PerMillion.nullable().optional(),
  reasoning: PerMillion.nullable().optional(),
  tiers: z.array(PriceTier).max(10).optional().describe('higher prices for long prompts'),
});
export type PriceEntry = z.infer<typeof PriceEntry>;

export const PriceList = z.object({
  overrides: z.array(PriceEntry).describe("this project's prices; they win over the built-in table"),
  builtIn: z.array(PriceEntry).describe('the price table shipped with this Hangar version'),
});
export type PriceList = z.infer<typeof PriceList>;

export const SetPricesRequest = z.object({ overrides: z.array(PriceEntry).max(1000) }).strict();
export type SetPricesRequest = z.infer<typeof SetPricesRequest>;
