import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { startFakeUpstream, type FakeUpstream } from '../gateway/fake-upstream.js';
import { createTestApp, type TestApp } from '../test-app.js';
import { signature } from '../webhooks/webhook-service.js';
import { sampled } from './online-evals-service.js';

const kv = (key: string, v: string) => ({ key, value: { stringValue: v } });
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** A GenAI chat span as OTLP/JSON, answering `answer`, started at `start`. */
function chatSpan(i: number, answer: string, start: number, model = 'gpt-4o-mini') {
  const startNs = BigInt(start) * 1_000_000n;
  return {
    traceId: hex(0xa000 + i, 32),
    spanId: hex(0xb000 + i, 16),
    name: `chat ${model}`,
    kind: 3,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + 800_000_000n),
    attributes: [
      kv('gen_ai.operation.name', 'chat'),
      kv('gen_ai.provider.name', 'openai'),
      kv('gen_ai.request.model', model),
      kv('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Can I get my money back?' }] }])),
      kv('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: answer }] }])),
    ],
    status: { code: 1 },
  };
}
const otlp = (spans: object[]) => ({ resourceSpans: [{ resource: { attributes: [kv('service.name', 'support-bot')] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });

for (const dialect of DIALECTS) {
  describe(`online evals on ${dialect}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { onlineEvals: { settleMs: 0 } });
    });
    afterAll(async () => {
      await t.close();
    });

    it('a regex rule scores spans ingested over OTLP, in the background, sampled the same way everywhere', async () => {
      const rule = await t.request('POST', '/v1/online-evals', {
        body: { name: 'mentions refund', scorer: { type: 'regex', pattern: 'refund', flags: 'i' }, filter: { model: 'gpt-4o-mini' } },
      });
      expect(rule.status).toBe(201);
      const half = (await t.request('POST', '/v1/online-evals', { body: { name: 'half', scorer: { type: 'max_latency', ms: 5000 }, sampleRate: 0.5 } })).json;
      const now = Date.now();
      const spans = [chatSpan(1, 'You can get a Refund within 30 days.', now), chatSpan(2, 'Please call us.', now), chatSpan(3, 'refund issued', now, 'gpt-4o')];
      for (let i = 10; i < 50; i++) spans.push(chatSpan(i, 'ok', now, 'other-model'));
      expect((await t.request('POST', '/v1/traces', { body: otlp(spans) })).status).toBe(200);
      // ingest answered without scoring anything
      const scoresOf = async (i: number) => (await t.request('GET', `/v1/traces/${hex(0xa000 + i, 32)}/spans/${hex(0xb000 + i, 16)}/scores`)).json.scores;
      expect(await scoresOf(1)).toEqual([]);

      await t.onlineEvals.tick();
      const first = (await scoresOf(1)).filter((s: { ruleId: string }) => s.ruleId === rule.json.id);
      expect(first).toEqual([expect.objectContaining({ name: 'mentions refund', value: 1, pass: true, error: null })]);
      const second = await scoresOf(2);
      expect(second.find((s: { ruleId: string }) => s.ruleId === rule.json.id)).toMatchObject({ value: 0, pass: false });
      // the model filter keeps gpt-4o's span out of the regex rule
      expect((await scoresOf(3)).map((s: { ruleId: string }) => s.ruleId)).not.toContain(rule.json.id);

      // half the spans, chosen by a hash of rule and span: what any process would choose
      const expected = spans.filter((s) => sampled(half.id, s.traceId, s.spanId, 0.5)).length;
      const scored = await t.database.db.selectFrom('span_scores').select('span_id').where('rule_id', '=', half.id).execute();
      expect(scored).toHaveLength(expected);
      expect(expected).toBeGreaterThan(10);
      expect(expected).toBeLessThan(33);

      // a second pass scores nothing twice
      expect((await t.onlineEvals.tick()).scored).toBe(0);
    });

    it('refuses a regex or JSON Schema that does not compile', async () => {
      const res = await t.request('POST', '/v1/online-evals', { body: { name: 'bad', scorer: { type: 'regex', pattern: '(' } } });
      expect([res.status, res.json.error.code]).toEqual([400, 'validation_failed']);
      const schema = await t.request('POST', '/v1/online-evals', { body: { name: 'bad', scorer: { type: 'json_valid', schema: { type: 'no-such-type' } } } });
      expect([schema.status, schema.json.error.code]).toEqual([400, 'validation_failed']);
      expect((await t.request('GET', '/v1/online-evals')).json.rules.map((r: { name: string }) => r.name)).not.toContain('bad');
    });
  });
}

describe('drift', () => {
  let t: TestApp;
  let server: Server;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  let url: string;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { onlineEvals: { settleMs: 0 } });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/drift`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await t.close();
  });

  it("when a rule's scores drop, exactly one alert and one signed webhook", async () => {
    const rule = (
      await t.request('POST', '/v1/online-evals', {
        body: { name: 'polite', scorer: { type: 'includes', text: 'thank you' }, drift: { windowHours: 1, referenceHours: 24, alpha: 0.01 }, webhookUrl: url },
      })
    ).json;
    expect(rule.webhookSecret).toMatch(/^whsec_/);
    const now = Date.now();
    const spans = [];
    // the day before: polite; the last hour: not
    for (let i = 0; i < 30; i++) spans.push(chatSpan(i, 'Done, thank you for waiting!', now - 2 * 3_600_000 - i * 600_000));
    for (let i = 30; i < 60; i++) spans.push(chatSpan(i, 'Done.', now - 30 * 60_000 + (i - 30) * 1000));
    expect((await t.request('POST', '/v1/traces', { body: otlp(spans) })).status).toBe(200);

    expect(await t.onlineEvals.tick()).toEqual({ scored: 60, alerts: 1 });
    expect(await t.onlineEvals.tick()).toEqual({ scored: 0, alerts: 0 });
    await t.webhooks.deliverDue();

    const alerts = (await t.request('GET', '/v1/drift-alerts')).json.alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ ruleId: rule.id, metric: 'polite', referenceMean: 1, recentMean: 0, referenceN: 30, recentN: 30, test: 'two_proportion_z', acknowledgedAt: null });
    expect(alerts[0].pValue).toBeLessThan(0.01);

    expect(received).toHaveLength(1);
    const [hook] = received;
    expect(hook!.headers['hangar-event']).toBe('eval.drift');
    const t0 = Number(/t=(\d+)/.exec(String(hook!.headers['hangar-signature']))![1]);
    expect(hook!.headers['hangar-signature']).toBe(signature(rule.webhookSecret, hook!.body, t0));
    expect(JSON.parse(hook!.body).data).toMatchObject({ id: alerts[0].id, ruleId: rule.id, ruleName: 'polite', recentMean: 0 });

    const acked = await t.request('POST', `/v1/drift-alerts/${alerts[0].id}/acknowledge`);
    expect(acked.json.acknowledgedAt).not.toBeNull();
    expect((await t.request('GET', '/v1/drift-alerts?unacknowledged=true')).json.alerts).toEqual([]);
    const events = (await t.request('GET', '/v1/streams/evals/events')).json.events.map((e: { type: string }) => e.type);
    expect(events).toEqual(['online_eval.rule_created', 'online_eval.drift']);
  });
});

describe('an llm_judge rule', () => {
  let t: TestApp;
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: 'x'.repeat(32), onlineEvals: { settleMs: 0 } });
    await t.request('PUT', '/v1/gateway/providers/fakeai', { body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-fake' } });
  });
  afterAll(async () => {
    await fake.close();
    await t.close();
  });

  it("judges through the gateway: the judge's call is traced and priced, and never judged itself", async () => {
    const rule = (
      await t.request('POST', '/v1/online-evals', {
        body: { name: 'helpful', scorer: { type: 'llm_judge', model: 'fakeai/gpt-4o-mini', rubric: 'Is the answer helpful?', passThreshold: 0.7 } },
      })
    ).json;
    fake.queue({ text: 'Sure. {"score": 0.8, "reason": "answers the question"}' }, { text: 'no score here' });
    const now = Date.now();
    expect((await t.request('POST', '/v1/traces', { body: otlp([chatSpan(1, 'Refunds take 3 days.', now), chatSpan(2, 'Hmm.', now)]) })).status).toBe(200);
    expect((await t.onlineEvals.tick()).scored).toBe(2);

    const judged = fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(judged).toHaveLength(2);
    expect(JSON.stringify(judged[0]!.body.messages)).toContain('Is the answer helpful?');
    expect(JSON.stringify(judged[0]!.body.messages)).toContain('Refunds take 3 days.');
    const scores = async (i: number) => (await t.request('GET', `/v1/traces/${hex(0xa000 + i, 32)}/spans/${hex(0xb000 + i, 16)}/scores`)).json.scores;
    expect(await scores(1)).toEqual([expect.objectContaining({ ruleId: rule.id, value: 0.8, pass: true, error: null })]);
    // an answer without a score is an error, not a 0
    expect(await scores(2)).toEqual([expect.objectContaining({ value: null, pass: null, error: expect.stringMatching(/no JSON verdict/) })]);

    // the judge's calls are gateway spans of the judge agent, priced; the next pass leaves them alone
    const judgeSpans = await t.database.db.selectFrom('spans').selectAll().where('agent', '=', 'hangar-online-eval').execute();
    expect(judgeSpans).toHaveLength(2);
    expect(judgeSpans.every((s) => Number(s.cost_micros) > 0)).toBe(true);
    expect((await t.onlineEvals.tick()).scored).toBe(0);
    expect(fake.requests.length).toBe(2);
  });
});
