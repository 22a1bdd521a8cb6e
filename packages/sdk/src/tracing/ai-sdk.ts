import type { AttributeValue, Tracer } from '@opentelemetry/api';
import { tracerFor } from './genai.js';

/** Options for {@link aiSdkTelemetry}. */
export interface AiSdkTelemetryOptions {
  /** Names the call site in the AI SDK's spans (`ai.telemetry.functionId`), e.g. `'support-agent'`. */
  functionId?: string;
  /** Extra attributes the AI SDK adds to its spans as `ai.telemetry.metadata.*`. */
  metadata?: Record<string, AttributeValue>;
  /** Record prompts and outputs (default true); Hangar shows them as a conversation. */
  recordContent?: boolean;
  /** The tracer to use; by default `@hangar/sdk` from the globally registered tracer provider. */
  tracer?: Tracer;
}

/** The shape of the AI SDK's `experimental_telemetry` setting. */
export interface AiSdkTelemetrySettings {
  isEnabled: true;
  recordInputs: boolean;
  recordOutputs: boolean;
  functionId?: string;
  metadata?: Record<string, AttributeValue>;
  tracer: Tracer;
}

/**
 * Settings for the Vercel AI SDK's `experimental_telemetry` option, so that `generateText`,
 * `streamText`, `generateObject`, `embed` and the rest emit their spans (with `ai.*` and `gen_ai.*`
 * attributes) through Hangar's tracer, nested under the active span.
 * @example
 * import { generateText } from 'ai';
 * const { text } = await generateText({
 *   model: openai('gpt-4o-mini'),
 *   prompt: 'Hi',
 *   experimental_telemetry: aiSdkTelemetry({ functionId: 'greeter' }),
 * });
 */
export function aiSdkTelemetry(options: AiSdkTelemetryOptions = {}): AiSdkTelemetrySettings {
  const record = options.recordContent ?? true;
  return {
    isEnabled: true,
    recordInputs: record,
    recordOutputs: record,
    ...(options.functionId === undefined ? {} : { functionId: options.functionId }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    tracer: tracerFor(options),
  };
}
