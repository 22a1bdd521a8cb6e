import { z } from 'zod';
import { Timestamp } from './schemas.js';

/**
 * Where a provider sends calls: `openai` (api.openai.com), `anthropic` (api.anthropic.com), any
 * `openai-compatible` base URL (Ollama, vLLM, llama.cpp server, OpenRouter), or one of the offline
 * kinds: `scripted` (answers by rules) and `replay` (answers from calls recorded in the journal).
 */
export const PROVIDER_TYPES = ['openai', 'anthropic', 'openai-compatible', 'scripted', 'replay'] as const;
export const ProviderType = z.enum(PROVIDER_TYPES);
export type ProviderType = z.infer<typeof ProviderType>;

export const ProviderName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'lower-case letters, digits, _ and - only, starting with a letter or digit',
  )
  .refine((n) => n !== 'hangar', "'hangar' is reserved for Hangar's built-in models");

/** What a scripted provider answers: text, tool calls, or both. */
export const ScriptReply = z
  .object({
    text: z.string().optional(),
    toolCalls: z
      .array(
        z.object({
          name: z.string().min(1).max(200),
          arguments: z.record(z.string(), z.unknown()).default({}),
        }),
      )
      .optional(),
  })
  .refine((r) => r.text !== undefined || (r.toolCalls?.length ?? 0) > 0, 'a reply needs text or toolCalls');
export type ScriptReply = z.infer<typeof ScriptReply>;

/** A rule of a scripted provider: the first rule whose every condition holds answers. */
export const ScriptRule = z.object({
  match: z
    .object({
      lastUser: z
        .string()
        .max(1000)
        .optional()
        .describe('a regular expression the last user message must match'),
      turn: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('the number of user messages so far (1 = first turn)'),
    })
    .default({}),
  reply: ScriptReply,
});
export type ScriptRule = z.infer<typeof ScriptRule>;

/** A scripted provider's fixture: rules in order, and what to answer when none matches. */
export const Script = z.object({ rules: z.array(ScriptRule).max(1000), fallback: ScriptReply.optional() });
export type Script = z.infer<typeof Script>;

export const PutProviderRequest = z
  .object({
    type: ProviderType,
    baseUrl: z
      .url()
      .max(2000)
      .optional()
      .describe('required for openai-compatible; overrides the default for openai and anthropic'),
    apiKey: z
      .string()
      .min(1)
      .max(8000)
      .nullable()
      .optional()
      .describe('stored encrypted; omit to keep the stored one, null to remove it'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(2000))
      .optional()
      .describe('sent upstream with every call'),
    script: Script.optional().describe('the fixture of a scripted provider'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.type === 'openai-compatible' && !p.baseUrl)
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message: 'an openai-compatible provider needs baseUrl',
      });
    if (p.type === 'scripted' && !p.script)
      ctx.addIssue({ code: 'custom', path: ['script'], message: 'a scripted provider needs script' });
    if (p.script && p.type !== 'scripted')
      ctx.addIssue({ code: 'custom', path: ['script'], message: 'only a scripted provider takes a script' });
  });
export type PutProviderRequest = z.input<typeof PutProviderRequest>;

/** A provider as the API shows it: never its key, only whether it has one. */
export const Provider = z.object({
  name: z.string(),
  type: ProviderType,
  baseUrl: z.string().nullable(),
  hasApiKey: z.boolean(),
  headerNames: z.array(z.string()).describe('names of the extra headers; their values are not shown'),
  script: Script.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Provider = z.infer<typeof Provider>;

/** A route's name is the model name clients send; `provider/model` names are not routes, so no slash. */
export const RouteName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits and . _ : - only');

/** `provider/model`, e.g. `openai/gpt-4o-mini`, or `hangar/echo`. */
export const RouteTarget = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}\/.+$/, 'provider/model, e.g. openai/gpt-4o-mini')
  .max(300);

export const RouteConfig = z
  .object({
    targets: z
      .array(RouteTarget)
      .min(1)
      .max(10)
      .describe('tried in order: the first is the primary, the rest are fallbacks'),
    retry: z
      .object({
        maxRetries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(2)
          .describe('retries of each target before falling back'),
        initialBackoffMs: z.number().int().min(0).max(60_000).default(250),
        maxBackoffMs: z.number().int().min(0).max(300_000).default(8000),
      })
      .default({ maxRetries: 2, initialBackoffMs: 250, maxBackoffMs: 8000 }),
    timeouts: z
      .object({
        perTryMs: z
          .number()
          .int()
          .min(1)
          .max(3_600_000)
          .default(60_000)
          .describe('per attempt, and the longest pause between streamed chunks'),
        totalMs: z
          .number()
          .int()
          .min(1)
          .max(3_600_000)
          .default(120_000)
          .describe('until the first byte, across all attempts and fallbacks'),
      })
      .default({ perTryMs: 60_000, totalMs: 120_000 }),
    cache: z
      .object({ ttlSeconds: z.number().int().min(1).max(31_536_000) })
      .nullable()
      .default(null)
      .describe('opt-in: answer an identical request from the journal while younger than ttlSeconds'),
  })
  .strict();
export type RouteConfig = z.infer<typeof RouteConfig>;
export type PutRouteRequest = z.input<typeof RouteConfig>;

export const Route = RouteConfig.extend({ name: z.string(), createdAt: Timestamp, updatedAt: Timestamp });
export type Route = z.infer<typeof Route>;
