import { createClient, HangarError } from '@hangar/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

/** Datasets, experiments and online evals through the SDK against a real `hangar up`. */
describe('evals through the SDK', () => {
  let server: TestServer;
  let hangar: ReturnType<typeof createClient>;
  beforeAll(async () => {
    server = await startServer({ env: { HANGAR_ONLINE_EVAL_INTERVAL_MS: '200' } });
    hangar = createClient({ baseUrl: server.url, apiKey: server.adminKey });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a dataset is imported, versioned and exported; an experiment posts results and finishes', async () => {
    await hangar.datasets.create({ name: 'faq' });
    const imported = await hangar.datasets.import('faq', 'id,input,expected\nq1,What is Hangar?,infrastructure\nq2,Is it open source?,yes\n', 'csv');
    expect(imported.version).toMatchObject({ version: 1, caseCount: 2 });
    const bad = await hangar.datasets.import('faq', '{"input":"ok"}\n{"nope":1}\n', 'jsonl').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HangarError);
    expect((bad as HangarError).details).toMatchObject({ line: 2 });
    await hangar.datasets.change('faq', { upsert: [{ id: 'q3', input: 'Does it run on Postgres?', expected: 'yes' }] });
    expect((await hangar.datasets.allCases('faq', 1)).cases.map((c) => c.id)).toEqual(['q1', 'q2']);
    expect((await hangar.datasets.allCases('faq')).cases.map((c) => c.id)).toEqual(['q1', 'q2', 'q3']);
    expect(await hangar.datasets.export('faq', { version: 1, format: 'csv' })).toContain('What is Hangar?');

    const exp = await hangar.experiments.create({ name: 'faq-bot', datasetId: 'faq', trials: 1 });
    const results = ['q1', 'q2', 'q3'].map((caseId) => ({ caseId, trial: 0, output: 'yes', durationMs: 5, scores: [{ name: 'exact', value: caseId === 'q1' ? 0 : 1 }] }));
    expect(await hangar.experiments.postResults(exp.id, results)).toEqual({ stored: 3, unchanged: 0, trialsDone: 3 });
    expect(await hangar.experiments.postResults(exp.id, results)).toEqual({ stored: 0, unchanged: 3, trialsDone: 3 });
    await hangar.experiments.finish(exp.id);
    const latest = await hangar.experiments.get('faq-bot@latest');
    expect(latest).toMatchObject({ id: exp.id, status: 'completed', datasetVersion: 2, trialsDone: 3 });
    expect(latest.scores[0]).toMatchObject({ name: 'exact', n: 3 });
    expect((await hangar.experiments.results(exp.id, { caseId: 'q2' })).results).toHaveLength(1);
    const next = await hangar.experiments.create({ name: 'faq-bot-v2', datasetId: 'faq' });
    await hangar.experiments.postResults(next.id, results.map((r) => ({ ...r, scores: [{ name: 'exact', value: 1 }] })));
    await hangar.experiments.finish(next.id);
    const diff = await hangar.experiments.compare(next.id, 'faq-bot@latest');
    expect(diff).toMatchObject({ baselineId: exp.id, candidateId: next.id, metrics: [{ name: 'exact', pairs: 3 }] });
  });

  it("the server's worker scores spans sent over OTLP", async () => {
    const rule = await hangar.onlineEvals.create({ name: 'says yes', scorer: { type: 'includes', text: 'yes' } });
    const traceId = 'c'.repeat(32);
    const spanId = 'd'.repeat(16);
    const now = BigInt(Date.now()) * 1_000_000n;
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId, spanId, name: 'chat', kind: 3, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n),
                    attributes: [
                      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                      { key: 'gen_ai.output.messages', value: { stringValue: JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'yes, it does' }] }]) } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    let scores: Awaited<ReturnType<typeof hangar.onlineEvals.spanScores>>['scores'] = [];
    for (let i = 0; i < 100 && scores.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      scores = (await hangar.onlineEvals.spanScores(traceId, spanId)).scores;
    }
    expect(scores).toEqual([expect.objectContaining({ ruleId: rule.id, value: 1, pass: true })]);
  });
});
