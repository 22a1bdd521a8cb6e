import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from './hash.js';

/** The definition canonicalJson must agree with: JSON.stringify of key-sorted copies. */
function reference(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
  });

  it.each<[string, unknown]>([
    ['scalars', [1, -0, 1.5e300, 1e21, NaN, Infinity, -Infinity, true, false, null, 'a"b\\c\n\u2028\ud800']],
    ['undefined members and elements', { a: undefined, b: [undefined, () => 1, Symbol('s')], c: () => 1 }],
    ['integer-like keys', { b: 1, 10: 'ten', 9: 'nine', a: 2, '01': 'not an index', 4294967295: 'not an index either', '-1': 'x' }],
    ['keys already sorted and not', [{ a: 1, b: 2, c: 3 }, { c: 1, a: 2, b: 3 }, {}]],
    ['unicode keys', { é: 1, z: 2, Z: 3, '😀': 4, '': 5 }],
    ['toJSON and class instances', { when: new Date(0), nested: { toJSON: () => ({ y: 1, x: 2 }) }, map: new Map([[1, 2]]), boxed: new String('s') }],
    ['deep nesting', { m: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }], z: { y: { x: [1, { w: null }] } } }],
  ])('agrees with JSON.stringify of sorted copies: %s', (_name, value) => {
    expect(canonicalJson(value)).toBe(reference(value));
  });

  it('gives undefined for undefined, as JSON.stringify does', () => {
    expect(canonicalJson(undefined)).toBeUndefined();
  });

  it('agrees on random values', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['a', 'b', 'role', 'content', '10', '2', 'Z', 'é', 'x y'];
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return [1.25, 'text', true, null, undefined, -7][Math.floor(rnd() * 6)];
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 5); i > 0; i--) o[keys[Math.floor(rnd() * keys.length)]!] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 500; i++) {
      const v = gen(0);
      expect(canonicalJson(v)).toBe(reference(v));
    }
  });
});

describe('sha256Hex', () => {
  it('hashes strings and bytes like a Hash object', () => {
    for (const data of ['', 'hangar', Buffer.from([0, 1, 2, 255]), new Uint8Array([9, 8, 7])]) {
      expect(sha256Hex(data)).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });
});
