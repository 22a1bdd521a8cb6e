import {
  GEN_AI,
  ModelCallSpan,
  compact,
  isRecord,
  num,
  observeCall,
  observeStream,
  parseJsonLoose,
  proxyWith,
  serverAttributes,
  str,
  tracerFor,
  type ChatMessage,
  type MessagePart,
  type OutputMessage,
  type WrapOptions,
} from './genai.js';

const PROVIDER = 'openai';

type Body = Record<string, unknown>;

/**
 * Traces an `openai` client: `chat.completions.create` (streaming too), `embeddings.create` and
 * `responses.create` emit one span each, with OpenTelemetry GenAI attributes (model, tokens,
 * messages, finish reasons, errors). Returns a proxy; the client itself is unchanged, and every
 * result is exactly what the client returned (streams included: the span ends when the stream is
 * read to the end, or stopped).
 * @example
 * import OpenAI from 'openai';
 * import { wrapOpenAI } from '@hangar/sdk/tracing';
 * const openai = wrapOpenAI(new OpenAI());
 * const reply = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function wrapOpenAI<C extends object>(client: C, options: WrapOptions = {}): C {
  const base = serverAttributes((client as { baseURL?: unknown }).baseURL);
  const start = (operation: string, body: Body, extra: Record<string, unknown> = {}) =>
    new ModelCallSpan({
      tracer: tracerFor(options),
      operation,
      model: str(body.model),
      attributes: {
        [GEN_AI.providerName]: PROVIDER,
        [GEN_AI.system]: PROVIDER,
        ...base,
        ...compact({ [GEN_AI.requestModel]: str(body.model), ...extra }),
      },
      content: options,
    });

  const chatCreate = (original: (...args: unknown[]) => unknown, self: unknown) =>
    function create(this: unknown, ...args: unknown[]) {
      const body = (isRecord(args[0]) ? args[0] : {}) as Body;
      const call = start('chat', body, chatRequestAttributes(body));
      call.setContent(GEN_AI.inputMessages, chatInputMessages(body.messages));
      return observeCall(
        call,
        () => original.apply(self, args),
        (value) => {
          if (body.stream === true) observeStream(call, value, ...chatStreamObserver(call));
          else {
            recordChatCompletion(call, value);
            call.end();
          }
        },
      );
    };

  const embeddingsCreate = (original: (...args: unknown[]) => unknown, self: unknown) =>
    function create(this: unknown, ...args: unknown[]) {
      const body = (isRecord(args[0]) ? args[0] : {}) as Body;
      const call = start('embeddings', body);
      return observeCall(
        call,
        () => original.apply(self, args),
        (value) => {
          if (isRecord(value)) {
            const first = Array.isArray(value.data) ? (value.data[0] as unknown) : undefined;
            const embedding = isRecord(first) ? first.embedding : undefined;
            call.setAttributes(
              compact({
                [GEN_AI.responseModel]: str(value.model),
                [GEN_AI.embeddingsDimensionCount]: Array.isArray(embedding) ? embedding.length : undefined,
              }),
            );
            const usage = isRecord(value.usage) ? value.usage : {};
            call.usage({ input: num(usage.prompt_tokens) ?? num(usage.input_tokens) });
          }
          call.end();
        },
      );
    };

  const responsesCreate = (original: (...args: unknown[]) => unknown, self: unknown) =>
    function create(this: unknown, ...args: unknown[]) {
      const body = (isRecord(args[0]) ? args[0] : {}) as Body;
      const call = start(
        'chat',
        body,
        compact({
          [GEN_AI.requestMaxTokens]: num(body.max_output_tokens),
          [GEN_AI.requestTemperature]: num(body.temperature),
          [GEN_AI.requestTopP]: num(body.top_p),
          [GEN_AI.requestStream]: body.stream === true ? true : undefined,
        }),
      );
      if (typeof body.instructions === 'string')
        call.setContent(GEN_AI.systemInstructions, [{ type: 'text', content: body.instructions }]);
      call.setContent(GEN_AI.inputMessages, responsesInputMessages(body.input));
      return observeCall(
        call,
        () => original.apply(self, args),
        (value) => {
          if (body.stream === true) {
            observeStream(
              call,
              value,
              (event) => {
                if (!isRecord(event) || !isRecord(event.response)) return;
                if (
                  event.type === 'response.completed' ||
                  event.type === 'response.incomplete' ||
                  event.type === 'response.failed'
                ) {
                  recordResponse(call, event.response);
                }
              },
              () => {},
            );
          } else {
            recordResponse(call, value);
            call.end();
          }
        },
      );
    };

  const wrapMethod = (
    resource: unknown,
    method: string,
    make: (original: (...args: unknown[]) => unknown, self: unknown) => unknown,
  ) => {
    if (!isRecord(resource) && typeof resource !== 'object') return undefined;
    return proxyWith(resource as object, (name, value) =>
      name === method && typeof value === 'function'
        ? make(value as (...args: unknown[]) => unknown, resource)
        : undefined,
    );
  };

  return proxyWith(client, (name, value) => {
    if (value === null || typeof value !== 'object') return undefined;
    switch (name) {
      case 'chat':
        return proxyWith(value, (sub, completions) =>
          sub === 'completions' && completions !== null && typeof completions === 'object'
            ? wrapMethod(completions, 'create', chatCreate)
            : undefined,
        );
      case 'embeddings':
        return wrapMethod(value, 'create', embeddingsCreate);
      case 'responses':
        return wrapMethod(value, 'create', responsesCreate);
      default:
        return undefined;
    }
  });
}

function chatRequestAttributes(body: Body): Record<string, unknown> {
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : undefined;
  return {
    [GEN_AI.requestMaxTokens]: num(body.max_completion_tokens) ?? num(body.max_tokens),
    [GEN_AI.requestTemperature]: num(body.temperature),
    [GEN_AI.requestTopP]: num(body.top_p),
    [GEN_AI.requestSeed]: num(body.seed),
    [GEN_AI.requestStopSequences]: stop,
    [GEN_AI.requestStream]: body.stream === true ? true : undefined,
  };
}

/** Chat Completions messages in the GenAI messages schema. */
export function chatInputMessages(messages: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  return messages.filter(isRecord).map((m) => {
    const role = str(m.role) ?? 'user';
    const parts: MessagePart[] = [];
    if (role === 'tool' || role === 'function') {
      parts.push({
        type: 'tool_call_response',
        id: str(m.tool_call_id) ?? null,
        response: contentText(m.content),
      });
    } else {
      parts.push(...contentParts(m.content));
      if (typeof m.refusal === 'string') parts.push({ type: 'text', content: m.refusal });
      if (Array.isArray(m.tool_calls)) parts.push(...m.tool_calls.filter(isRecord).map(toolCallPart));
    }
    return typeof m.name === 'string' ? { role, parts, name: m.name } : { role, parts };
  });
}

function contentParts(content: unknown): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.filter(isRecord).map((p): MessagePart => {
    if (typeof p.text === 'string') return { type: 'text', content: p.text };
    if (typeof p.refusal === 'string') return { type: 'text', content: p.refusal };
    // images, audio and files: their kind only, never their (possibly large, inline) data
    return { type: str(p.type) ?? 'unknown' };
  });
}

function contentText(content: unknown): unknown {
  if (typeof content === 'string' || !Array.isArray(content)) return content;
  return content
    .filter(isRecord)
    .map((p) => str(p.text) ?? '')
    .join('');
}

function toolCallPart(call: Record<string, unknown>): MessagePart {
  const fn = isRecord(call.function) ? call.function : {};
  return {
    type: 'tool_call',
    id: str(call.id) ?? null,
    name: str(fn.name) ?? '',
    arguments: parseJsonLoose(fn.arguments),
  };
}

function recordChatCompletion(call: ModelCallSpan, value: unknown): void {
  if (!isRecord(value)) return;
  const choices = Array.isArray(value.choices) ? value.choices.filter(isRecord) : [];
  const output: OutputMessage[] = choices.map((c) => {
    const message = isRecord(c.message) ? c.message : {};
    const [converted] = chatInputMessages([{ ...message, role: str(message.role) ?? 'assistant' }]) ?? [];
    return {
      role: converted?.role ?? 'assistant',
      parts: converted?.parts ?? [],
      finish_reason: str(c.finish_reason) ?? '',
    };
  });
  recordChatResult(call, value, output);
}

function recordChatResult(
  call: ModelCallSpan,
  value: Record<string, unknown>,
  output: OutputMessage[],
): void {
  call.setAttributes(
    compact({
      [GEN_AI.responseModel]: str(value.model),
      [GEN_AI.responseId]: str(value.id),
      [GEN_AI.responseFinishReasons]: output.map((m) => m.finish_reason),
    }),
  );
  call.setContent(GEN_AI.outputMessages, output);
  if (isRecord(value.usage)) call.usage(openAiUsage(value.usage));
}

function openAiUsage(usage: Record<string, unknown>) {
  const prompt = isRecord(usage.prompt_tokens_details)
    ? usage.prompt_tokens_details
    : isRecord(usage.input_tokens_details)
      ? usage.input_tokens_details
      : {};
  const completion = isRecord(usage.completion_tokens_details)
    ? usage.completion_tokens_details
    : isRecord(usage.output_tokens_details)
      ? usage.output_tokens_details
      : {};
  return {
    input: num(usage.prompt_tokens) ?? num(usage.input_tokens),
    output: num(usage.completion_tokens) ?? num(usage.output_tokens),
    cacheRead: num(prompt.cached_tokens),
    reasoning: num(completion.reasoning_tokens),
  };
}

interface StreamedChoice {
  role: string;
  text: string;
  finishReason: string;
  toolCalls: Map<number, { id: string | null; name: string; arguments: string }>;
}

/** Accumulates chat completion chunks into the message they spell out. */
function chatStreamObserver(call: ModelCallSpan): [(event: unknown) => void, () => void] {
  const choices = new Map<number, StreamedChoice>();
  let last: Record<string, unknown> = {};
  let usage: Record<string, unknown> | undefined;
  const onEvent = (chunk: unknown) => {
    if (!isRecord(chunk)) return;
    last = chunk;
    if (isRecord(chunk.usage)) usage = chunk.usage;
    for (const c of Array.isArray(chunk.choices) ? chunk.choices.filter(isRecord) : []) {
      const index = num(c.index) ?? 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = { role: 'assistant', text: '', finishReason: '', toolCalls: new Map() };
        choices.set(index, acc);
      }
      const delta = isRecord(c.delta) ? c.delta : {};
      if (typeof delta.role === 'string') acc.role = delta.role;
      if (typeof delta.content === 'string') acc.text += delta.content;
      if (typeof c.finish_reason === 'string') acc.finishReason = c.finish_reason;
      for (const t of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
        const ti = num(t.index) ?? 0;
        const fn = isRecord(t.function) ? t.function : {};
        const tool = acc.toolCalls.get(ti) ?? { id: null, name: '', arguments: '' };
        if (typeof t.id === 'string') tool.id = t.id;
        if (typeof fn.name === 'string') tool.name += fn.name;
        if (typeof fn.arguments === 'string') tool.arguments += fn.arguments;
        acc.toolCalls.set(ti, tool);
      }
    }
  };
  const onDone = () => {
    const output: OutputMessage[] = [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        role: c.role,
        parts: [
          ...(c.text ? [{ type: 'text', content: c.text }] : []),
          ...[...c.toolCalls.values()].map((t) => ({
            type: 'tool_call',
            id: t.id,
            name: t.name,
            arguments: parseJsonLoose(t.arguments),
          })),
        ],
        finish_reason: c.finishReason,
      }));
    recordChatResult(call, { ...last, usage }, output);
  };
  return [onEvent, onDone];
}

/** Responses API input (a string or a list of items) in the GenAI messages schema. */
function responsesInputMessages(input: unknown): ChatMessage[] | undefined {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }];
  if (!Array.isArray(input)) return undefined;
  return input.filter(isRecord).map((item): ChatMessage => {
    if (item.type === 'function_call') {
      return {
        role: 'assistant',
        parts: [
          {
            type: 'tool_call',
            id: str(item.call_id) ?? null,
            name: str(item.name) ?? '',
            arguments: parseJsonLoose(item.arguments),
          },
        ],
      };
    }
    if (item.type === 'function_call_output') {
      return {
        role: 'tool',
        parts: [{ type: 'tool_call_response', id: str(item.call_id) ?? null, response: item.output }],
      };
    }
    return { role: str(item.role) ?? 'user', parts: contentParts(item.content) };
  });
}

function recordResponse(call: ModelCallSpan, value: unknown): void {
  if (!isRecord(value)) return;
  const parts: MessagePart[] = [];
  for (const item of Array.isArray(value.output) ? value.output.filter(isRecord) : []) {
    if (item.type === 'message') parts.push(...contentParts(item.content));
    else if (item.type === 'function_call') {
      parts.push({
        type: 'tool_call',
        id: str(item.call_id) ?? null,
        name: str(item.name) ?? '',
        arguments: parseJsonLoose(item.arguments),
      });
    } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
      const text = item.summary
        .filter(isRecord)
        .map((s) => str(s.text) ?? '')
        .join('\n');
      if (text) parts.push({ type: 'reasoning', content: text });
    }
  }
  const incomplete = isRecord(value.incomplete_details) ? str(value.incomplete_details.reason) : undefined;
  const finish =
    incomplete ??
    (parts.some((p) => p.type === 'tool_call') ? 'tool_call' : value.status === 'failed' ? 'error' : 'stop');
  call.setAttributes(
    compact({
      [GEN_AI.responseModel]: str(value.model),
      [GEN_AI.responseId]: str(value.id),
      [GEN_AI.responseFinishReasons]: [finish],
    }),
  );
  call.setContent(GEN_AI.outputMessages, [{ role: 'assistant', parts, finish_reason: finish }]);
  if (isRecord(value.usage)) call.usage(openAiUsage(value.usage));
  if (value.status === 'failed' && isRecord(value.error))
    call.fail(new Error(str(value.error.message) ?? 'response failed'));
}
