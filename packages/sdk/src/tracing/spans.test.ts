import { SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { traceTool, traced, withSpan } from './spans.js';
import { recordSpans } from './test-support.js';

const recorded = recordSpans();
beforeEach(() => recorded.reset());

const byName = (name: string) => recorded.spans().find((s) => s.name === name)!;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('withSpan', () => {
  it('returns what a sync function returns and ends the span before returning', () => {
    const value = withSpan('sync', (span) => {
      span.setAttribute('x', 1);
      return 42;
    });
    expect(value).toBe(42);
    expect(recorded.spans().map((s) => [s.name, s.attributes.x, s.ended])).toEqual([['sync', 1, true]]);
  });

  it('ends an async span when its promise settles, not before', async () => {
    let release!: () => void;
    const done = withSpan('async', () => new Promise<string>((resolve) => (release = () => resolve('ok'))));
    await tick();
    expect(recorded.spans()).toHaveLength(0);
    release();
    expect(await done).toBe('ok');
    expect(recorded.spans().map((s) => s.name)).toEqual(['async']);
  });

  it('records a throw or a rejection and passes the same error on', async () => {
    const boom = new TypeError('boom');
    expect(() =>
      withSpan('sync fail', () => {
        throw boom;
      }),
    ).toThrow(boom);
    await expect(
      withSpan('async fail', async () => {
        await tick();
        throw boom;
      }),
    ).rejects.toBe(boom);
    for (const name of ['sync fail', 'async fail']) {
      const span = byName(name);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
      expect(span.attributes['error.type']).toBe('TypeError');
      expect(span.events[0]?.name).toBe('exception');
    }
  });

  it('nests spans across awaits, also when siblings run concurrently', async () => {
    await withSpan('root', async () => {
      await Promise.all(
        ['a', 'b'].map((n) =>
          withSpan(n, async () => {
            await tick();
            await withSpan(`${n}.child`, async () => tick());
          }),
        ),
      );
    });
    const root = byName('root');
    const id = (name: string) => byName(name).spanContext().spanId;
    expect(byName('a').parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(byName('b').parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(byName('a.child').parentSpanContext?.spanId).toBe(id('a'));
    expect(byName('b.child').parentSpanContext?.spanId).toBe(id('b'));
    expect(new Set(recorded.spans().map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(trace.getActiveSpan()).toBeUndefined(); // nothing leaks out
  });
});

describe('traced', () => {
  it('wraps a function: same arguments, result and this; a span per call with the attributes', async () => {
    const agent = {
      prefix: 'plan:',
      plan: traced(
        'plan',
        async function (this: { prefix: string }, goal: string) {
          await tick();
          return `${this.prefix} ${goal}`;
        },
        { 'agent.name': 'planner' },
      ),
    };
    expect(await agent.plan('fly')).toBe('plan: fly');
    expect(await agent.plan('sail')).toBe('plan: sail');
    expect(recorded.spans().map((s) => [s.name, s.attributes['agent.name']])).toEqual([
      ['plan', 'planner'],
      ['plan', 'planner'],
    ]);
  });
});

describe('traceTool', () => {
  it('records an execute_tool span with the tool name, arguments and result', async () => {
    const getWeather = traceTool('get_weather', async ({ city }: { city: string }) => ({
      city,
      sky: 'rainy',
    }));
    expect(await getWeather({ city: 'Oslo' })).toEqual({ city: 'Oslo', sky: 'rainy' });
    const span = byName('execute_tool get_weather');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.call.arguments': '{"city":"Oslo"}',
      'gen_ai.tool.call.result': '{"city":"Oslo","sky":"rainy"}',
    });
  });

  it('records a failing tool as an error, with its arguments', () => {
    const divide = traceTool('divide', (a: number, b: number) => {
      if (b === 0) throw new RangeError('division by zero');
      return a / b;
    });
    expect(() => divide(1, 0)).toThrow('division by zero');
    const span = byName('execute_tool divide');
    expect(span.attributes['gen_ai.tool.call.arguments']).toBe('[1,0]');
    expect(span.attributes['gen_ai.tool.call.result']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});
