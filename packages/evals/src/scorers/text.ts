import { Ajv, type ErrorObject } from 'ajv';
import type { Scorer } from '../types.js';
import { asText, deepEqual, requireExpected } from './values.js';

/** Options every built-in scorer takes. */
export interface NamedOptions {
  /** The score's name in results; each scorer has a sensible default. */
  name?: string;
}

/**
 * Output equals the expected value: strings compared as text (trimmed unless `trim: false`,
 * case-insensitive with `caseSensitive: false`), anything else structurally (key order ignored).
 * Throws (an error, not a 0) when the case has no expected value.
 *
 * @example
 * exact(); // output 'Paris' vs expected 'Paris' → 1, pass
 * exact({ caseSensitive: false, name: 'answer' });
 */
export function exact(options: NamedOptions & { caseSensitive?: boolean; trim?: boolean } = {}): Scorer {
  const name = options.name ?? 'exact';
  const normalize = (s: string) => {
    const t = options.trim === false ? s : s.trim();
    return options.caseSensitive === false ? t.toLowerCase() : t;
  };
  return {
    name,
    score({ output, expected }) {
      const want = requireExpected(expected, name);
      const same =
        typeof want === 'string' || typeof output === 'string'
          ? normalize(asText(output)) === normalize(asText(want))
          : deepEqual(output, want);
      return same;
    },
  };
}

/**
 * Output contains a text (or each of several: value is the fraction found, pass when all are). With
 * no text given, the case's expected value (a string or list of strings) is what must appear.
 *
 * @example
 * includes('refund'); // the output mentions "refund"
 * includes(['order', 'shipped'], { caseSensitive: false });
 */
export function includes(
  text?: string | readonly string[],
  options: NamedOptions & { caseSensitive?: boolean } = {},
): Scorer {
  const name = options.name ?? 'includes';
  const fold = (s: string) => (options.caseSensitive === false ? s.toLowerCase() : s);
  return {
    name,
    score({ output, expected }) {
      const wanted = text ?? requireExpected(expected, name);
      const needles = (Array.isArray(wanted) ? wanted : [wanted]).map((x: unknown) => asText(x));
      if (needles.length === 0) throw new Error(`${name} has nothing to look for`);
      const haystack = fold(asText(output));
      const missing = needles.filter((n) => !haystack.includes(fold(n)));
      const found = needles.length - missing.length;
      return {
        name,
        value: found / needles.length,
        pass: missing.length === 0,
        metadata: missing.length ? { missing } : undefined,
      };
    },
  };
}

/**
 * Output matches a regular expression.
 *
 * @example
 * regex(/^\d{4}-\d{2}-\d{2}$/, { name: 'iso_date' });
 * regex('order #\\d+', { flags: 'i' });
 */
export function regex(pattern: string | RegExp, options: NamedOptions & { flags?: string } = {}): Scorer {
  const re =
    typeof pattern === 'string'
      ? new RegExp(pattern, options.flags)
      : new RegExp(pattern.source, options.flags ?? pattern.flags);
  const name = options.name ?? 'regex';
  return {
    name,
    score({ output }) {
      re.lastIndex = 0;
      return re.test(asText(output));
    },
  };
}

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

/**
 * Output is valid JSON (a string that parses, or an already parsed value) and, with `schema`,
 * valid against that JSON Schema (draft-07, via Ajv; the schema is compiled once, and an invalid
 * schema throws here, when the scorer is made).
 *
 * @example
 * jsonValid({ schema: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } } });
 */
export function jsonValid(options: NamedOptions & { schema?: unknown } = {}): Scorer {
  const name = options.name ?? 'json_valid';
  const validate =
    options.schema === undefined
      ? null
      : new Ajv({ allErrors: true, strict: false }).compile(options.schema as object);
  return {
    name,
    score({ output }) {
      let value: unknown = output;
      if (typeof output === 'string') {
        try {
          value = JSON.parse(output);
        } catch (error) {
          return {
            name,
            value: 0,
            pass: false,
            metadata: { errors: [`not JSON: ${(error as Error).message}`] },
          };
        }
      }
      if (value === undefined) return { name, value: 0, pass: false, metadata: { errors: ['no output'] } };
      if (validate && !validate(value))
        return { name, value: 0, pass: false, metadata: { errors: describeErrors(validate.errors) } };
      return { name, value: 1, pass: true };
    },
  };
}

const NUMBER = /[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?/;

/** A number from a number or from the first number in a text ("about 1,234.5 km" → 1234.5). */
function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const match = NUMBER.exec(value);
  if (!match) return null;
  const n = Number(match[0].replaceAll(',', ''));
  return Number.isFinite(n) ? n : null;
}

/**
 * Output is a number within `tolerance` of the expected one (absolute, or relative to the expected
 * value with `relative: true`). A text output is read from its first number. Output with no number
 * fails; a case whose expected value is not a number is an error.
 *
 * @example
 * numeric({ tolerance: 0.01 }); // 3.14159 vs 3.14 → pass
 * numeric({ tolerance: 0.05, relative: true }); // within 5 %
 */
export function numeric(options: NamedOptions & { tolerance?: number; relative?: boolean } = {}): Scorer {
  const name = options.name ?? 'numeric';
  const tolerance = options.tolerance ?? 0;
  if (!(tolerance >= 0)) throw new RangeError('tolerance must be ≥ 0');
  return {
    name,
    score({ output, expected }) {
      const want = toNumber(requireExpected(expected, name));
      if (want === null) throw new Error(`${name}: expected value ${asText(expected)} is not a number`);
      const got = toNumber(output);
      if (got === null) return { name, value: 0, pass: false, metadata: { expected: want, actual: null } };
      const difference = Math.abs(got - want);
      const allowed = options.relative ? tolerance * Math.abs(want) : tolerance;
      const pass = difference <= allowed + 1e-12 * Math.max(1, Math.abs(want));
      return { name, value: pass ? 1 : 0, pass, metadata: { expected: want, actual: got, difference } };
    },
  };
}

/** Levenshtein edit distance between two strings, by code point. */
export function levenshteinDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  if (s.length < t.length) return levenshteinDistance(b, a);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const substitution = (previous[j - 1] as number) + (s[i - 1] === t[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[t.length] as number;
}

/**
 * Edit similarity to the expected text: 1 − distance / max(length) (1 for two empty texts). With
 * `threshold`, passes at or above it.
 *
 * @example
 * levenshtein({ threshold: 0.8 }); // 'kitten' vs 'sitting' → 0.571, fail
 */
export function levenshtein(
  options: NamedOptions & { threshold?: number; caseSensitive?: boolean } = {},
): Scorer {
  const name = options.name ?? 'levenshtein';
  const fold = (s: string) => (options.caseSensitive === false ? s.toLowerCase() : s);
  return {
    name,
    score({ output, expected }) {
      const a = fold(asText(output));
      const b = fold(asText(requireExpected(expected, name)));
      const longest = Math.max(Array.from(a).length, Array.from(b).length);
      const value = longest === 0 ? 1 : 1 - levenshteinDistance(a, b) / longest;
      return { name, value, pass: options.threshold === undefined ? null : value >= options.threshold };
    },
  };
}
