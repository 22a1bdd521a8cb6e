import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '../http/api-error.js';
import { bodyTooLarge, requires } from '../http/middleware.js';
import { createRouter, errorResponses } from '../http/openapi.js';
import { normalizeSpan } from './normalize.js';
import { encodeTraceResponse, encodingOf, readTraceRequest, type OtlpSpan } from './otlp-decode.js';
import type { SpanInput, Traces } from './traces-service.js';

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

/**
 * The body, read once and refused past `maxBytes` (by its content-length, or while reading one sent
 * without). Hono's bodyLimit would copy a body without content-length into a new Request that the
 * handler then reads again: a millisecond per export of 500 spans.
 */
async function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = req.headers.get('content-length');
  if (declared !== null && !req.headers.has('transfer-encoding')) {
    if (Number(declared) > maxBytes) throw bodyTooLarge(maxBytes);
    // read in one go: @hono/node-server then takes it straight from the socket, without a body stream
    return Buffer.from(await req.arrayBuffer());
  }
  if (!req.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const [only] = chunks;
  return chunks.length === 1 && only ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(chunks, size);
}

function* normalized(spans: Iterable<OtlpSpan>): Generator<SpanInput> {
  for (const span of spans) yield normalizeSpan(span);
}

/** `POST /v1/traces`: reads the raw body itself (protobuf would not pass JSON validation). */
export function otlpRoutes(traces: Traces, { maxBodyBytes }: OtlpRoutesOptions) {
  const router = createRouter();
  return router.openapi(ingest, async (c) => {
    const encoding = encodingOf(c.req.header('content-type'));
    if (!encoding) {
      throw new ApiError('unsupported_media_type', 'Send OTLP as application/x-protobuf or application/json.', {
        details: { contentType: c.req.header('content-type') ?? null },
      });
    }
    const body = await readBody(c.req.raw, maxBodyBytes);
    const request = readTraceRequest(body, encoding, c.req.header('content-encoding'), maxBodyBytes);
    // decoded and normalized as ingest takes them, so the record thread writes the first part while the rest are decoded
    await traces.ingest(c.get('auth').project.id, normalized(request.spans));
    const partial = request.rejected ? { rejectedSpans: request.rejected, errorMessage: request.rejectReason ?? '' } : null;
    const out = encodeTraceResponse(encoding, partial);
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    return c.body(typeof out === 'string' ? out : Buffer.from(out), 200, { 'content-type': contentType });
  });
}
