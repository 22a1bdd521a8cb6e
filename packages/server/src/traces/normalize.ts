import type { Message, SpanKind, SpanStatus, TokenUsage } from '@hangar/protocol';
import type { AttributeValue, Attributes, OtlpEvent, OtlpSpan } from './otlp-decode.js';
import type { SpanInput } from './traces-service.js';

/**
 * Maps an OTLP span onto Hangar's one span model, whichever attribute convention it follows:
 * OpenTelemetry GenAI semantic conventions (`gen_ai.*`, current names and the older ones still
 * emitted), OpenInference (`openinference.span.kind`, `llm.*`, `input.value`, `tool.*`) and the
 * Vercel AI SDK (`ai.*`). Each field has its own small function, tried convention by convention.
 */

type JsonValue = NonNullable<Message['content']> | null;

// ---------------------------------------------------------------------------------------------
// small readers

function str(v: AttributeValue | undefined): string | null {
  if (typeof v === 'string') return v.length ? v : null;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function int(v: AttributeValue | undefined): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
}

function first<T>(attrs: Attributes, keys: readonly string[], read: (v: AttributeValue | undefined) => T | null): T | null {
  for (const k of keys) {
    const v = read(attrs[k]);
    if (v !== null) return v;
  }
  return null;
}

/** A JSON string's value, or the value itself when it is not a string of JSON. */
function parsed(v: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof v !== 'string') return v;
  const t = v.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return v;
  try {
    return JSON.parse(v) as AttributeValue;
  } catch {
    return v;
  }
}

function isRecord(v: unknown): v is Record<string, AttributeValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Groups flattened list attributes: `prefix.0.message.role`, `prefix.0.message.content`,
 * `prefix.1…` → [{ 'message.role': …, 'message.content': … }, …] in index order.
 */
export function indexed(attrs: Attributes, prefix: string): Attributes[] {
  // nothing allocated for the usual span, which has no such keys
  let byIndex: Map<number, Attributes> | null = null;
  for (const key in attrs) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const i = Number(rest.slice(0, dot));
    if (!Number.isInteger(i)) continue;
    byIndex ??= new Map();
    let entry = byIndex.get(i);
    if (!entry) byIndex.set(i, (entry = {}));
    entry[rest.slice(dot + 1)] = attrs[key]!;
  }
  return byIndex ? [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v) : NONE;
}

const NONE: Attributes[] = [];

// ---------------------------------------------------------------------------------------------
// kind

const OPENINFERENCE_KINDS: Record<string, SpanKind> = {
  LLM: 'llm',
  EMBEDDING: 'embedding',
  TOOL: 'tool',
  AGENT: 'agent',
  CHAIN: 'chain',
  RETRIEVER: 'retriever',
  RERANKER: 'retriever',
  GUARDRAIL: 'guardrail',
  EVALUATOR: 'evaluator',
};

const GENAI_OPERATIONS: Record<string, SpanKind> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  completion: 'llm',
  embeddings: 'embedding',
  embedding: 'embedding',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
};

/** The AI SDK's operation id (`ai.generateText.doGenerate`), or null for a span that is not one. */
export function aiSdkOperation(attrs: Attributes, name: string): string | null {
  const op = str(attrs['ai.operationId']) ?? str(attrs['operation.name']);
  if (op?.startsWith('ai.')) return op.split(' ')[0]!;
  return name.startsWith('ai.') && ('ai.model.id' in attrs || name === 'ai.toolCall') ? name : null;
}

/** Provider calls inside an AI SDK operation carry the tokens; the operation around them does not. */
function isAiSdkProviderCall(op: string): boolean {
  return op.endsWith('.doGenerate') || op.endsWith('.doStream') || op.endsWith('.doEmbed');
}

/** OpenLLMetry (Traceloop) marks its own workflow spans; its model calls use `gen_ai.*`. */
const TRACELOOP_KINDS: Record<string, SpanKind> = { workflow: 'chain', task: 'chain', agent: 'agent', tool: 'tool' };

export function kindOf(attrs: Attributes, name: string): SpanKind {
  const oi = str(attrs['openinference.span.kind']);
  if (oi) return OPENINFERENCE_KINDS[oi.toUpperCase()] ?? 'other';
  const traceloop = str(attrs['traceloop.span.kind']);
  if (traceloop && TRACELOOP_KINDS[traceloop]) return TRACELOOP_KINDS[traceloop];
  const op = aiSdkOperation(attrs, name);
  if (op) {
    if (op === 'ai.toolCall') return 'tool';
    if (op.endsWith('.doEmbed')) return 'embedding';
    if (isAiSdkProviderCall(op)) return 'llm';
    return 'chain';
  }
  const genai = str(attrs['gen_ai.operation.name']);
  if (genai) return GENAI_OPERATIONS[genai] ?? 'other';
  if ('gen_ai.request.model' in attrs || 'gen_ai.system' in attrs || 'gen_ai.provider.name' in attrs) return 'llm';
  if ('gen_ai.tool.name' in attrs) return 'tool';
  return 'other';
}

// ---------------------------------------------------------------------------------------------
// provider and model

const PROVIDER_ALIASES: Record<string, string> = {
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  gemini: 'google',
  vertex_ai: 'google',
  vertexai: 'google',
  'google.generative-ai': 'google',
  'google.vertex': 'google',
  'az.ai.openai': 'azure',
  'azure.ai.openai': 'azure',
  'az.ai.inference': 'azure',
  'azure.ai.inference': 'azure',
  'aws.bedrock': 'bedrock',
  'amazon-bedrock': 'bedrock',
  'x_ai': 'xai',
};

/** One name per provider: `openai`, `anthropic`, `google`, `azure`, `bedrock`, `mistral`, … */
export function normalizeProvider(raw: string): string {
  const p = raw.trim().toLowerCase();
  if (PROVIDER_ALIASES[p]) return PROVIDER_ALIASES[p];
  // the AI SDK says `openai.chat`, `anthropic.messages`, `google.generative-ai`
  const head = p.split('.')[0]!;
  return PROVIDER_ALIASES[head] ?? head;
}

export function providerOf(attrs: Attributes): string | null {
  const raw = first(attrs, ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'ai.model.provider'], str);
  return raw === null ? null : normalizeProvider(raw);
}

export function modelOf(attrs: Attributes): string | null {
  return first(
    attrs,
    ['gen_ai.response.model', 'llm.model_name', 'ai.response.model', 'gen_ai.request.model', 'ai.model.id', 'embedding.model_name'],
    str,
  );
}

// ---------------------------------------------------------------------------------------------
// tokens and reported cost

const USAGE_KEYS: Record<keyof TokenUsage, readonly string[]> = {
  input: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.inputTokens', 'ai.usage.promptTokens', 'ai.usage.tokens'],
  output: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion', 'ai.usage.outputTokens', 'ai.usage.completionTokens'],
  cacheRead: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cache_read_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    'ai.usage.cachedInputTokens',
    'ai.usage.inputTokenDetails.cacheReadTokens',
  ],
  cacheWrite: [
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'llm.token_count.prompt_details.cache_write',
    'ai.usage.inputTokenDetails.cacheWriteTokens',
  ],
  reasoning: [
    'gen_ai.usage.reasoning.output_tokens',
    'gen_ai.usage.reasoning_tokens',
    'llm.token_count.completion_details.reasoning',
    'ai.usage.reasoningTokens',
    'ai.usage.outputTokenDetails.reasoningTokens',
  ],
};

export const NO_USAGE: TokenUsage = { input: null, output: null, cacheRead: null, cacheWrite: null, reasoning: null };

export function usageOf(attrs: Attributes): TokenUsage {
  return {
    input: first(attrs, USAGE_KEYS.input, int),
    output: first(attrs, USAGE_KEYS.output, int),
    cacheRead: first(attrs, USAGE_KEYS.cacheRead, int),
    cacheWrite: first(attrs, USAGE_KEYS.cacheWrite, int),
    reasoning: first(attrs, USAGE_KEYS.reasoning, int),
  };
}

/** A cost the instrumentation or provider reported, in USD, as integer micro-units. */
export function providerCostOf(attrs: Attributes): number | null {
  for (const k of ['gen_ai.usage.cost', 'gen_ai.cost.total', 'llm.cost.total', 'ai.usage.cost']) {
    const v = attrs[k];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n) && n >= 0) return Math.round(n * 1_000_000);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// messages

type ToolCall = NonNullable<Message['toolCalls']>[number];

function toolCall(id: AttributeValue | undefined, name: AttributeValue | undefined, args: AttributeValue | undefined): ToolCall | null {
  const n = str(name);
  if (!n) return null;
  return { arguments: (parsed(args) ?? null) as JsonValue, id: str(id), name: n };
}

/**
 * A message without its empty fields. Messages, parts and tool calls are built with their keys in
 * sorted order: the blob's canonical JSON is then JSON.stringify's own, without sorted copies.
 */
function compact(m: Message): Message {
  const out = { content: m.content } as Message;
  if (m.name) out.name = m.name;
  out.role = m.role;
  if (m.toolCallId) out.toolCallId = m.toolCallId;
  if (m.toolCalls?.length) out.toolCalls = m.toolCalls;
  return out;
}

/** Text parts alone become one string; anything else stays a list of parts. */
function joinText(texts: string[], others: JsonValue[]): JsonValue {
  if (others.length === 0) return texts.join('');
  return [...texts.map((text) => ({ text, type: 'text' })), ...others] as JsonValue;
}

/**
 * A message in the shapes chat APIs and the AI SDK use: `{ role, content: string | parts,
 * tool_calls? }` (OpenAI), AI SDK parts (`text`, `tool-call`, `tool-result`) and GenAI parts
 * (`text`, `tool_call`, `tool_call_response`, with `parts` instead of `content`).
 */
export function messageFrom(raw: unknown): Message | null {
  if (!isRecord(raw)) return null;
  const role = str(raw.role) ?? 'user';
  const texts: string[] = [];
  const others: JsonValue[] = [];
  const toolCalls: ToolCall[] = [];
  let toolCallId = str(raw.tool_call_id) ?? str(raw.toolCallId) ?? undefined;
  const parts = raw.parts ?? raw.content;
  if (typeof parts === 'string') texts.push(parts);
  else if (Array.isArray(parts)) {
    for (const p of parts) {
      if (typeof p === 'string') texts.push(p);
      if (!isRecord(p)) continue;
      const type = str(p.type);
      if (type === 'text' && (typeof p.text === 'string' || typeof p.content === 'string')) texts.push(str(p.text) ?? str(p.content) ?? '');
      else if (type === 'tool-call' || type === 'tool_call') {
        const call = toolCall(p.toolCallId ?? p.id, p.toolName ?? p.name, p.input ?? p.args ?? p.arguments);
        if (call) toolCalls.push(call);
      } else if (type === 'tool-result' || type === 'tool_call_response') {
        toolCallId ??= str(p.toolCallId) ?? str(p.id) ?? undefined;
        const result = p.output ?? p.result ?? p.response ?? null;
        others.push((isRecord(result) && result.type === 'text' && typeof result.value === 'string' ? result.value : parsed(result)) as JsonValue);
      } else others.push(p as JsonValue);
    }
  } else if (parts !== undefined && parts !== null) others.push(parts as JsonValue);
  if (Array.isArray(raw.tool_calls)) {
    for (const c of raw.tool_calls) {
      if (!isRecord(c)) continue;
      const fn = isRecord(c.function) ? c.function : c;
      const call = toolCall(c.id, fn.name, fn.arguments);
      if (call) toolCalls.push(call);
    }
  }
  const content = role === 'tool' && texts.length === 0 && others.length === 1 ? others[0]! : joinText(texts, others);
  return compact({ role, content, toolCalls, toolCallId, name: str(raw.name) ?? undefined });
}

function messagesFrom(raw: AttributeValue | undefined): Message[] | null {
  const v = parsed(raw);
  if (!Array.isArray(v)) return null;
  return v.map(messageFrom).filter((m): m is Message => m !== null);
}

/** OpenInference's flattened `llm.input_messages.N.message.*`. */
function openInferenceMessages(attrs: Attributes, prefix: string): Message[] | null {
  const list = indexed(attrs, prefix);
  if (!list.length) return null;
  return list.map((m) => {
    const texts: string[] = [];
    const others: JsonValue[] = [];
    const content = str(m['message.content']);
    if (content !== null) texts.push(content);
    for (const part of indexed(m, 'message.contents.')) {
      const text = str(part['message_content.text']);
      if (text !== null) texts.push(text);
      else if (str(part['message_content.image.image.url'])) others.push({ type: 'image', url: str(part['message_content.image.image.url']) });
    }
    const toolCalls = indexed(m, 'message.tool_calls.')
      .map((c) => toolCall(c['tool_call.id'], c['tool_call.function.name'], c['tool_call.function.arguments']))
      .filter((c): c is ToolCall => c !== null);
    return compact({
      role: str(m['message.role']) ?? 'user',
      content: joinText(texts, others),
      toolCalls,
      toolCallId: str(m['message.tool_call_id']) ?? undefined,
      name: str(m['message.name']) ?? undefined,
    });
  });
}

/** The older GenAI (OpenLLMetry) `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`. */
function indexedGenAiMessages(attrs: Attributes, prefix: string): Message[] | null {
  const list = indexed(attrs, prefix);
  if (!list.length) return null;
  return list.map((m) => {
    const toolCalls = indexed(m, 'tool_calls.')
      .map((c) => toolCall(c.id, c.name, c.arguments))
      .filter((c): c is ToolCall => c !== null);
    const content = parsed(m.content);
    const fromParts = Array.isArray(content) ? messageFrom({ role: m.role ?? 'user', content }) : null;
    return compact({
      role: str(m.role) ?? 'user',
      content: fromParts ? fromParts.content : ((content ?? '') as JsonValue),
      toolCalls: [...(fromParts?.toolCalls ?? []), ...toolCalls],
      toolCallId: str(m.tool_call_id) ?? undefined,
    });
  });
}

const GENAI_MESSAGE_EVENTS: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** GenAI span events: per-message events (older spec), or content events holding JSON. */
function genAiEventMessages(events: OtlpEvent[]): { input: Message[] | null; output: Message[] | null } {
  if (events.length === 0) return NO_MESSAGES;
  let input: Message[] | null = null;
  let output: Message[] | null = null;
  for (const e of events) {
    const a = e.attributes;
    if (e.name === 'gen_ai.content.prompt') input = messagesFrom(a['gen_ai.prompt']) ?? input;
    else if (e.name === 'gen_ai.content.completion') output = messagesFrom(a['gen_ai.completion']) ?? output;
    else if (e.name === 'gen_ai.client.inference.operation.details') {
      input = genAiPartsMessages(a['gen_ai.input.messages'], a['gen_ai.system_instructions']) ?? input;
      output = genAiPartsMessages(a['gen_ai.output.messages']) ?? output;
    } else if (GENAI_MESSAGE_EVENTS[e.name]) {
      const m = messageFrom({ role: GENAI_MESSAGE_EVENTS[e.name]!, ...a, content: parsed(a.content ?? a['gen_ai.event.content']) ?? '' });
      if (m) (input ??= []).push(m);
    } else if (e.name === 'gen_ai.choice') {
      const m = messageFrom(parsed(a.message) ?? { role: 'assistant', content: a.content ?? '' });
      if (m) (output ??= []).push(m);
    }
  }
  return { input, output };
}

/** Current GenAI: `gen_ai.input.messages` / `gen_ai.output.messages` (parts), `gen_ai.system_instructions`. */
function genAiPartsMessages(messages: AttributeValue | undefined, systemInstructions?: AttributeValue): Message[] | null {
  const list = messagesFrom(messages);
  const system = parsed(systemInstructions);
  if (system !== undefined && system !== null) {
    const m = messageFrom({ role: 'system', parts: Array.isArray(system) ? system : [{ type: 'text', content: system }] });
    if (m) return [m, ...(list ?? [])];
  }
  return list;
}

const NO_MESSAGES = { input: null, output: null } as const;

/** The AI SDK: `ai.prompt.messages` (provider calls) or `ai.prompt` (operations); `ai.response.*`. */
function aiSdkMessages(attrs: Attributes): { input: Message[] | null; output: Message[] | null } {
  let input = messagesFrom(attrs['ai.prompt.messages']);
  if (!input) {
    const prompt = parsed(attrs['ai.prompt']);
    if (isRecord(prompt)) {
      input = [];
      if (typeof prompt.system === 'string') input.push({ content: prompt.system, role: 'system' });
      if (typeof prompt.prompt === 'string') input.push({ content: prompt.prompt, role: 'user' });
      input.push(...(messagesFrom(prompt.messages) ?? []));
    }
  }
  let output: Message[] | null = null;
  const text = str(attrs['ai.response.text']);
  const object = str(attrs['ai.response.object']);
  const calls = parsed(attrs['ai.response.toolCalls']);
  const toolCalls = Array.isArray(calls)
    ? calls.map((c) => (isRecord(c) ? toolCall(c.toolCallId, c.toolName, c.input ?? c.args) : null)).filter((c): c is ToolCall => c !== null)
    : [];
  if (text !== null || object !== null || toolCalls.length) {
    output = [compact({ role: 'assistant', content: text ?? object ?? '', toolCalls })];
  }
  return { input, output };
}

/** OpenInference `input.value` / `output.value`: JSON when the mime type (or the text) says so. */
function ioValue(attrs: Attributes, which: 'input' | 'output'): AttributeValue | undefined {
  const v = attrs[which === 'input' ? 'input.value' : 'output.value'];
  if (v === undefined) return undefined;
  const mime = str(attrs[which === 'input' ? 'input.mime_type' : 'output.mime_type']);
  return mime === 'text/plain' ? v : parsed(v);
}

export interface SpanIo {
  input?: unknown;
  output?: unknown;
}

/** Input and output of a model call (messages), or of a tool or other step (its arguments and result). */
export function ioOf(kind: SpanKind, attrs: Attributes, events: OtlpEvent[]): SpanIo {
  let input: unknown;
  let output: unknown;
  if (kind === 'tool') {
    input = parsed(attrs['gen_ai.tool.call.arguments'] ?? attrs['ai.toolCall.args'] ?? attrs['ai.toolCall.input'] ?? attrs['tool_call.function.arguments']);
    output = parsed(attrs['gen_ai.tool.call.result'] ?? attrs['ai.toolCall.result'] ?? attrs['ai.toolCall.output']);
  } else {
    // the events and the AI SDK's attributes are read only when no convention before them answered
    let ev: { input: Message[] | null; output: Message[] | null } | undefined;
    let sdk: { input: Message[] | null; output: Message[] | null } | undefined;
    input =
      openInferenceMessages(attrs, 'llm.input_messages.') ??
      genAiPartsMessages(attrs['gen_ai.input.messages'], attrs['gen_ai.system_instructions']) ??
      indexedGenAiMessages(attrs, 'gen_ai.prompt.') ??
      (ev ??= genAiEventMessages(events)).input ??
      (sdk ??= aiSdkMessages(attrs)).input ??
      undefined;
    output =
      openInferenceMessages(attrs, 'llm.output_messages.') ??
      genAiPartsMessages(attrs['gen_ai.output.messages']) ??
      indexedGenAiMessages(attrs, 'gen_ai.completion.') ??
      (ev ??= genAiEventMessages(events)).output ??
      (sdk ??= aiSdkMessages(attrs)).output ??
      undefined;
  }
  input ??= ioValue(attrs, 'input');
  output ??= ioValue(attrs, 'output');
  return { input, output };
}

export function toolNameOf(attrs: Attributes): string | null {
  return first(attrs, ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name', 'tool_call.function.name'], str);
}

// ---------------------------------------------------------------------------------------------
// status, attribution, and what is kept as attributes

export function statusOf(span: Pick<OtlpSpan, 'statusCode' | 'statusMessage' | 'attributes' | 'events'>): {
  status: SpanStatus;
  statusMessage: string | null;
  errorType: string | null;
} {
  const exception = span.events.length ? (span.events.find((e) => e.name === 'exception')?.attributes ?? NO_ATTRIBUTES) : NO_ATTRIBUTES;
  const status: SpanStatus = span.statusCode === 2 ? 'error' : span.statusCode === 1 ? 'ok' : 'unset';
  const errorType = str(span.attributes['error.type']) ?? str(exception['exception.type']);
  return {
    status,
    statusMessage: span.statusMessage || (status === 'error' ? str(exception['exception.message']) : null),
    errorType: status === 'error' || errorType ? errorType : null,
  };
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});

export function agentOf(attrs: Attributes, resource: Attributes): string | null {
  return first(attrs, ['hangar.agent', 'gen_ai.agent.name', 'agent.name'], str) ?? str(resource['hangar.agent']);
}

/** Content moved to the blob store (messages, arguments, results) or too large to keep (vectors). */
const CONTENT_PREFIXES = [
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'llm.input_messages.',
  'llm.output_messages.',
  'input.value',
  'output.value',
  'ai.prompt',
  'ai.response.text',
  'ai.response.object',
  'ai.response.toolCalls',
  'ai.toolCall.args',
  'ai.toolCall.input',
  'ai.toolCall.result',
  'ai.toolCall.output',
  'ai.embedding',
  'ai.value',
  'embedding.embeddings.',
];

/** CONTENT_PREFIXES by their first character: most keys are checked against a few, or none. */
const CONTENT_PREFIXES_BY_FIRST = new Map<number, string[]>();
for (const p of CONTENT_PREFIXES) {
  const c = p.charCodeAt(0);
  CONTENT_PREFIXES_BY_FIRST.set(c, [...(CONTENT_PREFIXES_BY_FIRST.get(c) ?? []), p]);
}

function isContent(key: string): boolean {
  const prefixes = CONTENT_PREFIXES_BY_FIRST.get(key.charCodeAt(0));
  if (prefixes) for (const p of prefixes) if (key.startsWith(p)) return true;
  return false;
}

export function keptAttributes(attrs: Attributes): Attributes {
  const out: Attributes = {};
  for (const key in attrs) if (!isContent(key)) out[key] = attrs[key]!;
  return out;
}

const DAY_MS = 86_400_000;
/** Year 10000: past it toISOString writes six-digit years, left to Date. */
const FAST_ISO_END = 253_402_300_800_000;
const DIGITS2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let isoDay = NaN;
let isoDayText = '';

/**
 * `new Date(ms).toISOString()`, formatted here: toISOString costs about a microsecond, and a span
 * has two times. The date part is kept from the last call (a request's spans share their day).
 */
export function isoOfMs(ms: number): string {
  if (!(ms >= 0 && ms < FAST_ISO_END) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDayText = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  let t = ms - day * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const sec = t % 60;
  t = (t - sec) / 60;
  const min = t % 60;
  const hour = (t - min) / 60;
  return `${isoDayText}${DIGITS2[hour]}:${DIGITS2[min]}:${DIGITS2[sec]}.${DIGITS3[milli]}Z`;
}

function iso(ns: bigint): string {
  return isoOfMs(Number(ns / 1_000_000n));
}

/** One OTLP span as a SpanInput for `traces.record()`. */
export function normalizeSpan(span: OtlpSpan): SpanInput {
  const attrs = span.attributes;
  const kind = kindOf(attrs, span.name);
  const op = aiSdkOperation(attrs, span.name);
  // an AI SDK operation sums its provider calls, which are spans of their own: counting both would double
  const countsTokens = op === null || isAiSdkProviderCall(op);
  const attributes = keptAttributes(attrs);
  if (span.scopeName) attributes['otel.scope.name'] = span.scopeName;
  const { status, statusMessage, errorType } = statusOf(span);
  const io = ioOf(kind, attrs, span.events);
  // one literal with every field (absent input or output is undefined), not spreads: V8 keeps such
  // objects fast, and ingest makes hundreds per request
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind,
    status,
    statusMessage,
    errorType,
    startTime: iso(span.startNs),
    endTime: iso(span.endNs),
    durationMs: Number(span.endNs - span.startNs) / 1e6,
    serviceName: str(span.resource['service.name']),
    agent: agentOf(attrs, span.resource),
    provider: providerOf(attrs),
    model: modelOf(attrs),
    usage: countsTokens ? usageOf(attrs) : NO_USAGE,
    providerCostMicros: countsTokens ? providerCostOf(attrs) : null,
    toolName: toolNameOf(attrs),
    attributes,
    source: 'otlp',
    input: io.input,
    output: io.output,
  };
}
