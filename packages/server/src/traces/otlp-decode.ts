import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { ApiError } from '../http/api-error.js';

/**
 * OTLP/HTTP trace requests, decoded from either encoding into one plain shape. Protobuf spans, resources
 * and scopes are decoded by the generated code that ships with OpenTelemetry's own
 * `@opentelemetry/otlp-transformer` (built from the official opentelemetry-proto definitions), the
 * request's framing around them walked here; JSON follows the OTLP/JSON mapping (hex ids,
 * lowerCamelCase fields, 64-bit integers as strings or numbers, enums as numbers or names).
 */

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface OtlpEvent {
  name: string;
  timeNs: number;
  attributes: Attributes;
}

/** One span as sent, before normalization. Times are nanoseconds since the epoch. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: OtlpEvent[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  resource: Attributes;
  scopeName: string;
}

export interface DecodedRequest {
  spans: OtlpSpan[];
  /** Spans left out because they cannot be stored (bad ids), with the first reason. */
  rejected: number;
  rejectReason: string | null;
}

export type OtlpEncoding = 'protobuf' | 'json';

interface Issue {
  path: string;
  message: string;
}

class OtlpInvalid extends Error {
  constructor(readonly issue: Issue) {
    super(`${issue.path}: ${issue.message}`);
  }
}

function invalid(path: string, message: string): never {
  throw new OtlpInvalid({ path, message });
}

/** The encoding a content type names, or null for one OTLP/HTTP does not define. */
export function encodingOf(contentType: string | undefined): OtlpEncoding | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/**
 * A request's spans, decoded one by one as they are taken, so that a writer can start on the first
 * while the rest are still being decoded. What can be checked up front is (gzip, the JSON syntax, the
 * protobuf framing down to each span's bytes); a fault in a span throws `ApiError` when its turn comes,
 * as `decodeTraceRequest` would have up front. `rejected` and `rejectReason` are complete once every
 * span has been taken.
 */
export interface TraceRequest {
  /** Taken once. */
  spans: Iterable<OtlpSpan>;
  /** Spans left out because they cannot be stored (bad ids), with the first reason. */
  rejected: number;
  rejectReason: string | null;
}

/**
 * Reads a request body (gunzipping it first when `contentEncoding` says gzip). A body that is not
 * OTLP throws `ApiError` (`validation_failed` or `invalid_json`) naming the reason, here or as its
 * spans are taken; individual spans with unusable ids are counted in `rejected` instead, as OTLP's
 * partial success expects.
 */
export function readTraceRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  contentEncoding?: string,
  maxBytes = Infinity,
): TraceRequest {
  const raw = gunzipped(body, contentEncoding, maxBytes);
  const request: TraceRequest = { spans: [], rejected: 0, rejectReason: null };
  const spans = checked(() => (encoding === 'protobuf' ? protobufSpans(raw) : jsonSpans(parseJson(raw))));
  request.spans = accepted(spans, request);
  return request;
}

/** `readTraceRequest`, every span decoded up front. */
export function decodeTraceRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  contentEncoding?: string,
  maxBytes = Infinity,
): DecodedRequest {
  const request = readTraceRequest(body, encoding, contentEncoding, maxBytes);
  const spans = [...request.spans];
  return { spans, rejected: request.rejected, rejectReason: request.rejectReason };
}

function gunzipped(body: Uint8Array, contentEncoding: string | undefined, maxBytes: number): Uint8Array {
  const ce = (contentEncoding ?? '').trim().toLowerCase();
  if (ce === '' || ce === 'identity') return body;
  if (ce !== 'gzip' && ce !== 'x-gzip') {
    throw new ApiError('unsupported_media_type', `content-encoding '${ce}' is not supported; send gzip or none.`);
  }
  try {
    return gunzipSync(body, Number.isFinite(maxBytes) ? { maxOutputLength: maxBytes } : {});
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ApiError('payload_too_large', `The body is larger than the limit of ${maxBytes} bytes once gunzipped.`, {
        details: { limitBytes: maxBytes },
      });
    }
    throw new ApiError('validation_failed', 'The body is not valid gzip (content-encoding: gzip).', { cause: err });
  }
}

/** Runs `decode`, a fault in the request becoming the ApiError a client gets. */
function checked<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof OtlpInvalid) {
      throw new ApiError('validation_failed', `Not a valid OTLP trace request: ${err.message}`, {
        details: { issues: [err.issue] },
      });
    }
    throw err;
  }
}

/** The spans that can be stored, as they are decoded; the others are counted in `request`. */
function* accepted(spans: Iterator<OtlpSpan>, request: TraceRequest): Generator<OtlpSpan> {
  for (;;) {
    const next = checked(() => spans.next());
    if (next.done) return;
    const span = next.value;
    const reason = rejection(span);
    if (reason === null) {
      yield span;
    } else {
      request.rejected++;
      request.rejectReason ??= `span '${span.name}': ${reason}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf

interface PbLong {
  toNumber(): number;
  low: number;
  high: number;
}
type PbInt = number | PbLong;
interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: PbInt | null;
  doubleValue?: number | null;
  arrayValue?: { values?: PbAnyValue[] } | null;
  kvlistValue?: { values?: PbKeyValue[] } | null;
  bytesValue?: Uint8Array | null;
}
interface PbKeyValue {
  key?: string;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: PbInt;
  endTimeUnixNano?: PbInt;
  attributes?: PbKeyValue[];
  events?: { timeUnixNano?: PbInt; name?: string; attributes?: PbKeyValue[] }[];
  status?: { code?: number; message?: string } | null;
}
interface PbMessageType<T> {
  decode(data: Uint8Array): T;
  encode(message: object): { finish(): Uint8Array };
}

interface OtlpRoot {
  opentelemetry: {
    proto: {
      collector: { trace: { v1: { ExportTraceServiceResponse: PbMessageType<object> } } };
      trace: { v1: { Span: PbMessageType<PbSpan> } };
      resource: { v1: { Resource: PbMessageType<{ attributes?: PbKeyValue[] }> } };
      common: { v1: { InstrumentationScope: PbMessageType<{ name?: string }> } };
    };
  };
}

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as OtlpRoot;
const { ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;
const { Span } = root.opentelemetry.proto.trace.v1;
const { Resource } = root.opentelemetry.proto.resource.v1;
const { InstrumentationScope } = root.opentelemetry.proto.common.v1;

function pbInt(v: PbInt | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** A fixed64 exactly: times in nanoseconds are past 2^53. */
function pbNanos(v: PbInt | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

function pbValue(v: PbAnyValue | null | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) {
    const n = pbInt(v.intValue);
    return Number.isSafeInteger(n) ? n : String(n);
  }
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(pbValue);
  if (v.kvlistValue) return pbAttributes(v.kvlistValue.values);
  if (v.bytesValue) return Buffer.from(v.bytesValue).toString('base64');
  return null;
}

function pbAttributes(list: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (list) for (const kv of list) if (kv.key) out[kv.key] = pbValue(kv.value);
  return out;
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '';
}

/** Fails as a body that is not an ExportTraceServiceRequest. */
function notProtobuf(reason: string): never {
  invalid('body', `protobuf does not decode as ExportTraceServiceRequest (${reason})`);
}

/** Where the varint `readVarint` read last ended. */
let varintEnd = 0;

/** The varint at `pos` (its low 32 bits: tags and lengths), ending at `varintEnd`. */
function readVarint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) notProtobuf('index out of range');
    const byte = buf[pos++]!;
    if (shift < 32) value |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      varintEnd = pos;
      return value >>> 0;
    }
  }
  notProtobuf('invalid varint encoding');
}

/** Calls `visit` with each length-delimited field of the message in `buf[start, end)`; other fields are stepped over. */
function eachField(buf: Uint8Array, start: number, end: number, visit: (field: number, from: number, to: number) => void): void {
  let pos = start;
  while (pos < end) {
    const tag = readVarint(buf, pos, end);
    pos = varintEnd;
    switch (tag & 7) {
      case 0:
        readVarint(buf, pos, end);
        pos = varintEnd;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = readVarint(buf, pos, end);
        const from = varintEnd;
        pos = from + length;
        if (pos > end) notProtobuf('index out of range');
        visit(tag >>> 3, from, pos);
        break;
      }
      default:
        notProtobuf(`invalid wire type ${tag & 7}`);
    }
    if (pos > end) notProtobuf('index out of range');
  }
}

/** One decode of generated code, a failure becoming the request's. */
function pbDecode<T>(type: PbMessageType<T>, bytes: Uint8Array): T {
  try {
    return type.decode(bytes);
  } catch (err) {
    notProtobuf((err as Error).message);
  }
}

/** A scope's spans as found in the request: their resource and scope, and where each span's bytes are (start, end pairs). */
interface PbScope {
  resource: Attributes;
  scopeName: string;
  spans: number[];
}

/**
 * The spans of an ExportTraceServiceRequest, decoded as they are taken: the request's framing is walked
 * up front (resource_spans = 1 → resource = 1, scope_spans = 2 → scope = 1, spans = 2), each resource
 * and scope decoded, and each span's bytes found but left for its turn.
 */
function protobufSpans(raw: Uint8Array): Iterator<OtlpSpan> {
  const groups: PbScope[] = [];
  eachField(raw, 0, raw.length, (field, from, to) => {
    if (field !== 1) return;
    let resource: Attributes = {};
    const scopes: PbScope[] = [];
    eachField(raw, from, to, (field, from, to) => {
      if (field === 1) resource = pbAttributes(pbDecode(Resource, raw.subarray(from, to)).attributes);
      if (field !== 2) return;
      const scope: PbScope = { resource, scopeName: '', spans: [] };
      eachField(raw, from, to, (field, from, to) => {
        if (field === 1) scope.scopeName = pbDecode(InstrumentationScope, raw.subarray(from, to)).name ?? '';
        else if (field === 2) scope.spans.push(from, to);
      });
      scopes.push(scope);
    });
    // the resource may come after its scopes
    for (const scope of scopes) scope.resource = resource;
    groups.push(...scopes);
  });
  return pbSpansOf(raw, groups);
}

function* pbSpansOf(raw: Uint8Array, groups: PbScope[]): Generator<OtlpSpan> {
  for (const { resource, scopeName, spans } of groups) {
    for (let i = 0; i < spans.length; i += 2) {
      const s = pbDecode(Span, raw.subarray(spans[i], spans[i + 1]));
      yield {
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId) || null,
        name: s.name ?? '',
        kind: s.kind ?? 0,
        startNs: pbNanos(s.startTimeUnixNano),
        endNs: pbNanos(s.endTimeUnixNano),
        attributes: pbAttributes(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name ?? '', timeNs: pbInt(e.timeUnixNano), attributes: pbAttributes(e.attributes) })),
        statusCode: s.status?.code ?? 0,
        statusMessage: s.status?.message ?? '',
        resource,
        scopeName,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/**
 * Where the JSON decoder is: the path of the value being read, as segments pushed and popped on the
 * way down. An error joins them into `resourceSpans.0.scopeSpans.0.spans.1.startTimeUnixNano`; a
 * request that decodes builds no path string at all (it would be a few dozen per span).
 */
const at: Array<string | number> = [];

/** Fails at `field` of the current value (or at the current value itself for null). */
function invalidAt(field: string | number | null, message: string): never {
  invalid((field === null ? at : [...at, field]).join('.'), message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonArray(v: unknown, field: string | number | null): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) invalidAt(field, 'expected an array');
  return v;
}

function jsonObject(v: unknown, field: string | number | null): Record<string, unknown> {
  if (!isObject(v)) invalidAt(field, 'expected an object');
  return v;
}

function jsonString(v: unknown, field: string | number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') invalidAt(field, 'expected a string');
  return v;
}

function jsonInt(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  invalidAt(field, 'expected an integer (a number or a string of digits)');
}

function jsonNanos(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,24}$/.test(v)) return BigInt(v);
  invalidAt(field, 'expected nanoseconds since the epoch (a string of digits or an integer)');
}

function jsonEnum(v: unknown, names: Record<string, number>, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in names) return names[v]!;
  invalidAt(field, `expected one of ${Object.keys(names).join(', ')} or its number`);
}

/** An AnyValue at `field` of the current value. */
function jsonValue(v: unknown, field: string | number): AttributeValue {
  if (v === undefined || v === null) return null;
  const o = jsonObject(v, field);
  at.push(field);
  const value = jsonValueOf(o);
  at.pop();
  return value;
}

/** An AnyValue object, the current value. */
function jsonValueOf(o: Record<string, unknown>): AttributeValue {
  if ('stringValue' in o) return jsonString(o.stringValue, 'stringValue');
  if ('boolValue' in o) {
    if (typeof o.boolValue !== 'boolean') invalidAt('boolValue', 'expected a boolean');
    return o.boolValue;
  }
  if ('intValue' in o) {
    const n = jsonInt(o.intValue, 'intValue');
    return Number.isSafeInteger(n) ? n : String(o.intValue);
  }
  if ('doubleValue' in o) {
    const d = o.doubleValue;
    if (typeof d === 'number') return d;
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return d;
    invalidAt('doubleValue', 'expected a number');
  }
  if ('arrayValue' in o) {
    const arr = jsonObject(o.arrayValue, 'arrayValue');
    at.push('arrayValue');
    const list = jsonArray(arr.values, 'values');
    at.push('values');
    const out = list.map((x, i) => jsonValue(x, i));
    at.length -= 2;
    return out;
  }
  if ('kvlistValue' in o) {
    const kv = jsonObject(o.kvlistValue, 'kvlistValue');
    at.push('kvlistValue');
    const out = jsonAttributes(kv.values, 'values');
    at.pop();
    return out;
  }
  if ('bytesValue' in o) return jsonString(o.bytesValue, 'bytesValue');
  return null;
}

/** A KeyValue list at `field` of the current value. */
function jsonAttributes(v: unknown, field: string): Attributes {
  const out: Attributes = {};
  const list = jsonArray(v, field);
  if (list.length === 0) return out;
  at.push(field);
  for (let i = 0; i < list.length; i++) {
    const kv = jsonObject(list[i], i);
    at.push(i);
    const key = jsonString(kv.key, 'key');
    if (key) out[key] = jsonValue(kv.value, 'value');
    at.pop();
  }
  at.pop();
  return out;
}

function jsonId(v: unknown, field: string): string {
  const s = jsonString(v, field);
  // OTLP/JSON ids are hex; some senders use base64 as protobuf's JSON mapping would
  if (s === '' || /^[0-9a-fA-F]+$/.test(s)) return s.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return Buffer.from(s, 'base64').toString('hex');
  invalidAt(field, 'expected a hex id');
}

function parseJson(raw: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (err) {
    throw new ApiError('invalid_json', `The body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The spans of an OTLP/JSON request, each checked and converted when its turn comes. */
function* jsonSpans(doc: unknown): Generator<OtlpSpan> {
  at.length = 0;
  const req = jsonObject(doc, 'body');
  const rsList = jsonArray(req.resourceSpans, 'resourceSpans');
  at.push('resourceSpans');
  for (let r = 0; r < rsList.length; r++) {
    const rs = jsonObject(rsList[r], r);
    at.push(r);
    let resource: Attributes = {};
    if (rs.resource !== undefined && rs.resource !== null) {
      const res = jsonObject(rs.resource, 'resource');
      at.push('resource');
      resource = jsonAttributes(res.attributes, 'attributes');
      at.pop();
    }
    const ssList = jsonArray(rs.scopeSpans, 'scopeSpans');
    at.push('scopeSpans');
    for (let s = 0; s < ssList.length; s++) {
      const ss = jsonObject(ssList[s], s);
      at.push(s);
      let scopeName = '';
      if (isObject(ss.scope)) {
        at.push('scope');
        scopeName = jsonString(ss.scope.name, 'name');
        at.pop();
      }
      const spans = jsonArray(ss.spans, 'spans');
      at.push('spans');
      for (let i = 0; i < spans.length; i++) {
        const o = jsonObject(spans[i], i);
        at.push(i);
        yield jsonSpan(o, resource, scopeName);
        // another request may have used the path meanwhile
        at.length = 0;
        at.push('resourceSpans', r, 'scopeSpans', s, 'spans');
      }
      at.length -= 2;
    }
    at.length -= 2;
  }
}

/** One span object, the current value. */
function jsonSpan(o: Record<string, unknown>, resource: Attributes, scopeName: string): OtlpSpan {
  // checked in the order the fields were always checked, so a request with two faults names the same one
  const status = o.status === undefined || o.status === null ? null : jsonObject(o.status, 'status');
  const eventList = jsonArray(o.events, 'events');
  const events: OtlpEvent[] = [];
  if (eventList.length) {
    at.push('events');
    for (let j = 0; j < eventList.length; j++) {
      const ev = jsonObject(eventList[j], j);
      at.push(j);
      events.push({ name: jsonString(ev.name, 'name'), timeNs: jsonInt(ev.timeUnixNano, 'timeUnixNano'), attributes: jsonAttributes(ev.attributes, 'attributes') });
      at.pop();
    }
    at.pop();
  }
  const traceId = jsonId(o.traceId, 'traceId');
  const spanId = jsonId(o.spanId, 'spanId');
  const parentSpanId = jsonId(o.parentSpanId, 'parentSpanId') || null;
  const name = jsonString(o.name, 'name');
  const kind = jsonEnum(o.kind, SPAN_KINDS, 'kind');
  const startNs = jsonNanos(o.startTimeUnixNano, 'startTimeUnixNano');
  const endNs = jsonNanos(o.endTimeUnixNano, 'endTimeUnixNano');
  const attributes = jsonAttributes(o.attributes, 'attributes');
  let statusCode = 0;
  let statusMessage = '';
  if (status) {
    at.push('status');
    statusCode = jsonEnum(status.code, STATUS_CODES, 'code');
    statusMessage = jsonString(status.message, 'message');
    at.pop();
  }
  return { traceId, spanId, parentSpanId, name, kind, startNs, endNs, attributes, events, statusCode, statusMessage, resource, scopeName };
}

// ---------------------------------------------------------------------------------------------

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** The last instant a JavaScript Date can hold. */
const MAX_NANOS = 8_640_000_000_000_000_000_000n;

/** Why a span's ids or times cannot be stored, or null when they can (an all-zero parent id is cleared). */
function rejection(span: OtlpSpan): string | null {
  if (span.parentSpanId === ZERO_SPAN) span.parentSpanId = null;
  if (span.traceId.length !== 32 || span.traceId === ZERO_TRACE) return 'traceId must be 16 bytes and not all zero';
  if (span.spanId.length !== 16 || span.spanId === ZERO_SPAN) return 'spanId must be 8 bytes and not all zero';
  if (span.parentSpanId !== null && span.parentSpanId.length !== 16) return 'parentSpanId must be 8 bytes or empty';
  if (span.startNs <= 0n || span.endNs < span.startNs || span.endNs > MAX_NANOS) return 'startTimeUnixNano and endTimeUnixNano must be set, with end ≥ start';
  return null;
}

/** The ExportTraceServiceResponse body, in the encoding of the request. */
export function encodeTraceResponse(
  encoding: OtlpEncoding,
  partial: { rejectedSpans: number; errorMessage: string } | null,
): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify(partial ? { partialSuccess: partial } : {});
  return ExportTraceServiceResponse.encode(partial ? { partialSuccess: partial } : {}).finish();
}
