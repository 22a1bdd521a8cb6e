import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { ApiError } from '../http/api-error.js';

/**
 * OTLP/HTTP trace requests, decoded from either encoding into one plain shape. Protobuf decoding uses
 * the generated code that ships with OpenTelemetry's own `@opentelemetry/otlp-transformer` (built
 * from the official opentelemetry-proto definitions); JSON follows the OTLP/JSON mapping (hex ids,
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
 * Decodes a request body (gunzipping it first when `contentEncoding` says gzip). A body that is not
 * OTLP throws `ApiError` (`validation_failed` or `invalid_json`) naming the reason; individual spans
 * with unusable ids are counted in `rejected` instead, as OTLP's partial success expects.
 */
export function decodeTraceRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  contentEncoding?: string,
  maxBytes = Infinity,
): DecodedRequest {
  let raw = body;
  const ce = (contentEncoding ?? '').trim().toLowerCase();
  if (ce === 'gzip' || ce === 'x-gzip') {
    try {
      raw = gunzipSync(body, Number.isFinite(maxBytes) ? { maxOutputLength: maxBytes } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ApiError('payload_too_large', `The body is larger than the limit of ${maxBytes} bytes once gunzipped.`, {
          details: { limitBytes: maxBytes },
        });
      }
      throw new ApiError('validation_failed', 'The body is not valid gzip (content-encoding: gzip).', { cause: err });
    }
  } else if (ce !== '' && ce !== 'identity') {
    throw new ApiError('unsupported_media_type', `content-encoding '${ce}' is not supported; send gzip or none.`);
  }
  try {
    return encoding === 'protobuf' ? fromProtobuf(raw) : fromJson(raw);
  } catch (err) {
    if (err instanceof OtlpInvalid) {
      throw new ApiError('validation_failed', `Not a valid OTLP trace request: ${err.message}`, {
        details: { issues: [err.issue] },
      });
    }
    throw err;
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
interface PbRequest {
  resourceSpans?: {
    resource?: { attributes?: PbKeyValue[] } | null;
    scopeSpans?: { scope?: { name?: string } | null; spans?: PbSpan[] }[];
  }[];
}
interface PbMessageType<T> {
  decode(data: Uint8Array): T;
  encode(message: object): { finish(): Uint8Array };
}

interface OtlpRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: { v1: { ExportTraceServiceRequest: PbMessageType<PbRequest>; ExportTraceServiceResponse: PbMessageType<object> } };
      };
    };
  };
}

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as OtlpRoot;
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;

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

function fromProtobuf(raw: Uint8Array): DecodedRequest {
  let req: PbRequest;
  try {
    req = ExportTraceServiceRequest.decode(raw);
  } catch (err) {
    invalid('body', `protobuf does not decode as ExportTraceServiceRequest (${(err as Error).message})`);
  }
  const out: DecodedRequest = { spans: [], rejected: 0, rejectReason: null };
  for (const rs of req.resourceSpans ?? []) {
    const resource = pbAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scopeName = ss.scope?.name ?? '';
      for (const s of ss.spans ?? []) {
        accept(out, {
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
        });
      }
    }
  }
  return out;
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonArray(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) invalid(path, 'expected an array');
  return v;
}

function jsonObject(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) invalid(path, 'expected an object');
  return v;
}

function jsonString(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') invalid(path, 'expected a string');
  return v;
}

function jsonInt(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  invalid(path, 'expected an integer (a number or a string of digits)');
}

function jsonNanos(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,24}$/.test(v)) return BigInt(v);
  invalid(path, 'expected nanoseconds since the epoch (a string of digits or an integer)');
}

function jsonEnum(v: unknown, names: Record<string, number>, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in names) return names[v]!;
  invalid(path, `expected one of ${Object.keys(names).join(', ')} or its number`);
}

function jsonValue(v: unknown, path: string): AttributeValue {
  if (v === undefined || v === null) return null;
  const o = jsonObject(v, path);
  if ('stringValue' in o) return jsonString(o.stringValue, `${path}.stringValue`);
  if ('boolValue' in o) {
    if (typeof o.boolValue !== 'boolean') invalid(`${path}.boolValue`, 'expected a boolean');
    return o.boolValue;
  }
  if ('intValue' in o) {
    const n = jsonInt(o.intValue, `${path}.intValue`);
    return Number.isSafeInteger(n) ? n : String(o.intValue);
  }
  if ('doubleValue' in o) {
    const d = o.doubleValue;
    if (typeof d === 'number') return d;
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return d;
    invalid(`${path}.doubleValue`, 'expected a number');
  }
  if ('arrayValue' in o) {
    const arr = jsonObject(o.arrayValue, `${path}.arrayValue`);
    return jsonArray(arr.values, `${path}.arrayValue.values`).map((x, i) => jsonValue(x, `${path}.arrayValue.values.${i}`));
  }
  if ('kvlistValue' in o) {
    const kv = jsonObject(o.kvlistValue, `${path}.kvlistValue`);
    return jsonAttributes(kv.values, `${path}.kvlistValue.values`);
  }
  if ('bytesValue' in o) return jsonString(o.bytesValue, `${path}.bytesValue`);
  return null;
}

function jsonAttributes(v: unknown, path: string): Attributes {
  const out: Attributes = {};
  const list = jsonArray(v, path);
  for (let i = 0; i < list.length; i++) {
    const kv = jsonObject(list[i], `${path}.${i}`);
    const key = jsonString(kv.key, `${path}.${i}.key`);
    if (key) out[key] = jsonValue(kv.value, `${path}.${i}.value`);
  }
  return out;
}

function jsonId(v: unknown, path: string): string {
  const s = jsonString(v, path);
  // OTLP/JSON ids are hex; some senders use base64 as protobuf's JSON mapping would
  if (s === '' || /^[0-9a-fA-F]+$/.test(s)) return s.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return Buffer.from(s, 'base64').toString('hex');
  invalid(path, 'expected a hex id');
}

function fromJson(raw: Uint8Array): DecodedRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (err) {
    throw new ApiError('invalid_json', `The body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const req = jsonObject(doc, 'body');
  const out: DecodedRequest = { spans: [], rejected: 0, rejectReason: null };
  const rsList = jsonArray(req.resourceSpans, 'resourceSpans');
  for (let r = 0; r < rsList.length; r++) {
    const rp = `resourceSpans.${r}`;
    const rs = jsonObject(rsList[r], rp);
    const resource = rs.resource === undefined || rs.resource === null ? {} : jsonAttributes(jsonObject(rs.resource, `${rp}.resource`).attributes, `${rp}.resource.attributes`);
    const ssList = jsonArray(rs.scopeSpans, `${rp}.scopeSpans`);
    for (let s = 0; s < ssList.length; s++) {
      const sp = `${rp}.scopeSpans.${s}`;
      const ss = jsonObject(ssList[s], sp);
      const scopeName = isObject(ss.scope) ? jsonString(ss.scope.name, `${sp}.scope.name`) : '';
      const spans = jsonArray(ss.spans, `${sp}.spans`);
      for (let i = 0; i < spans.length; i++) {
        const p = `${sp}.spans.${i}`;
        const o = jsonObject(spans[i], p);
        const status = o.status === undefined || o.status === null ? {} : jsonObject(o.status, `${p}.status`);
        const events = jsonArray(o.events, `${p}.events`).map((e, j) => {
          const ev = jsonObject(e, `${p}.events.${j}`);
          return {
            name: jsonString(ev.name, `${p}.events.${j}.name`),
            timeNs: jsonInt(ev.timeUnixNano, `${p}.events.${j}.timeUnixNano`),
            attributes: jsonAttributes(ev.attributes, `${p}.events.${j}.attributes`),
          };
        });
        accept(out, {
          traceId: jsonId(o.traceId, `${p}.traceId`),
          spanId: jsonId(o.spanId, `${p}.spanId`),
          parentSpanId: jsonId(o.parentSpanId, `${p}.parentSpanId`) || null,
          name: jsonString(o.name, `${p}.name`),
          kind: jsonEnum(o.kind, SPAN_KINDS, `${p}.kind`),
          startNs: jsonNanos(o.startTimeUnixNano, `${p}.startTimeUnixNano`),
          endNs: jsonNanos(o.endTimeUnixNano, `${p}.endTimeUnixNano`),
          attributes: jsonAttributes(o.attributes, `${p}.attributes`),
          events,
          statusCode: jsonEnum(status.code, STATUS_CODES, `${p}.status.code`),
          statusMessage: jsonString(status.message, `${p}.status.message`),
          resource,
          scopeName,
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** The last instant a JavaScript Date can hold. */
const MAX_NANOS = 8_640_000_000_000_000_000_000n;

/** Keeps a span whose ids and times can be stored; counts the others as rejected. */
function accept(out: DecodedRequest, span: OtlpSpan): void {
  let reason: string | null = null;
  if (span.parentSpanId === ZERO_SPAN) span.parentSpanId = null;
  if (span.traceId.length !== 32 || span.traceId === ZERO_TRACE) reason = 'traceId must be 16 bytes and not all zero';
  else if (span.spanId.length !== 16 || span.spanId === ZERO_SPAN) reason = 'spanId must be 8 bytes and not all zero';
  else if (span.parentSpanId !== null && span.parentSpanId.length !== 16) reason = 'parentSpanId must be 8 bytes or empty';
  else if (span.startNs <= 0n || span.endNs < span.startNs || span.endNs > MAX_NANOS) reason = 'startTimeUnixNano and endTimeUnixNano must be set, with end ≥ start';
  if (reason === null) {
    out.spans.push(span);
  } else {
    out.rejected++;
    out.rejectReason ??= `span '${span.name}': ${reason}`;
  }
}

/** The ExportTraceServiceResponse body, in the encoding of the request. */
export function encodeTraceResponse(
  encoding: OtlpEncoding,
  partial: { rejectedSpans: number; errorMessage: string } | null,
): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify(partial ? { partialSuccess: partial } : {});
  return ExportTraceServiceResponse.encode(partial ? { partialSuccess: partial } : {}).finish();
}
