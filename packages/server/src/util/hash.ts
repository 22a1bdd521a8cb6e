import { hash } from 'node:crypto';

/** sha256 of a string or bytes, as lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  // one-shot: no Hash object per call (span ingest hashes every input and output)
  return hash('sha256', data, 'hex');
}

/**
 * JSON with object keys sorted at every depth, so equal values always give equal text (and hashes).
 * `undefined` members are dropped, as JSON.stringify does.
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  // a value whose objects already list their keys in order (span normalization builds its messages
  // so) is what JSON.stringify gives as is; otherwise written out, which still beats a replacer (a
  // call per value, a sorted copy per object)
  return (inOrder(value, 0) ? JSON.stringify(value) : write(value)) as string;
}

/** Every object in `v` plain and with its keys in canonical order (checked to a reasonable depth). */
function inOrder(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (depth > 32) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!inOrder(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  let prev: string | null = null;
  for (const k in v) {
    if (prev !== null && prev > k) return false;
    if (prev === null && isIndex(k)) return false;
    prev = k;
    if (!inOrder((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

/**
 * What JSON.stringify of a key-sorted copy gives: integer-like keys first in numeric order (a
 * JavaScript object lists them first whatever their insertion), then the others sorted.
 */
function write(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      // the first three give undefined; bigint throws, as JSON.stringify does
      return JSON.stringify(v);
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += write(v[i]) ?? 'null';
    }
    return out + ']';
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return slow(v);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  // integer-like keys come first from Object.keys already, in order; sort the rest
  let start = 0;
  while (start < keys.length && isIndex(keys[start]!)) start++;
  if (!sortedFrom(keys, start)) {
    const rest = keys.splice(start).sort();
    for (const k of rest) keys.push(k);
  }
  let out = '{';
  let first = true;
  for (const k of keys) {
    const member = write(o[k]);
    if (member === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + member;
    first = false;
  }
  return out + '}';
}

function isIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

function sortedFrom(keys: string[], start: number): boolean {
  for (let i = start + 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** The general case (toJSON, class instances, boxed primitives): JSON.stringify with a sorting replacer. */
function slow(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
