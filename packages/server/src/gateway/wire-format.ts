import type { Message, TokenUsage } from '@hangar/protocol';
import type { SseEvent } from './sse.js';

/** A tool call an offline model makes. */
export interface AnswerToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What an offline model (echo, scripted) answers, before it is dressed in a wire format. */
export interface Answer {
  model: string;
  text: string;
  toolCalls: AnswerToolCall[];
  usage: { input: number; output: number };
}

/** Folds a response's stream of events into the response a non-streaming call would have returned. */
export interface StreamAggregator {
  /** Takes one event; `forward: false` means the client did not ask for it (e.g. a usage-only chunk). */
  push(event: SseEvent): { forward: boolean };
  /** The whole response so far (complete once the stream ended). */
  result(): Record<string, unknown>;
  /** Whether the stream said it was finished (OpenAI's [DONE], Anthropic's message_stop). */
  finished(): boolean;
}

/** The two wire formats the gateway speaks: OpenAI chat completions and Anthropic messages. */
export interface WireFormat {
  name: 'openai' | 'anthropic';
  /** A full non-streaming response for an answer. */
  build(answer: Answer): Record<string, unknown>;
  /** A full response as the events of a streaming one. */
  toSse(response: Record<string, unknown>, options: { includeUsage: boolean; chunkText: boolean }): string[];
  aggregator(options: { includeUsage: boolean }): StreamAggregator;
  usage(response: Record<string, unknown>): { usage: TokenUsage; providerCostMicros: number | null };
  inputMessages(request: Record<string, unknown>): Message[];
  outputMessages(response: Record<string, unknown>): Message[];
  /** The text of the last user message (what echo answers and scripted rules match). */
  lastUserText(request: Record<string, unknown>): string;
  /** How many user messages the request holds. */
  userTurns(request: Record<string, unknown>): number;
  /** An error event to end a stream that failed after it started. */
  errorEvent(code: string, message: string): string;
}

/** A rough token count for offline models: about four characters a token. */
export function roughTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

/** Splits text into word-sized pieces, so an offline model streams visibly. */
export function textPieces(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  return pieces.length ? pieces : [''];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}

export function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}
