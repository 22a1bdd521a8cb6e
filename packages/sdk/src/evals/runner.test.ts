import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Experiment, TrialResult } from '@hangar/protocol';
import type { Scorer } from '@hangar/evals';
import { traceTool } from '../tracing/spans.js';
import { offerToTaps } from '../tracing/span-tap.js';
import { TRIAL_ATTRIBUTES, caseIdOf, runEval } from './runner.js';
import type { EvalBackend, EvalProgress } from './types.js';

// A real OpenTelemetry SDK in memory; every ended span is also offered to the taps, as Hangar's processor does.
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [
    new SimpleSpanProcessor(memory),
    { onStart() {}, onEnd: (s: ReadableSpan) => offerToTaps(s), forceFlush: async () => {}, shutdown: async () => {} },
  ],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

/** Records what the runner sends to Hangar; `posted` pretends earlier results exist (a resume). */
function recordingBackend(options: { posted?: { caseId: string; trial: number }[]; trials?: number } = {}) {
  const batches: TrialResult[][] = [];
  let created = 0;
  let finished: string | null = null;
  const experiment = (over: Partial<Experiment> = {}): Experiment => ({
    id: 'exp_1',
    name: 'test',
    datasetId: null,
    datasetVersion: null,
    status: 'running',
    trials: options.trials ?? 1,
    metadata: {},
    agentId: null,
    budgetMicros: null,
    casesTotal: 0,
    trialsDone: 0,
    costMicros: 0,
    scores: [],
    createdAt: new Date().toISOString(),
    finishedAt: null,
    ...over,
  });
  const backend: EvalBackend = {
    async createExperiment() {
      created++;
      return { experiment: experiment(), credential: 'agent-credential' };
    },
    getExperiment: async () => experiment(),
    async *postedTrials() {
      yield* options.posted ?? [];
    },
    async postResults(_id, results) {
      batches.push(results);
    },
    async finish(_id, status) {
      finished = status;
      return experiment({ status });
    },
    dataset: () => Promise.reject(new Error('no datasets here')),
    trace: async () => [],
  };
  return { backend, batches, created: () => created, finished: () => finished, results: () => batches.flat() };
}

const RUN = { baseUrl: 'http://127.0.0.1:9', apiKey: 'hk_test' };
const cases = Array.from({ length: 7 }, (_, i) => ({ id: `c${i}`, input: i, expected: i * 2 }));
const doubles: Scorer<number, number, number> = { name: 'double', score: ({ output, expected }) => output === expected };

describe('runEval', () => {
  it('runs every trial of every case, scores it, and posts in batches no larger than asked', async () => {
    const rec = recordingBackend({ trials: 3 });
    const seen: EvalProgress[] = [];
    const summary = await runEval(
      'doubling',
      { data: cases, task: (n) => (n === 3 ? 7 : n * 2), scorers: [doubles], trials: 3, maxConcurrency: 4 },
      { ...RUN, batchSize: 5, onProgress: (p) => seen.push(p) },
      rec.backend,
    );
    const results = rec.results();
    expect(results).toHaveLength(21);
    expect(new Set(results.map((r) => `${r.caseId}/${r.trial}`)).size).toBe(21);
    expect(rec.batches.every((b) => b.length <= 5)).toBe(true);
    expect(results.filter((r) => r.scores[0]!.value === 0).map((r) => r.caseId)).toEqual(['c3', 'c3', 'c3']);
    expect(summary.stopped).toBeNull();
    expect(rec.finished()).toBe('completed');
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ done: 21, total: 21, passed: 18, judged: 21, errors: 0 });
  });

  it('records a throwing task and a throwing scorer as errors, never as a zero score', async () => {
    const rec = recordingBackend();
    const broken: Scorer<number, number, number> = {
      name: 'broken',
      score: () => {
        throw new Error('scorer bug');
      },
    };
    await runEval(
      'errors',
      {
        data: cases.slice(0, 2),
        task: (n) => {
          if (n === 1) throw new TypeError('task bug');
          return n * 2;
        },
        scorers: [doubles, broken],
      },
      RUN,
      rec.backend,
    );
    const [ok, failed] = [...rec.results()].sort((a, b) => a.caseId.localeCompare(b.caseId));
    expect(ok!.scores).toEqual([
      { name: 'double', value: 1, pass: true, error: null },
      { name: 'broken', value: null, pass: null, error: 'scorer bug' },
    ]);
    expect(failed!.error).toBe('TypeError: task bug');
    expect(failed!.scores).toEqual([]);
  });

  it('times a trial out: its signal aborts and the trial records the timeout', async () => {
    const rec = recordingBackend();
    let aborted = false;
    await runEval(
      'slow',
      {
        data: [{ id: 'slow', input: 0 }],
        task: (_n, ctx) =>
          new Promise<number>(() => {
            ctx.signal.addEventListener('abort', () => (aborted = true));
          }),
        scorers: [doubles],
        timeoutMs: 50,
      },
      RUN,
      rec.backend,
    );
    expect(aborted).toBe(true);
    expect(rec.results()[0]!.error).toMatch(/timed out after 50 ms/);
  });

  it('resumes: skips the (case, trial) pairs already posted and creates no new experiment', async () => {
    const rec = recordingBackend({ trials: 2, posted: [{ caseId: 'c0', trial: 0 }, { caseId: 'c0', trial: 1 }, { caseId: 'c4', trial: 1 }] });
    const summary = await runEval('resumed', { data: cases, task: (n) => n * 2, scorers: [doubles], trials: 2 }, { ...RUN, resume: 'exp_1' }, rec.backend);
    const ran = rec.results().map((r) => `${r.caseId}/${r.trial}`);
    expect(ran).toHaveLength(11);
    expect(ran).not.toContain('c0/0');
    expect(ran).not.toContain('c4/1');
    expect(ran).toContain('c4/0');
    expect(rec.created()).toBe(0);
    expect(summary).toMatchObject({ trialsRun: 11, trialsSkipped: 3 });
  });

  it('traces each trial, sends its trace context to the gateway, and gives trajectory scorers its tool spans', async () => {
    memory.reset();
    const headers: IncomingHttpHeaders[] = [];
    const gateway = createServer((req, res) => {
      headers.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const lookup = traceTool('lookup', (q: { id: number }) => q.id * 2);
    const usedLookup: Scorer<number, number, number> = {
      name: 'used_lookup',
      usesTrace: true,
      score: ({ spans }) => spans.some((s) => s.kind === 'tool' && s.toolName === 'lookup' && (s.toolArguments as { id: number }).id === 5),
    };
    const rec = recordingBackend();
    try {
      await runEval(
        'traced',
        {
          data: [{ id: 'five', input: 5, expected: 10 }],
          task: async (n, ctx) => {
            await ctx.gateway.fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' });
            return lookup({ id: n });
          },
          scorers: [doubles, usedLookup],
        },
        RUN,
        rec.backend,
      );
    } finally {
      gateway.close();
    }
    const result = rec.results()[0]!;
    expect(result.scores.map((s) => s.value)).toEqual([1, 1]);
    const root = memory.getFinishedSpans().find((s) => s.attributes[TRIAL_ATTRIBUTES.caseId] === 'five')!;
    expect(root.attributes).toMatchObject({ [TRIAL_ATTRIBUTES.experimentId]: 'exp_1', [TRIAL_ATTRIBUTES.trial]: 0 });
    expect(result.traceId).toBe(root.spanContext().traceId);
    expect(headers[0]!.traceparent).toBe(`00-${root.spanContext().traceId}-${root.spanContext().spanId}-01`);
    expect(headers[0]!.authorization).toBeUndefined();
  });

  it('stops at the budget: when the gateway refuses with budget_exceeded, no more trials start', async () => {
    const gateway = createServer((_req, res) => {
      res.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'budget_exceeded', message: 'no budget left' } }));
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const rec = recordingBackend();
    let calls = 0;
    try {
      const summary = await runEval(
        'runaway',
        {
          data: Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, input: i })),
          task: async (_n, ctx) => {
            calls++;
            const res = await ctx.gateway.fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' });
            if (!res.ok) throw new Error(`gateway ${res.status}`);
            return 0;
          },
          scorers: [doubles],
          maxConcurrency: 2,
        },
        RUN,
        rec.backend,
      );
      expect(summary.stopped).toBe('budget');
    } finally {
      gateway.close();
    }
    expect(rec.finished()).toBe('stopped');
    expect(calls).toBeLessThanOrEqual(2);
    expect(rec.results()).toHaveLength(0);
  });
});

describe('caseIdOf', () => {
  it('keeps a given id and derives the same id from equal inputs, whatever their key order', () => {
    expect(caseIdOf({ id: 'mine', input: 1 })).toBe('mine');
    expect(caseIdOf({ input: { a: 1, b: [1, { c: 2, d: 3 }] } })).toBe(caseIdOf({ input: { b: [1, { d: 3, c: 2 }], a: 1 } }));
    expect(caseIdOf({ input: { a: 1 } })).not.toBe(caseIdOf({ input: { a: 2 } }));
  });
});

beforeAll(() => memory.reset());
afterAll(() => provider.shutdown());
