import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '../http/api-error.js';
import { limitBody, requires } from '../http/middleware.js';
import { createRouter, errorResponses } from '../http/openapi.js';
import { normalizeSpan } from './normalize.js';
import { decodeTraceRequest, encodeTraceResponse, encodingOf } from './otlp-decode.js';
import type { Traces } from './traces-service.js';

const binary = { type: 'string', format: 'binary' } as const;

const ingest = createRoute({
  method: 'post',
  path: '/v1/traces',
  tags: ['traces'],
  summary: 'OTLP/HTTP trace export: protobuf or JSON, optionally gzip; all spans in one transaction',
  description:
    'The OpenTelemetry OTLP/HTTP endpoint: point `OTEL_EXPORTER_OTLP_ENDPOINT` at the server. The body is an ' +
    '`ExportTraceServiceRequest` as `application/x-protobuf` or `application/json`, with `content-encoding: gzip` ' +
    'or none. The response is an `ExportTraceServiceResponse` in the same encoding; spans that cannot be stored ' +
    '(bad ids or times) are counted in `partialSuccess.rejectedSpans` and the rest are stored.',
  middleware: [requires('ingest')] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/x-protobuf': { schema: binary },
        'application/json': { schema: { type: 'object', description: 'ExportTraceServiceRequest in OTLP/JSON' } },
      },
    },
  },
  responses: {
    200: {
      description: 'ExportTraceServiceResponse, with partialSuccess when some spans were rejected',
      content: {
        'application/x-protobuf': { schema: binary },
        'application/json': { schema: { type: 'object', description: 'ExportTraceServiceResponse in OTLP/JSON' } },
      },
    },
    ...errorResponses('invalid_json', 'payload_too_large', 'unsupported_media_type'),
  },
});

export interface OtlpRoutesOptions {
  /** Largest accepted body, before and after gunzip. */
  maxBodyBytes: number;
}

/** `POST /v1/traces`: reads the raw body itself (protobuf would not pass JSON validation). */
export function otlpRoutes(traces: Traces, { maxBodyBytes }: OtlpRoutesOptions) {
  const router = createRouter();
  router.use('/v1/traces', limitBody(maxBodyBytes));
  return router.openapi(ingest, async (c) => {
    const encoding = encodingOf(c.req.header('content-type'));
    if (!encoding) {
      throw new ApiError('unsupported_media_type', 'Send OTLP as application/x-protobuf or application/json.', {
        details: { contentType: c.req.header('content-type') ?? null },
      });
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    const decoded = decodeTraceRequest(body, encoding, c.req.header('content-encoding'), maxBodyBytes);
    if (decoded.spans.length) await traces.record(c.get('auth').project.id, decoded.spans.map(normalizeSpan));
    const partial = decoded.rejected ? { rejectedSpans: decoded.rejected, errorMessage: decoded.rejectReason ?? '' } : null;
    const out = encodeTraceResponse(encoding, partial);
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    return c.body(typeof out === 'string' ? out : Buffer.from(out), 200, { 'content-type': contentType });
  });
}
