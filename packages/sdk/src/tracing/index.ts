/**
 * @hangar/sdk/tracing — trace an agent with OpenTelemetry and send the spans to Hangar.
 *
 * Built on `@opentelemetry/api`, so it composes with an existing OpenTelemetry setup: the helpers
 * and wrappers use the globally registered tracer provider, whichever it is. Node-only (the exit
 * hook and the AsyncLocalStorage context manager), hence its own entry point, apart from the
 * browser-safe API client in `@hangar/sdk`.
 */
export { setupHangarTracing } from './setup.js';
export type { HangarTracing, HangarTracingOptions } from './setup.js';
export { HangarExporter, HangarSpanProcessor } from './exporter.js';
export type { ExporterStats, HangarExporterOptions } from './exporter.js';
export { withSpan, traced, traceTool } from './spans.js';
export type { SpanOptions } from './spans.js';
export { wrapOpenAI } from './openai.js';
export { wrapAnthropic } from './anthropic.js';
export { aiSdkTelemetry } from './ai-sdk.js';
export type { AiSdkTelemetryOptions, AiSdkTelemetrySettings } from './ai-sdk.js';
export type { WrapOptions } from './genai.js';
