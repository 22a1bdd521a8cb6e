import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  HangarExporter,
  HangarSpanProcessor,
  type ExporterStats,
  type HangarExporterOptions,
} from './exporter.js';
import { SDK_SCOPE, SDK_VERSION } from './genai.js';

/** Options for {@link setupHangarTracing}; every exporter option may be given too. */
export interface HangarTracingOptions extends Partial<HangarExporterOptions> {
  /** Where Hangar listens; `HANGAR_URL` by default. */
  baseUrl?: string;
  /** An API key; `HANGAR_API_KEY` by default. */
  apiKey?: string;
  /** `service.name` of the spans; `OTEL_SERVICE_NAME` by default. */
  serviceName?: string;
  /** More resource attributes, e.g. `{ 'deployment.environment.name': 'prod' }`. */
  resourceAttributes?: Record<string, string | number | boolean>;
}

/** What {@link setupHangarTracing} set up. */
export interface HangarTracing {
  /**
   * Whether Hangar's tracer provider is now the global one. False when the application had
   * registered its own: then add `processor` to that provider, or Hangar receives nothing.
   */
  registered: boolean;
  /** A tracer of the `@hangar/sdk` scope from Hangar's provider. */
  tracer: Tracer;
  provider: BasicTracerProvider;
  exporter: HangarExporter;
  processor: HangarSpanProcessor;
  /** Sends everything queued; await it before a serverless function returns. */
  flush(): Promise<void>;
  /** Flushes and stops; spans ended afterwards are dropped. */
  shutdown(): Promise<void>;
  /** Spans exported, dropped, failed and waiting (see {@link ExporterStats}). */
  stats(): ExporterStats;
}

/**
 * Sends this process's OpenTelemetry spans to Hangar, in one line: a tracer provider with Hangar's
 * exporter, registered globally together with an AsyncLocalStorage context manager (so spans nest
 * across `await`) and the W3C trace-context propagator, each only where the application has not
 * registered its own. Spans still queued when the process is about to exit are sent first.
 * @example
 * import { setupHangarTracing } from '@hangar/sdk/tracing';
 * const tracing = setupHangarTracing({ serviceName: 'support-agent' }); // HANGAR_URL, HANGAR_API_KEY
 * // … later, in a serverless handler:
 * await tracing.flush();
 */
export function setupHangarTracing(options: HangarTracingOptions = {}): HangarTracing {
  const env = typeof process === 'undefined' ? {} : process.env;
  const baseUrl = options.baseUrl ?? env.HANGAR_URL;
  const apiKey = options.apiKey ?? env.HANGAR_API_KEY;
  if (!baseUrl) throw new Error('setupHangarTracing: pass baseUrl or set HANGAR_URL');
  if (!apiKey) throw new Error('setupHangarTracing: pass apiKey or set HANGAR_API_KEY');
  const serviceName = options.serviceName ?? env.OTEL_SERVICE_NAME;

  const exporter = new HangarExporter({ ...options, baseUrl, apiKey });
  const processor = new HangarSpanProcessor(exporter);
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...(serviceName ? { 'service.name': serviceName } : {}),
        ...options.resourceAttributes,
      }),
    ),
    spanProcessors: [processor],
  });

  // Each returns false, changing nothing, where the application registered its own.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const registered = trace.setGlobalTracerProvider(provider);
  if (!registered) {
    (options.onWarning ?? console.warn)(
      'Hangar: an OpenTelemetry tracer provider is already registered; add `tracing.processor` (a HangarSpanProcessor) to it to send its spans to Hangar.',
    );
  }

  return {
    registered,
    tracer: provider.getTracer(SDK_SCOPE, SDK_VERSION),
    provider,
    exporter,
    processor,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
    stats: () => exporter.stats(),
  };
}
