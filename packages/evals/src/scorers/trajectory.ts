import type { SpanKind } from '@hangar/protocol';
import type { Scorer, TrialSpan } from '../types.js';
import type { NamedOptions } from './text.js';
import { deepEqual, partialMatch } from './values.js';

/** A span's tool name: its `toolName`, or the span name of a `tool` span that lacks one. */
const toolOf = (s: TrialSpan): string | null => s.toolName ?? (s.kind === 'tool' ? s.name : null);
const toolCalls = (spans: readonly TrialSpan[]) => spans.filter((s) => toolOf(s) !== null);

/**
 * The agent called (or, with `expect: false`, never called) a tool. Reads the trial's trace.
 *
 * @example
 * toolUsed('lookup_order');
 * toolUsed('delete_account', { expect: false });
 */
export function toolUsed(tool: string, options: NamedOptions & { expect?: boolean } = {}): Scorer {
  const expect = options.expect ?? true;
  const name = options.name ?? (expect ? `tool_used:${tool}` : `tool_not_used:${tool}`);
  return {
    name,
    usesTrace: true,
    score({ spans }) {
      const calls = toolCalls(spans).filter((s) => toolOf(s) === tool).length;
      const pass = calls > 0 === expect;
      return { name, value: pass ? 1 : 0, pass, metadata: { calls } };
    },
  };
}

/**
 * Some call of a tool had the expected arguments: equal (key order ignored), or with `partial: true`
 * containing them (extra arguments allowed, recursively).
 *
 * @example
 * toolArgsMatch('lookup_order', { orderId: '1234' }, { partial: true });
 */
export function toolArgsMatch(
  tool: string,
  expected: unknown,
  options: NamedOptions & { partial?: boolean } = {},
): Scorer {
  const name = options.name ?? `tool_args:${tool}`;
  const match = options.partial ? partialMatch : deepEqual;
  return {
    name,
    usesTrace: true,
    score({ spans }) {
      const calls = toolCalls(spans).filter((s) => toolOf(s) === tool);
      const pass = calls.some((s) => match(s.toolArguments, expected));
      return {
        name,
        value: pass ? 1 : 0,
        pass,
        metadata: { calls: calls.length, arguments: calls.slice(0, 5).map((s) => s.toolArguments) },
      };
    },
  };
}

/** How `toolOrder` compares the tools called with the expected ones (LangChain agentevals' modes). */
export type ToolOrderMode = 'strict' | 'unordered' | 'subset' | 'superset';

function counts(names: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

/**
 * The sequence of tool calls, against the expected tools. `strict`: the same calls in the same order;
 * `unordered`: the same calls in any order; `subset`: no call beyond the expected ones (each at most
 * as often); `superset`: at least the expected calls (each at least as often), others allowed.
 *
 * @example
 * toolOrder(['search', 'lookup_order', 'refund'], { mode: 'strict' });
 * toolOrder(['lookup_order'], { mode: 'superset' });
 */
export function toolOrder(
  names: readonly string[],
  options: NamedOptions & { mode?: ToolOrderMode } = {},
): Scorer {
  const mode = options.mode ?? 'strict';
  const name = options.name ?? `tool_order:${mode}`;
  const want = counts(names);
  return {
    name,
    usesTrace: true,
    score({ spans }) {
      const called = toolCalls(spans).map((s) => toolOf(s) as string);
      const got = counts(called);
      let pass: boolean;
      switch (mode) {
        case 'strict':
          pass = called.length === names.length && called.every((n, i) => n === names[i]);
          break;
        case 'unordered':
          pass = called.length === names.length && [...want].every(([n, c]) => got.get(n) === c);
          break;
        case 'subset':
          pass = [...got].every(([n, c]) => c <= (want.get(n) ?? 0));
          break;
        case 'superset':
          pass = [...want].every(([n, c]) => (got.get(n) ?? 0) >= c);
          break;
      }
      return { name, value: pass ? 1 : 0, pass, metadata: { called } };
    },
  };
}

/**
 * The number of steps (spans, or only spans of the given kinds) is within bounds.
 *
 * @example
 * stepCount({ max: 8, kinds: ['llm', 'tool'] });
 */
export function stepCount(
  options: NamedOptions & { max?: number; min?: number; kinds?: readonly SpanKind[] } = {},
): Scorer {
  if (options.max === undefined && options.min === undefined)
    throw new RangeError('stepCount needs max, min or both');
  const name = options.name ?? 'step_count';
  return {
    name,
    usesTrace: true,
    score({ spans }) {
      const steps = options.kinds
        ? spans.filter((s) => options.kinds!.includes(s.kind)).length
        : spans.length;
      const pass =
        (options.max === undefined || steps <= options.max) &&
        (options.min === undefined || steps >= options.min);
      return { name, value: pass ? 1 : 0, pass, metadata: { steps } };
    },
  };
}

/**
 * The trial cost at most `micros` (millionths of a dollar; the context's cost, which the runner takes
 * from the trial's spans and gateway records).
 *
 * @example
 * costCeiling(20_000); // at most 2 cents per trial
 */
export function costCeiling(micros: number, options: NamedOptions = {}): Scorer {
  const name = options.name ?? 'cost_ceiling';
  return {
    name,
    score({ costMicros }) {
      const pass = costMicros <= micros;
      return { name, value: pass ? 1 : 0, pass, metadata: { costMicros, ceiling: micros } };
    },
  };
}

/**
 * The trial took at most `ms` milliseconds of wall time.
 *
 * @example
 * latencyCeiling(5_000);
 */
export function latencyCeiling(ms: number, options: NamedOptions = {}): Scorer {
  const name = options.name ?? 'latency_ceiling';
  return {
    name,
    score({ durationMs }) {
      const pass = durationMs <= ms;
      return { name, value: pass ? 1 : 0, pass, metadata: { durationMs, ceiling: ms } };
    },
  };
}
