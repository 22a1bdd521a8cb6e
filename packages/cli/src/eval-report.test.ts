import { describe, expect, it } from 'vitest';
import type { Comparison, Experiment, MetricComparison } from '@hangar/protocol';
import { progressLine } from './eval-progress.js';
import { checkFloors, datasetMismatch, gateFailures, parseFloor, renderJUnit, renderMarkdown, type EvalReport } from './eval-report.js';

const experiment = (id: string, means: Record<string, number>): Experiment => ({
  id,
  name: 'support <agent>',
  datasetId: 'ds_1',
  datasetVersion: 2,
  status: 'completed',
  trials: 3,
  metadata: {},
  agentId: null,
  budgetMicros: null,
  casesTotal: 20,
  trialsDone: 60,
  costMicros: 26_800,
  scores: Object.entries(means).map(([name, mean]) => ({
    name,
    n: 60,
    errors: 0,
    mean,
    standardError: 0.05,
    ciLow: mean - 0.1,
    ciHigh: mean + 0.1,
    passRate: mean,
  })),
  createdAt: '2026-11-25T12:00:00.000Z',
  finishedAt: '2026-11-25T12:01:00.000Z',
});

const metric = (name: string, verdict: MetricComparison['verdict'], delta: number): MetricComparison => ({
  name,
  pairs: 20,
  baselineMean: 0.8,
  candidateMean: 0.8 + delta,
  meanDelta: delta,
  ciLow: delta - 0.1,
  ciHigh: delta + 0.1,
  test: 'wilcoxon',
  pValue: verdict === 'no_significant_change' ? 0.4 : 0.0004,
  adjustedPValue: verdict === 'no_significant_change' ? 0.8 : 0.0008,
  verdict,
  power: null,
});

function report(metrics: MetricComparison[], floors: string[] = [], failOn = true): EvalReport {
  const candidate = experiment('exp_new', { answer: 0.4, 'right&tool': 0.75 });
  const comparison: Comparison = {
    baselineId: 'exp_old',
    candidateId: 'exp_new',
    datasetId: 'ds_1',
    datasetVersion: 2,
    alpha: 0.05,
    verdict: metrics.some((m) => m.verdict === 'regressed') ? 'regressed' : 'no_significant_change',
    metrics,
    cases: [
      { caseId: 'c1', baseline: { answer: 1 }, candidate: { answer: 0 }, delta: { answer: -1 } },
      { caseId: 'c2', baseline: { answer: 1 }, candidate: { answer: 1 }, delta: { answer: 0 } },
    ],
  };
  const partial = {
    name: 'support <agent>',
    experiment: candidate,
    baseline: experiment('exp_old', { answer: 0.8 }),
    comparison,
    floors: checkFloors(candidate, floors.map(parseFloor)),
    stopped: null,
  };
  return { ...partial, failures: gateFailures(partial, failOn) };
}

describe('the gate', () => {
  it('fails on a significant regression only when asked to, and on a floor either way', () => {
    const regressed = [metric('answer', 'regressed', -0.4), metric('right&tool', 'no_significant_change', -0.05)];
    expect(report(regressed).failures).toEqual(['significant regression in answer']);
    expect(report(regressed, [], false).failures).toEqual([]);
    expect(report([metric('answer', 'no_significant_change', -0.05)]).failures).toEqual([]);
    expect(report([metric('answer', 'no_significant_change', 0)], ['answer=0.5', 'right&tool=0.7'], false).failures).toEqual([
      'answer 0.400 is below the floor 0.5',
    ]);
  });

  it('refuses to compare experiments on different dataset versions, saying what to do', () => {
    const v2 = experiment('exp_new', {});
    expect(datasetMismatch(experiment('exp_old', {}), v2)).toBeNull();
    const message = datasetMismatch({ ...experiment('exp_old', {}), datasetVersion: 1 }, v2)!;
    expect(message).toMatch(/^Cannot compare: the baseline exp_old ran on dataset ds_1 version 1, this run on dataset ds_1 version 2\./);
    expect(message).toMatch(/pin the version in the eval \(data: \{ dataset, version \}\) or record a new baseline/);
    expect(datasetMismatch({ ...experiment('exp_old', {}), datasetId: null, datasetVersion: null }, v2)).toMatch(/ran on inline cases \(no dataset\)/);
  });

  it('parses floors and refuses what is not metric=value', () => {
    expect(parseFloor('answer=0.75')).toEqual({ metric: 'answer', min: 0.75 });
    expect(() => parseFloor('answer>0.7')).toThrow(/metric=value/);
  });
});

describe('JUnit and Markdown', () => {
  it('JUnit: a test case per metric and floor, failures where the gate fails, names escaped', () => {
    const xml = renderJUnit([report([metric('answer', 'regressed', -0.4), metric('right&tool', 'improved', 0.1)], ['answer=0.3'])]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="hangar eval" tests="3" failures="1">/);
    expect(xml).toContain('<testsuite name="support &lt;agent&gt;" tests="3" failures="1"');
    expect(xml).toMatch(/<testcase classname="support &lt;agent&gt;" name="answer vs baseline">\s*<failure message="answer regressed">answer: 0.800 → 0.400 \(Δ -0.400/);
    expect(xml).toMatch(/<testcase classname="support &lt;agent&gt;" name="right&amp;tool vs baseline"><system-out>/);
    expect(xml).toMatch(/name="answer &gt;= 0.3"><system-out>answer mean 0.400, floor 0.3</);
  });

  it('Markdown: verdict first, a row per metric, the cases that got worse', () => {
    const md = renderMarkdown([report([metric('answer', 'regressed', -0.4)])], { baseUrl: 'http://hangar.example:7070/' });
    expect(md.split('\n').slice(0, 3)).toEqual(['## Hangar eval', '', '**Failed**: support <agent>.']);
    expect(md).toContain('- significant regression in answer');
    expect(md).toContain('([view](http://hangar.example:7070/experiments/exp_new))');
    expect(md).toContain('| answer | 0.800 | 0.400 | -0.400 | -0.500 .. -0.300 | wilcoxon | <0.001 | **regressed** |');
    expect(md).toContain('| `c1` | answer -1.00 |');
    expect(md).not.toContain('`c2`');
  });
});

describe('progress line', () => {
  it('shows done of total, ETA, cost and pass rate so far', () => {
    const line = progressLine({ name: 'support', experimentId: 'e', done: 30, total: 120, skipped: 0, errors: 2, passed: 21, judged: 28, costMicros: 12_345, elapsedMs: 15_000 });
    expect(line).toBe('support  [######------------------]  30/120  25%  ETA 45s  cost $0.0123  pass 75.0%  errors 2');
    expect(progressLine({ name: 's', experimentId: 'e', done: 5, total: null, skipped: 0, errors: 0, passed: 0, judged: 0, costMicros: 0, elapsedMs: 61_000 })).toBe(
      's  5 trials  1m01s  cost $0.0000  pass -',
    );
  });
});
