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
  type TokenCounts,
  type WrapOptions,
} from './genai.js';

const PROVIDER = 'anthropic';

type Body = Record<string, unknown>;

/**
 * Traces an `@anthropic-ai/sdk` client: `messages.create` (streaming too) and `messages.stream`
 * emit one span each, with OpenTelemetry GenAI attributes (model, tokens including cache reads and
 * writes, messages, tool use, stop reasons, errors). Returns a proxy; results are exactly what the
 * client returned. Recent clients trace themselves (without message content unless told); the
 * wrapped client's own spans are switched off so that each call is recorded once, with content.
 * @example
 * import Anthropic from '@anthropic-ai/sdk';
 * import { wrapAnthropic } from '@hangar/sdk/tracing';
 * const anthropic = wrapAnthropic(new Anthropic());
 * const msg = await anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 512, messages: [{ role: 'user', content: 'Hi' }] });
 */
export function wrapAnthropic<C extends object>(client: C, options: WrapOptions = {}): C {
  const target = withoutBuiltInSpans(client);
  const base = serverAttributes((target as { baseURL?: unknown }).baseURL);

  const create = (original: (...args: unknown[]) => unknown, self: unknown) =>
    function create(this: unknown, ...args: unknown[]) {
      const body = (isRecord(args[0]) ? args[0] : {}) as Body;
      const stop = Array.isArray(body.stop_sequences) ? body.stop_sequences : undefined;
      const call = new ModelCallSpan({
        tracer: tracerFor(options),
        operation: 'chat',
        model: str(body.model),
        attributes: {
          [GEN_AI.providerName]: PROVIDER,
          [GEN_AI.system]: PROVIDER,
          ...base,
          ...compact({
            [GEN_AI.requestModel]: str(body.model),
            [GEN_AI.requestMaxTokens]: num(body.max_tokens),
            [GEN_AI.requestTemperature]: num(body.temperature),
            [GEN_AI.requestTopP]: num(body.top_p),
            [GEN_AI.requestStopSequences]: stop,
            [GEN_AI.requestStream]: body.stream === true ? true : undefined,
          }),
        },
        content: options,
      });
      const system = systemInstructions(body.system);
      if (system) call.setContent(GEN_AI.systemInstructions, system);
      call.setContent(GEN_AI.inputMessages, anthropicMessages(body.messages));
      return observeCall(
        call,
        () => original.apply(self, args),
        (value) => {
          if (body.stream === true) observeStream(call, value, ...messageStreamObserver(call));
          else {
            recordMessage(call, value);
            call.end();
          }
        },
      );
    };

  return proxyWith(target, (name, value) => {
    if (name !== 'messages' || value === null || typeof value !== 'object') return undefined;
    const messages = value;
    const proxied: object = proxyWith(messages, (method, fn) => {
      if (typeof fn !== 'function') return undefined;
      if (method === 'create') return create(fn as (...args: unknown[]) => unknown, messages);
      // `stream()` calls `this.create({ …, stream: true })`: run it with the proxy as `this`, so
      // that call is the traced one.
      if (method === 'stream')
        return (...args: unknown[]) => Reflect.apply(fn as (...a: unknown[]) => unknown, proxied, args);
      return undefined;
    });
    return proxied;
  });
}

/** A copy of a client that traces itself with its own spans off; other clients as they are. */
function withoutBuiltInSpans<C extends object>(client: C): C {
  const c = client as { openTelemetry?: unknown; withOptions?: unknown };
  if (!isRecord(c.openTelemetry) || typeof c.withOptions !== 'function') return client;
  return (c.withOptions as (o: object) => C).call(client, {
    openTelemetry: { ...c.openTelemetry, traces: false },
  });
}

function systemInstructions(system: unknown): MessagePart[] | undefined {
  if (typeof system === 'string') return [{ type: 'text', content: system }];
  if (Array.isArray(system)) return blockParts(system);
  return undefined;
}

/** Anthropic messages in the GenAI messages schema. */
export function anthropicMessages(messages: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  return messages
    .filter(isRecord)
    .map((m) => ({ role: str(m.role) ?? 'user', parts: blockParts(m.content) }));
}

function blockParts(content: unknown): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.filter(isRecord).map((b): MessagePart => {
    switch (b.type) {
      case 'text':
        return { type: 'text', content: str(b.text) ?? '' };
      case 'thinking':
        return { type: 'reasoning', content: str(b.thinking) ?? '' };
      case 'tool_use':
      case 'server_tool_use':
        return { type: 'tool_call', id: str(b.id) ?? null, name: str(b.name) ?? '', arguments: b.input };
      case 'tool_result':
        return {
          type: 'tool_call_response',
          id: str(b.tool_use_id) ?? null,
          response: toolResult(b.content),
        };
      default:
        // images, documents, redacted thinking: their kind only, never their (possibly large) data
        return { type: str(b.type) ?? 'unknown' };
    }
  });
}

function toolResult(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const texts = content.filter(isRecord).map((b) => (b.type === 'text' ? (str(b.text) ?? '') : null));
  return texts.every((t) => t !== null) ? texts.join('') : blockParts(content);
}

/**
 * Anthropic's `input_tokens` leaves out cached tokens; GenAI's `gen_ai.usage.input_tokens` counts
 * every input token, cache reads and writes included, with those two also reported on their own.
 */
function anthropicUsage(usage: Record<string, unknown>): TokenCounts {
  const input = num(usage.input_tokens);
  const cacheRead = num(usage.cache_read_input_tokens);
  const cacheCreation = num(usage.cache_creation_input_tokens);
  return {
    input: input === undefined ? undefined : input + (cacheRead ?? 0) + (cacheCreation ?? 0),
    output: num(usage.output_tokens),
    cacheRead,
    cacheCreation,
  };
}

function recordMessage(call: ModelCallSpan, value: unknown): void {
  if (!isRecord(value)) return;
  const finish = str(value.stop_reason) ?? '';
  call.setAttributes(
    compact({
      [GEN_AI.responseModel]: str(value.model),
      [GEN_AI.responseId]: str(value.id),
      [GEN_AI.responseFinishReasons]: [finish],
    }),
  );
  call.setContent(GEN_AI.outputMessages, [
    { role: str(value.role) ?? 'assistant', parts: blockParts(value.content), finish_reason: finish },
  ]);
  if (isRecord(value.usage)) call.usage(anthropicUsage(value.usage));
}

/** Rebuilds the message from stream events (message_start, content_block_*, message_delta). */
function messageStreamObserver(call: ModelCallSpan): [(event: unknown) => void, () => void] {
  let message: Record<string, unknown> | undefined;
  const blocks: Record<string, unknown>[] = [];
  const json = new Map<number, string>();
  let usage: Record<string, unknown> = {};
  let stopReason: string | undefined;
  const onEvent = (event: unknown) => {
    if (!isRecord(event)) return;
    const index = num(event.index) ?? 0;
    switch (event.type) {
      case 'message_start':
        if (isRecord(event.message)) {
          message = event.message;
          if (isRecord(message.usage)) usage = { ...message.usage };
        }
        break;
      case 'content_block_start':
        if (isRecord(event.content_block)) blocks[index] = { ...event.content_block };
        break;
      case 'content_block_delta': {
        const block = blocks[index];
        const delta = isRecord(event.delta) ? event.delta : {};
        if (!block) break;
        if (delta.type === 'text_delta') block.text = (str(block.text) ?? '') + (str(delta.text) ?? '');
        else if (delta.type === 'thinking_delta')
          block.thinking = (str(block.thinking) ?? '') + (str(delta.thinking) ?? '');
        else if (delta.type === 'input_json_delta')
          json.set(index, (json.get(index) ?? '') + (str(delta.partial_json) ?? ''));
        break;
      }
      case 'message_delta':
        if (isRecord(event.delta) && typeof event.delta.stop_reason === 'string')
          stopReason = event.delta.stop_reason;
        // message_delta carries cumulative counts: later values replace earlier ones
        if (isRecord(event.usage))
          for (const [k, v] of Object.entries(event.usage)) if (v !== null && v !== undefined) usage[k] = v;
        break;
      default:
        break;
    }
  };
  const onDone = () => {
    for (const [index, text] of json) {
      const block = blocks[index];
      if (block) block.input = text === '' ? {} : parseJsonLoose(text);
    }
    recordMessage(call, {
      ...message,
      content: blocks.filter((b) => b !== undefined),
      stop_reason: stopReason ?? (isRecord(message) ? message.stop_reason : undefined),
      usage,
    });
  };
  return [onEvent, onDone];
}
