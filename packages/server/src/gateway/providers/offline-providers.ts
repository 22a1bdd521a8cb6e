import { createHash } from 'node:crypto';
import { randomHex } from '../../util/ids.js';
import type { Script, ScriptReply } from '@hangar/protocol';
import { ApiError } from '../../http/api-error.js';
import { anthropicFormat } from '../anthropic-format.js';
import type { Endpoint, ModelProvider, ProviderReply, ProviderRequest } from '../gateway-types.js';
import { openaiFormat } from '../openai-format.js';
import { asArray, roughTokens, type Answer, type WireFormat } from '../wire-format.js';

export const ECHO_MODEL = 'hangar/echo';
const EMBEDDING_DIMENSIONS = 16;

export const formatOf = (endpoint: Endpoint): WireFormat =>
  endpoint === 'messages' ? anthropicFormat : openaiFormat;

async function* fromArray(items: string[]): AsyncIterable<string> {
  for (const item of items) yield item;
}

/** A reply in the endpoint's format, whole or as a stream of events. */
function reply(request: ProviderRequest, response: Record<string, unknown>): ProviderReply {
  if (!request.stream) return { json: response };
  // always include usage: the gateway drops the chunk again for a client that did not ask for it
  return {
    chunks: fromArray(formatOf(request.endpoint).toSse(response, { includeUsage: true, chunkText: true })),
  };
}

function inputText(request: ProviderRequest): string {
  const format = formatOf(request.endpoint);
  return format
    .inputMessages(request.body)
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');
}

function answer(
  request: ProviderRequest,
  model: string,
  text: string,
  toolCalls: Answer['toolCalls'] = [],
): Record<string, unknown> {
  const output = text + toolCalls.map((t) => t.name + JSON.stringify(t.arguments)).join('');
  return formatOf(request.endpoint).build({
    model,
    text,
    toolCalls,
    usage: { input: roughTokens(inputText(request)), output: roughTokens(output) },
  });
}

/** A deterministic unit vector for a text: equal texts embed equally, different ones differently. */
function fakeEmbedding(text: string): number[] {
  const digest = createHash('sha256').update(text).digest();
  const v = Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => digest[i]! / 127.5 - 1);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

/** `hangar/echo`, in every project: answers with the last user message; embeds deterministically. */
export function createEchoProvider(): ModelProvider {
  return {
    name: 'hangar',
    system: 'hangar',
    serves: new Set<Endpoint>(['chat', 'messages', 'embeddings']),
    async send(request) {
      if (request.endpoint === 'embeddings') {
        const input = request.body.input;
        const texts =
          typeof input === 'string'
            ? [input]
            : asArray(input).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
        const tokens = texts.reduce((n, t) => n + roughTokens(t), 0);
        return {
          json: {
            object: 'list',
            data: texts.map((t, index) => {
              const vector = fakeEmbedding(t);
              const embedding =
                request.body.encoding_format === 'base64'
                  ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
                  : vector;
              return { object: 'embedding', index, embedding };
            }),
            model: ECHO_MODEL,
            usage: { prompt_tokens: tokens, total_tokens: tokens },
          },
        };
      }
      return reply(
        request,
        answer(request, ECHO_MODEL, formatOf(request.endpoint).lastUserText(request.body)),
      );
    },
  };
}

function pickReply(script: Script, lastUser: string, turn: number): ScriptReply | undefined {
  for (const rule of script.rules) {
    if (rule.match.turn !== undefined && rule.match.turn !== turn) continue;
    if (rule.match.lastUser !== undefined && !new RegExp(rule.match.lastUser, 'i').test(lastUser)) continue;
    return rule.reply;
  }
  return script.fallback;
}

/** A scripted provider: the first rule matching the last user message and turn answers (text and/or tool calls). */
export function createScriptedProvider(name: string, script: Script): ModelProvider {
  return {
    name,
    system: 'hangar',
    serves: new Set<Endpoint>(['chat', 'messages']),
    async send(request) {
      const format = formatOf(request.endpoint);
      const lastUser = format.lastUserText(request.body);
      const turn = format.userTurns(request.body);
      const chosen = pickReply(script, lastUser, turn);
      if (!chosen) {
        throw new ApiError(
          'upstream_rejected',
          `Scripted provider ${name} has no rule for turn ${turn} and this message, and no fallback.`,
          {
            details: { upstreamStatus: 400, lastUser, turn },
          },
        );
      }
      const prefix = request.endpoint === 'messages' ? 'toolu_' : 'call_';
      const toolCalls = (chosen.toolCalls ?? []).map((t) => ({
        id: prefix + randomHex(8),
        name: t.name,
        arguments: t.arguments,
      }));
      return reply(
        request,
        answer(request, `${name}/${String(request.body.model)}`, chosen.text ?? '', toolCalls),
      );
    },
  };
}

/** Finds the newest recorded answer to a canonical request, no older than maxAgeMs (null: any age). */
export type AnswerLookup = (
  projectId: string,
  requestSha256: string,
  maxAgeMs: number | null,
) => Promise<{ response: Record<string, unknown>; stream: string; seq: number } | null>;

/** A replay provider: answers from calls recorded earlier in the journal, matched by canonical request. */
export function createReplayProvider(name: string, lookup: AnswerLookup): ModelProvider {
  return {
    name,
    system: 'hangar',
    serves: new Set<Endpoint>(['chat', 'messages', 'embeddings']),
    async send(request) {
      const found = await lookup(request.projectId, request.requestSha256, null);
      if (!found) {
        throw new ApiError(
          'upstream_rejected',
          `Replay provider ${name} has no recorded call with this request (sha256 ${request.requestSha256}).`,
          {
            details: { upstreamStatus: 404, requestSha256: request.requestSha256 },
          },
        );
      }
      return { ...reply(request, found.response), replayOf: { stream: found.stream, seq: found.seq } };
    },
  };
}
