import {
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_CONTENT_TRUNCATED,
  DEFAULT_MAX_CONTENT_CHARS,
  GEN_AI,
  contentJson,
  errorType,
  tracerFor,
  type WrapOptions,
} from './genai.js';

/** Options for {@link withSpan} and {@link traced}. */
export interface SpanOptions {
  /** Attributes set when the span starts. */
  attributes?: Attributes;
  /** OpenTelemetry span kind; `INTERNAL` by default. */
  kind?: SpanKind;
  /** The tracer to use; by default `@hangar/sdk` from the globally registered tracer provider. */
  tracer?: Tracer;
}

/**
 * Runs `fn` inside a new span, the active span while it runs (so spans started inside it, by
 * `withSpan`, the client wrappers or any OpenTelemetry instrumentation, become its children). Works
 * for sync and async functions: the span ends when the function returns or its promise settles. A
 * throw or rejection is recorded on the span (exception event, status error, `error.type`) and
 * passed on unchanged.
 * @example
 * const answer = await withSpan('answer question', async (span) => {
 *   span.setAttribute('question.length', question.length);
 *   return agent.run(question);
 * });
 */
export function withSpan<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
  const span = tracerFor(options).startSpan(name, options);
  return runInSpan(span, fn, undefined, [span]);
}

/** Runs `fn` with `span` active, ending it when `fn` returns or its promise settles. */
function runInSpan<A extends unknown[], R>(span: Span, fn: (...args: A) => R, thisArg: unknown, args: A): R {
  let result: R;
  try {
    result = context.with(trace.setSpan(context.active(), span), fn, thisArg, ...args);
  } catch (error) {
    failSpan(span, error);
    throw error;
  }
  if (isPromiseLike(result)) {
    // The caller gets a promise that settles after the span has ended, with the same outcome.
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failSpan(span, error);
        throw error;
      },
    ) as R;
  }
  span.end();
  return result;
}

function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setAttribute(GEN_AI.errorType, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}

/**
 * Wraps a function so that every call runs in its own span named `name` (see {@link withSpan}).
 * The wrapped function has the same parameters, return value and `this`.
 * @example
 * const plan = traced('plan', async (goal: string) => llm.plan(goal), { 'agent.name': 'planner' });
 * await plan('book a flight');
 */
export function traced<A extends unknown[], R, This = unknown>(
  name: string,
  fn: (this: This, ...args: A) => R,
  attributes?: Attributes,
  options: Omit<SpanOptions, 'attributes'> = {},
): (this: This, ...args: A) => R {
  const spanOptions: SpanOptions = { ...options, attributes };
  return function tracedCall(this: This, ...args: A): R {
    return runInSpan(tracerFor(spanOptions).startSpan(name, spanOptions), fn, this, args);
  };
}

/**
 * Wraps a tool function so that every call is an `execute_tool` span carrying the tool's name,
 * arguments and result (`gen_ai.tool.name`, `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`),
 * which Hangar shows as a tool call.
 * @example
 * const getWeather = traceTool('get_weather', async ({ city }: { city: string }) => weather.lookup(city));
 * await getWeather({ city: 'Paris' });
 */
export function traceTool<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R,
  options: Omit<SpanOptions, 'attributes'> & Pick<WrapOptions, 'recordContent' | 'maxContentChars'> = {},
): (...args: A) => R {
  const record = options.recordContent ?? true;
  const max = options.maxContentChars ?? DEFAULT_MAX_CONTENT_CHARS;
  return (...args: A): R =>
    withSpan(
      `execute_tool ${name}`,
      (span) => {
        if (record) setJson(span, GEN_AI.toolCallArguments, args.length === 1 ? args[0] : args, max);
        const result = fn(...args);
        if (!record) return result;
        if (isPromiseLike(result)) {
          return Promise.resolve(result).then((value) => {
            setJson(span, GEN_AI.toolCallResult, value, max);
            return value;
          }) as R;
        }
        setJson(span, GEN_AI.toolCallResult, result, max);
        return result;
      },
      { ...options, attributes: { [GEN_AI.operationName]: 'execute_tool', [GEN_AI.toolName]: name } },
    );
}

function setJson(span: Span, key: string, value: unknown, maxChars: number): void {
  if (value === undefined) return;
  // not serializable (cycles, BigInt): left out
  const content = contentJson(value, maxChars);
  if (!content) return;
  span.setAttribute(key, content.json);
  if (content.truncated) span.setAttribute(ATTR_CONTENT_TRUNCATED, true);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
