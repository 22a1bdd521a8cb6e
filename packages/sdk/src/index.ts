/**
 * @hangar/sdk — what agent code, the CLI and the UI import to talk to Hangar.
 *
 * Tracing lives in `@hangar/sdk/tracing` (setup, exporter, helpers, client wrappers). The helpers
 * and wrappers, which need only `@opentelemetry/api` and run anywhere (browsers and edge runtimes
 * included), are exported here too; the exporter and `setupHangarTracing` are Node-side and are
 * exported from `@hangar/sdk/tracing` only, so they never reach a browser bundle. The eval runner
 * (`Eval()`, with the scorers of `@hangar/evals`) is Node-side too: `@hangar/sdk/evals`.
 */
export { createClient } from './client.js';
export type { ClientOptions, HangarClient, PageOptions } from './client.js';
export { HangarError, ApprovalRequiredError, errorFromResponse } from './errors.js';
export type { GuardOptions, GuardedTool } from './actions.js';
export { withSpan, traced, traceTool } from './tracing/spans.js';
export type { SpanOptions } from './tracing/spans.js';
export { wrapOpenAI } from './tracing/openai.js';
export { wrapAnthropic } from './tracing/anthropic.js';
export { aiSdkTelemetry } from './tracing/ai-sdk.js';
export type { AiSdkTelemetryOptions, AiSdkTelemetrySettings } from './tracing/ai-sdk.js';
export type { WrapOptions } from './tracing/genai.js';
