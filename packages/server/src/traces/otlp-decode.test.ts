import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/api-error.js';
import { decodeTraceRequest, readTraceRequest } from './otlp-decode.js';

// OpenTelemetry's own generated protobuf code, to encode what the decoder walks by hand
interface PbType {
  encode(m: object): { finish(): Uint8Array };
}
const proto = (
  createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
    opentelemetry: { proto: { trace: { v1: { ResourceSpans: PbType; ScopeSpans: PbType } } } };
  }
).opentelemetry.proto.trace.v1;

const T0 = 1_760_000_000_000_000_000n;
const kv = (key: string, stringValue: string) => ({ key, value: { stringValue } });
const id = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const pbSpan = (n: number) => ({
  traceId: id(1, 16),
  spanId: id(n, 8),
  name: `span ${n}`,
  startTimeUnixNano: String(T0 + BigInt(n)),
  endTimeUnixNano: String(T0 + BigInt(n) + 1000n),
  attributes: [kv('n', String(n))],
});

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}
/** A length-delimited field. */
const field = (number: number, bytes: Uint8Array | number[]) => [...varint((number << 3) | 2), ...varint(bytes.length), ...bytes];
/** Fields a decoder must step over: a varint, a fixed64, a fixed32 and a length-delimited one, numbers it does not know. */
const unknown = [15 << 3, 0x96, 0x01, (14 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, (13 << 3) | 5, 1, 2, 3, 4, ...field(12, [0x61, 0x62])];

describe('OTLP protobuf requests, walked to each span and decoded as the spans are taken', () => {
  // resource_spans = 1 of the request; in it resource = 1 and scope_spans = 2 (here the resource comes last)
  const scope = (name: string, spans: number[]) => proto.ScopeSpans.encode({ scope: { name }, spans: spans.map(pbSpan) }).finish();
  const resourceSpans = (service: string, scopes: Uint8Array[]) => [
    ...scopes.flatMap((s) => [...unknown, ...field(2, s)]),
    ...proto.ResourceSpans.encode({ resource: { attributes: [kv('service.name', service)] } }).finish(),
  ];
  const body = Uint8Array.from([
    ...field(1, resourceSpans('a', [scope('one', [1, 2]), scope('two', [3])])),
    ...unknown,
    ...field(1, resourceSpans('b', [scope('three', [4])])),
  ]);

  it('finds every span with its resource and scope, whatever the order of their fields, stepping over unknown ones', () => {
    const { spans, rejected } = decodeTraceRequest(body, 'protobuf');
    expect(rejected).toBe(0);
    expect(spans.map((s) => [s.name, s.resource['service.name'], s.scopeName, s.attributes.n, s.endNs - s.startNs])).toEqual([
      ['span 1', 'a', 'one', '1', 1000n],
      ['span 2', 'a', 'one', '2', 1000n],
      ['span 3', 'a', 'two', '3', 1000n],
      ['span 4', 'b', 'three', '4', 1000n],
    ]);
  });

  it('refuses a body whose framing is broken before any span is taken, and a broken span when its turn comes', () => {
    // a length past the end of the body: found walking the framing
    expect(() => readTraceRequest(body.subarray(0, body.length - 3), 'protobuf')).toThrow(ApiError);
    // span 2's bytes corrupted (a field of wire type 7) with the framing intact: span 1 is taken first
    const at = Buffer.from(body).indexOf(Buffer.from('span 2'));
    const corrupt = Uint8Array.from(body);
    corrupt[at - 2] = (15 << 3) | 7;
    const request = readTraceRequest(corrupt, 'protobuf');
    const taken: string[] = [];
    expect(() => {
      for (const span of request.spans) taken.push(span.name);
    }).toThrow(/protobuf does not decode as ExportTraceServiceRequest/);
    expect(taken).toEqual(['span 1']);
  });
});
