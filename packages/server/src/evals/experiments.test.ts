import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { startFakeUpstream, type FakeUpstream } from '../gateway/fake-upstream.js';
import { createTestApp, type TestApp } from '../test-app.js';

const score = (name: string, value: number | null, extra: Record<string, unknown> = {}) => ({ name, value, ...extra });
const result = (caseId: string, trial: number, value: number, extra: Record<string, unknown> = {}) => ({
  caseId,
  trial,
  output: `out ${caseId}/${trial}`,
  durationMs: 10,
  costMicros: 5,
  scores: [score('exact', value, { pass: value >= 0.5 })],
  ...extra,
});

for (const dialect of DIALECTS) {
  describe(`experiments on ${dialect}`, () => {
    let t: TestApp;
    let datasetId: string;
    beforeAll(async () => {
      t = await createTestApp(dialect);
      const cases = Array.from({ length: 6 }, (_, i) => ({ id: `case-${i}`, input: `q${i}`, expected: `a${i}` }));
      datasetId = (await t.request('POST', '/v1/datasets', { body: { name: 'golden', cases } })).json.id;
    });
    afterAll(async () => {
      await t.close();
    });

    it('stores results idempotently per (caseId, trial), first wins; summaries follow', async () => {
      const created = await t.request('POST', '/v1/experiments', { body: { name: 'prompt-v1', datasetId: 'golden', trials: 2, metadata: { prompt: 'v1' } } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ datasetId, datasetVersion: 1, casesTotal: 6, trials: 2, status: 'running', credential: null });
      const id = created.json.id as string;

      const batch = [result('case-0', 0, 1), result('case-0', 1, 0), result('case-1', 0, 1)];
      const first = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: batch } });
      expect(first.json).toEqual({ stored: 3, unchanged: 0, trialsDone: 3 });
      // a resumed run posts the same results again, plus one new one
      const again = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: [...batch, result('case-1', 1, 1)] } });
      expect(again.json).toEqual({ stored: 1, unchanged: 3, trialsDone: 4 });
      // a different body for a stored pair refuses the whole batch
      const clash = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: [result('case-2', 0, 1), result('case-0', 0, 0)] } });
      expect([clash.status, clash.json.error.code, clash.json.error.details]).toEqual([409, 'idempotency_conflict', { caseId: 'case-0', trial: 0 }]);
      const unknownCase = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: [result('nope', 0, 1)] } });
      expect([unknownCase.status, unknownCase.json.error.code]).toEqual([400, 'validation_failed']);
      const tooManyTrials = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: [result('case-3', 2, 1)] } });
      expect(tooManyTrials.status).toBe(400);

      const got = (await t.request('GET', `/v1/experiments/${id}`)).json;
      expect(got).toMatchObject({ trialsDone: 4, costMicros: 20 });
      expect(got.scores).toHaveLength(1);
      expect(got.scores[0]).toMatchObject({ name: 'exact', n: 4, errors: 0, mean: 0.75, passRate: 0.75 });

      const page1 = (await t.request('GET', `/v1/experiments/${id}/results?limit=3`)).json;
      expect(page1.results.map((r: { caseId: string; trial: number }) => `${r.caseId}/${r.trial}`)).toEqual(['case-0/0', 'case-0/1', 'case-1/0']);
      const page2 = (await t.request('GET', `/v1/experiments/${id}/results?limit=3&cursor=${page1.nextCursor}`)).json;
      expect(page2.results.map((r: { caseId: string; trial: number }) => `${r.caseId}/${r.trial}`)).toEqual(['case-1/1']);
      expect(page2.nextCursor).toBeNull();
      expect(page1.results[1]).toMatchObject({ experimentId: id, output: 'out case-0/1', scores: [{ name: 'exact', value: 0, pass: false }] });

      const finished = await t.request('POST', `/v1/experiments/${id}/finish`, { body: {} });
      expect(finished.json).toMatchObject({ status: 'completed', finishedAt: expect.any(String) });
      const late = await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: [result('case-5', 0, 1)] } });
      expect([late.status, late.json.error.code]).toEqual([409, 'conflict']);
      // re-posting what is stored stays harmless after the end
      expect((await t.request('POST', `/v1/experiments/${id}/results`, { body: { results: batch } })).json.unchanged).toBe(3);

      const events = (await t.request('GET', '/v1/streams/evals/events')).json.events.map((e: { type: string }) => e.type);
      expect(events.slice(-2)).toEqual(['experiment.created', 'experiment.finished']);
    });

    it('lists with summaries, filters, and resolves name@latest to the newest completed run', async () => {
      const a = (await t.request('POST', '/v1/experiments', { body: { name: 'series', datasetId } })).json.id;
      await t.request('POST', `/v1/experiments/${a}/results`, { body: { results: [result('case-0', 0, 0.5)] } });
      await t.request('POST', `/v1/experiments/${a}/finish`, { body: { status: 'completed' } });
      const b = (await t.request('POST', '/v1/experiments', { body: { name: 'series', datasetId } })).json.id;
      expect((await t.request('GET', '/v1/experiments/series@latest')).json.id).toBe(a); // b is still running
      await t.request('POST', `/v1/experiments/${b}/finish`, { body: { status: 'completed' } });
      expect((await t.request('GET', '/v1/experiments/series@latest')).json.id).toBe(b);
      expect((await t.request('GET', '/v1/experiments/nothing@latest')).status).toBe(404);

      const listed = (await t.request('GET', '/v1/experiments?name=series')).json;
      expect(listed.experiments.map((e: { id: string }) => e.id)).toEqual([b, a]);
      expect(listed.experiments[1].scores[0]).toMatchObject({ name: 'exact', mean: 0.5, n: 1 });
      const byDataset = (await t.request('GET', '/v1/experiments?datasetId=golden&limit=2')).json;
      expect(byDataset.experiments).toHaveLength(2);
      expect(byDataset.nextCursor).not.toBeNull();
      const rest = (await t.request('GET', `/v1/experiments?datasetId=golden&limit=2&cursor=${byDataset.nextCursor}`)).json;
      expect(rest.experiments.map((e: { name: string }) => e.name)).toEqual(['prompt-v1']);
    });

    it('compares two runs case by case and refuses runs on different dataset versions', async () => {
      const run = async (name: string, valueOf: (i: number, trial: number) => number) => {
        const id = (await t.request('POST', '/v1/experiments', { body: { name, datasetId, trials: 2 } })).json.id as string;
        const results = [];
        for (let i = 0; i < 6; i++) for (let trial = 0; trial < 2; trial++) results.push({ caseId: `case-${i}`, trial, durationMs: 1, scores: [score('quality', valueOf(i, trial))] });
        expect((await t.request('POST', `/v1/experiments/${id}/results`, { body: { results } })).status).toBe(200);
        await t.request('POST', `/v1/experiments/${id}/finish`, { body: {} });
        return id;
      };
      const baseline = await run('cmp-base', (i, trial) => 0.2 + 0.05 * i + 0.01 * trial);
      const same = await run('cmp-same', (i, trial) => 0.2 + 0.05 * i + 0.01 * (1 - trial));
      const better = await run('cmp-better', (i, trial) => 0.7 + 0.04 * i + 0.01 * trial);

      const improved = await t.request('GET', `/v1/experiments/${better}/compare?baseline=cmp-base@latest`);
      expect(improved.status).toBe(200);
      expect(improved.json).toMatchObject({ baselineId: baseline, candidateId: better, datasetId, datasetVersion: 1, alpha: 0.05, verdict: 'improved' });
      const [quality] = improved.json.metrics;
      expect(quality).toMatchObject({ name: 'quality', pairs: 6, verdict: 'improved' });
      expect(quality.meanDelta).toBeCloseTo(0.7 + 0.04 * 2.5 - (0.2 + 0.05 * 2.5), 6);
      expect(quality.adjustedPValue).toBeLessThan(0.05);
      expect(improved.json.cases).toHaveLength(6);
      expect(improved.json.cases[0]).toMatchObject({ caseId: 'case-0', baseline: { quality: expect.closeTo(0.205, 12) }, candidate: { quality: expect.closeTo(0.705, 12) } });
      // the other way round it is a regression; against a run that is the same case by case, no change
      expect((await t.request('GET', `/v1/experiments/${baseline}/compare?baseline=${better}`)).json.verdict).toBe('regressed');
      expect((await t.request('GET', `/v1/experiments/${same}/compare?baseline=${baseline}`)).json.verdict).toBe('no_significant_change');

      // the dataset moves on: a run on version 2 does not pair with one on version 1
      await t.request('POST', `/v1/datasets/${datasetId}/versions`, { body: { upsert: [{ id: 'case-6', input: 'q6' }] } });
      const v2 = (await t.request('POST', '/v1/experiments', { body: { name: 'cmp-v2', datasetId } })).json;
      expect(v2.datasetVersion).toBe(2);
      const refused = await t.request('GET', `/v1/experiments/${v2.id}/compare?baseline=${baseline}`);
      expect([refused.status, refused.json.error.code]).toEqual([409, 'conflict']);
      expect(refused.json.error.message).toMatch(/v1.*v2|v2.*v1/);
      // the experiment's own summaries: clustered CI over 6 cases, pass@k absent for non-pass/fail scores
      const got = (await t.request('GET', `/v1/experiments/${better}`)).json;
      expect(got.scores[0]).toMatchObject({ name: 'quality', n: 12, errors: 0 });
      expect(got.scores[0].ciLow).toBeLessThan(got.scores[0].mean);
      expect(got.scores[0].ciHigh).toBeGreaterThan(got.scores[0].mean);
    });

    it('a budget runs the experiment under an agent credential that stops at the budget', async () => {
      const created = await t.request('POST', '/v1/experiments', { body: { name: 'budgeted run', datasetId, budgetMicros: 1500 } });
      expect(created.status).toBe(201);
      const { credential, agentId } = created.json;
      expect(credential.token).toMatch(/^ey/);
      const agents = (await t.request('GET', '/v1/agents')).json.agents;
      expect(agents.find((x: { id: string }) => x.id === agentId).name).toBe('eval-budgeted-run');
      const budgets = (await t.request('GET', '/v1/budgets')).json.budgets;
      expect(budgets.find((x: { scopeId: string }) => x.scopeId === credential.id)).toMatchObject({ scope: 'credential', limitMicros: 1500, mode: 'hard', period: 'total' });
      // the runner posts results with the credential
      const posted = await t.request('POST', `/v1/experiments/${created.json.id}/results`, { key: credential.token, body: { results: [result('case-0', 0, 1)] } });
      expect(posted.status).toBe(200);
      // finishing revokes it
      await t.request('POST', `/v1/experiments/${created.json.id}/finish`, { body: {} });
      const after = await t.request('GET', '/v1/whoami', { key: credential.token });
      expect([after.status, after.json.error.code]).toEqual([401, 'credential_revoked']);
    });
  });
}

describe('an experiment budget stops a runaway eval', () => {
  let t: TestApp;
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: 'x'.repeat(32) });
    await t.request('PUT', '/v1/gateway/providers/fakeai', { body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-fake' } });
  });
  afterAll(async () => {
    await fake.close();
    await t.close();
  });

  it('model calls with the experiment credential are refused once the budget is spent', async () => {
    const body = { model: 'fakeai/gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'user', content: 'loop forever' }] };
    // the worst case the gateway holds for one such call, measured with the admin key
    expect((await t.request('POST', '/v1/chat/completions', { body })).status).toBe(200);
    await t.gateway.recorded();
    const measured = (await t.journal.read('proj_default', 'gateway', 0, 100)).events.at(-1)!.payload as { hold: { amountMicros: number }; costMicros: number };
    const worst = measured.hold.amountMicros;
    const budgetMicros = worst + 5 * measured.costMicros;
    const created = (await t.request('POST', '/v1/experiments', { body: { name: 'runaway', casesTotal: 100, budgetMicros } })).json;
    const ask = () => t.request('POST', '/v1/chat/completions', { key: created.credential.token, body });
    let calls = 0;
    let refusal: { status: number; json: { error: { code: string } } } | null = null;
    while (calls < 50) {
      const res = await ask();
      if (res.status !== 200) {
        refusal = res;
        break;
      }
      calls++;
    }
    // about five calls fit: each needs its worst case to fit what is left
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(6);
    // the credential's spend cap (held before the budget's hold) refuses first
    expect([refusal!.status, refusal!.json.error.code]).toEqual([403, 'spend_cap_exceeded']);
    const providerCalls = fake.requests.length;
    expect((await ask()).status).toBe(403);
    expect(fake.requests.length).toBe(providerCalls);
    const budget = (await t.request('GET', '/v1/budgets')).json.budgets.find((b: { scopeId: string }) => b.scopeId === created.credential.id);
    expect(budget.current.postedMicros).toBeLessThanOrEqual(budgetMicros);
    expect(budget.current.postedMicros).toBe(calls * measured.costMicros);
  });

  it('concurrent calls cannot overspend: the budget holds each worst case', async () => {
    const body = { model: 'fakeai/gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'user', content: 'in parallel' }] };
    const first = await t.request('POST', '/v1/chat/completions', { body });
    expect(first.status).toBe(200);
    await t.gateway.recorded();
    const worst = ((await t.journal.read('proj_default', 'gateway', 0, 1000)).events.at(-1)!.payload as { hold: { amountMicros: number } }).hold.amountMicros;
    const created = (await t.request('POST', '/v1/experiments', { body: { name: 'parallel', casesTotal: 10, budgetMicros: Math.floor(worst * 2.5) } })).json;
    fake.queue(...Array.from({ length: 6 }, () => ({ delayMs: 200 })));
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.request('POST', '/v1/chat/completions', { key: created.credential.token, body })));
    const codes = answers.map((a) => (a.status === 200 ? 'ok' : a.json.error.code)).sort();
    // two worst cases fit in 2.5 at once; the rest are refused while those two are held (the spend
    // cap's holds refuse first: the cap equals the budget)
    expect(codes.filter((c) => c === 'ok')).toHaveLength(2);
    expect(codes.filter((c) => c !== 'ok')).toEqual(Array(4).fill('spend_cap_exceeded'));
  });
});
