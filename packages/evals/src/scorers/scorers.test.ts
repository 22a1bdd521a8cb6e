import { describe, expect, it } from 'vitest';
import type { JudgeCall, ScorerContext, TrialSpan } from '../types.js';
import { runScorer, scorer } from './run-scorer.js';
import { embeddingSimilarity, extractJsonObject, judgeAgreement, llmJudge } from './semantic.js';
import { exact, includes, jsonValid, levenshtein, levenshteinDistance, numeric, regex } from './text.js';
import { costCeiling, latencyCeiling, stepCount, toolArgsMatch, toolOrder, toolUsed } from './trajectory.js';

const ctx = (output: unknown, expected?: unknown, extra: Partial<ScorerContext> = {}): ScorerContext => ({
  input: 'question',
  output,
  expected,
  metadata: {},
  spans: [],
  durationMs: 1200,
  costMicros: 3000,
  ...extra,
});

describe('runScorer', () => {
  it('normalizes booleans and numbers, and turns a throw or a NaN into an error, never a 0', async () => {
    expect(
      await runScorer(
        scorer('b', () => true),
        ctx('x'),
      ),
    ).toEqual({ name: 'b', value: 1, pass: true, error: null });
    expect(
      await runScorer(
        scorer('n', async () => 0.25),
        ctx('x'),
      ),
    ).toEqual({ name: 'n', value: 0.25, pass: null, error: null });
    const thrown = await runScorer(
      scorer('t', () => {
        throw new Error('rate limited');
      }),
      ctx('x'),
    );
    expect(thrown).toEqual({ name: 't', value: null, pass: null, error: 'rate limited' });
    expect(
      (
        await runScorer(
          scorer('nan', () => Number.NaN),
          ctx('x'),
        )
      ).error,
    ).toMatch(/NaN/);
  });
});

describe('text scorers', () => {
  it('exact compares text trimmed, optionally case-insensitive, and JSON structurally', async () => {
    expect((await runScorer(exact(), ctx(' Paris\n', 'Paris'))).pass).toBe(true);
    expect((await runScorer(exact(), ctx('paris', 'Paris'))).pass).toBe(false);
    expect((await runScorer(exact({ caseSensitive: false }), ctx('paris', 'Paris'))).pass).toBe(true);
    expect((await runScorer(exact(), ctx({ b: [1, 2], a: 'x' }, { a: 'x', b: [1, 2] }))).pass).toBe(true);
    expect((await runScorer(exact(), ctx({ a: 'x' }, { a: 'y' }))).pass).toBe(false);
    expect((await runScorer(exact(), ctx('Paris'))).error).toMatch(/needs an expected value/);
  });

  it('includes gives the fraction of texts found; regex matches', async () => {
    expect(
      await runScorer(includes(['order', 'Refund']), ctx('Your order refund is on its way')),
    ).toMatchObject({
      value: 0.5,
      pass: false,
      metadata: { missing: ['Refund'] },
    });
    expect(
      (await runScorer(includes(['order', 'Refund'], { caseSensitive: false }), ctx('order refund'))).pass,
    ).toBe(true);
    expect((await runScorer(includes(), ctx('the capital is Paris', 'Paris'))).pass).toBe(true);
    expect((await runScorer(regex(/^\d{4}-\d{2}-\d{2}$/), ctx('2026-11-25'))).pass).toBe(true);
    const g = regex(/a/g);
    expect([(await runScorer(g, ctx('a'))).pass, (await runScorer(g, ctx('a'))).pass]).toEqual([true, true]);
  });

  it('jsonValid parses, validates against a schema and says why not', async () => {
    const s = jsonValid({
      schema: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
    });
    expect((await runScorer(s, ctx('{"city":"Oslo"}'))).pass).toBe(true);
    expect((await runScorer(s, ctx({ city: 'Oslo' }))).pass).toBe(true);
    const wrong = await runScorer(s, ctx('{"city":4}'));
    expect(wrong).toMatchObject({ value: 0, pass: false });
    expect(JSON.stringify(wrong.metadata)).toContain('/city must be string');
    expect((await runScorer(jsonValid(), ctx('{"city":'))).metadata).toMatchObject({
      errors: [expect.stringMatching(/^not JSON/)],
    });
    expect(() => jsonValid({ schema: { type: 'no-such-type' } })).toThrow();
  });

  it('numeric reads numbers from text, with absolute or relative tolerance', async () => {
    expect((await runScorer(numeric({ tolerance: 0.01 }), ctx('It is about 3.141 units', 3.14))).pass).toBe(
      true,
    );
    expect((await runScorer(numeric(), ctx('1,234.5 km', '1234.5'))).pass).toBe(true);
    expect((await runScorer(numeric({ tolerance: 0.05, relative: true }), ctx(104, 100))).pass).toBe(true);
    expect((await runScorer(numeric({ tolerance: 0.05, relative: true }), ctx(106, 100))).pass).toBe(false);
    expect(await runScorer(numeric(), ctx('no idea', 7))).toMatchObject({
      value: 0,
      pass: false,
      error: null,
    });
    expect((await runScorer(numeric(), ctx('7', 'seven'))).error).toMatch(/not a number/);
  });

  it('levenshtein is 1 − distance / longer length, by code point', async () => {
    expect(levenshteinDistance('kitten', 'sitting')).toBe(3);
    expect(levenshteinDistance('', 'abc')).toBe(3);
    expect(levenshteinDistance('naïve 🚀', 'naive 🚀')).toBe(1);
    const r = await runScorer(levenshtein({ threshold: 0.5 }), ctx('kitten', 'sitting'));
    expect(r.value).toBeCloseTo(1 - 3 / 7, 12);
    expect(r.pass).toBe(true);
    expect((await runScorer(levenshtein(), ctx('', ''))).value).toBe(1);
  });
});

describe('model-based scorers', () => {
  it('embeddingSimilarity is the cosine of the two embeddings', async () => {
    const embed = async ({ input }: { model: string; input: string[] }) =>
      input.map((t) => (t === 'a' ? [1, 0] : [1, 1]));
    const r = await runScorer(embeddingSimilarity({ embed, model: 'm', threshold: 0.8 }), ctx('a', 'b'));
    expect(r.value).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r.pass).toBe(false);
  });

  it('llmJudge sends the rubric, output and reference, parses a fenced verdict, and errors on an unusable one', async () => {
    const seen: string[] = [];
    const reply =
      (text: string): JudgeCall =>
      async (req) => {
        seen.push(req.messages.map((m) => m.content).join('\n'));
        return { text, costMicros: 150 };
      };
    const judge = llmJudge({
      call: reply('Sure!\n```json\n{"score": 0.8, "pass": true, "rationale": "polite {and} correct"}\n```'),
      model: 'judge-1',
      rubric: 'Be polite.',
    });
    const r = await runScorer(judge, ctx('Hello, your order shipped', 'shipped'));
    expect(r).toEqual({
      name: 'llm_judge',
      value: 0.8,
      pass: true,
      error: null,
      metadata: { rationale: 'polite {and} correct', judgeModel: 'judge-1', costMicros: 150 },
    });
    expect(seen[0]).toContain('Be polite.');
    expect(seen[0]).toContain('Hello, your order shipped');
    expect(seen[0]).toContain('# Reference answer\nshipped');

    expect(
      (
        await runScorer(
          llmJudge({ call: reply('{"score": "0.4"}'), model: 'j', rubric: 'r', passThreshold: 0.3 }),
          ctx('x'),
        )
      ).pass,
    ).toBe(true);
    for (const bad of ['I think it is fine.', '{"score": 7}', '{"verdict": "good"}']) {
      const e = await runScorer(llmJudge({ call: reply(bad), model: 'j', rubric: 'r' }), ctx('x'));
      expect(e.value).toBeNull();
      expect(e.error).toBeTruthy();
    }
    const choices = llmJudge({
      call: reply('{"choice": "B", "rationale": "partly"}'),
      model: 'j',
      rubric: 'r',
      choices: { A: 1, B: 0.5, C: 0 },
    });
    expect(await runScorer(choices, ctx('x'))).toMatchObject({
      value: 0.5,
      pass: true,
      metadata: { choice: 'B' },
    });
  });

  it('extractJsonObject skips braces that are not JSON', () => {
    expect(extractJsonObject('see {this} then {"a": "}"}')).toEqual({ a: '}' });
    expect(extractJsonObject('none')).toBeNull();
  });

  it('judgeAgreement: a consistent judge agrees with itself, a coin-flipping one does not', async () => {
    const cases = [0.1, 0.3, 0.5, 0.7, 0.9, 0.2].map((q) => ctx(`quality ${q}`));
    const steady = scorer('steady', ({ output }) => Number(String(output).split(' ')[1]));
    const agreed = await judgeAgreement(steady, cases, 3);
    expect(agreed.alpha).toBe(1);
    expect(agreed.meanSpread).toBeCloseTo(0, 12);
    let flip = 0;
    const noisy = scorer('noisy', () => ((flip = (flip * 7 + 3) % 11) / 10) % 1);
    const random = await judgeAgreement(noisy, cases, 4);
    expect(random.alpha!).toBeLessThan(0.3);
    expect(random.ratings).toHaveLength(6);
    expect((await judgeAgreement(steady, cases[0]!, 3)).alpha).toBeNull();
  });
});

describe('trajectory scorers', () => {
  const span = (
    toolName: string | null,
    args: unknown = null,
    kind: TrialSpan['kind'] = 'tool',
  ): TrialSpan => ({
    name: toolName ?? 'chat',
    kind: toolName ? kind : 'llm',
    toolName,
    toolArguments: args,
    model: null,
    status: 'ok',
    startTime: 0,
    durationMs: 10,
    costMicros: null,
  });
  const spans = [
    span(null),
    span('search', { q: 'order 1234', limit: 5 }),
    span(null),
    span('lookup_order', { orderId: '1234' }),
    span('refund', { orderId: '1234', amount: 10 }),
  ];
  const run = (s: Parameters<typeof runScorer>[0]) => runScorer(s, ctx('done', undefined, { spans }));

  it('read the trace', () => {
    for (const s of [toolUsed('x'), toolArgsMatch('x', {}), toolOrder([]), stepCount({ max: 1 })])
      expect(s.usesTrace).toBe(true);
  });

  it('toolUsed and toolArgsMatch', async () => {
    expect((await run(toolUsed('refund'))).pass).toBe(true);
    expect((await run(toolUsed('delete_account', { expect: false }))).pass).toBe(true);
    expect((await run(toolUsed('refund', { expect: false }))).pass).toBe(false);
    expect((await run(toolArgsMatch('lookup_order', { orderId: '1234' }))).pass).toBe(true);
    expect((await run(toolArgsMatch('search', { q: 'order 1234' }))).pass).toBe(false);
    expect((await run(toolArgsMatch('search', { q: 'order 1234' }, { partial: true }))).pass).toBe(true);
  });

  it('toolOrder in its four modes', async () => {
    const called = ['search', 'lookup_order', 'refund'];
    const verdicts = async (names: string[]) =>
      Promise.all(
        (['strict', 'unordered', 'subset', 'superset'] as const).map(
          async (mode) => (await run(toolOrder(names, { mode }))).pass,
        ),
      );
    expect(await verdicts(called)).toEqual([true, true, true, true]);
    expect(await verdicts(['refund', 'search', 'lookup_order'])).toEqual([false, true, true, true]);
    expect(await verdicts(['search', 'refund'])).toEqual([false, false, false, true]);
    expect(await verdicts([...called, 'escalate'])).toEqual([false, false, true, false]);
  });

  it('stepCount, costCeiling and latencyCeiling', async () => {
    expect(await run(stepCount({ max: 4 }))).toMatchObject({ pass: false, metadata: { steps: 5 } });
    expect(await run(stepCount({ max: 4, kinds: ['tool'] }))).toMatchObject({
      pass: true,
      metadata: { steps: 3 },
    });
    expect((await run(stepCount({ min: 2, kinds: ['llm'] }))).pass).toBe(true);
    expect((await run(costCeiling(2000))).pass).toBe(false);
    expect((await run(costCeiling(3000))).pass).toBe(true);
    expect((await run(latencyCeiling(1000))).pass).toBe(false);
  });
});
