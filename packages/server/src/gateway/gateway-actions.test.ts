import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

/** Model calls are actions: the policy and budget stages of the pipeline run on the gateway path. */
describe('gateway calls through the action stages', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: 'x'.repeat(32) });
    server = await t.listen();
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    const put = await t.request('PUT', '/v1/gateway/providers/fakeai', {
      body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-fake' },
    });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
    await t.close();
  });

  /** The gateway's journal events; a call is recorded just after its answer, so wait for that first. */
  const gatewayEvents = async () => {
    await t.gateway.recorded();
    return (await t.journal.read('proj_default', 'gateway', 0, 100)).events;
  };

  const ask = (maxTokens: number) =>
    openai.chat.completions.create({
      model: 'fakeai/gpt-4o-mini',
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: 'hello budget' }],
    });

  it('reserves the worst case before calling the provider, then charges the priced cost', async () => {
    const budget = await t.budgets.create('proj_default', {
      name: 'project',
      scope: 'project',
      scopeId: 'proj_default',
      period: 'total',
      limitMicros: 1_000_000,
    });
    await ask(100);
    const events = await gatewayEvents();
    const call = events.at(-1)!.payload as {
      kind: string;
      decision: { effect: string };
      hold: { amountMicros: number } | null;
      costMicros: number;
    };
    expect(call.kind).toBe('model.call');
    expect(call.decision.effect).toBe('allow');
    // gpt-4o-mini is priced: the hold was the worst case (100 output tokens at $0.60/M and more), the charge the actual
    expect(call.hold!.amountMicros).toBeGreaterThanOrEqual(60);
    expect(call.costMicros).toBeGreaterThan(0);
    expect(call.costMicros).toBeLessThan(call.hold!.amountMicros);
    const after = await t.budgets.get('proj_default', budget.id, { includeSecrets: false });
    expect(after.current).toMatchObject({ postedMicros: call.costMicros, pendingMicros: 0 });
  });

  it('refuses with budget_exceeded, naming the budget, before any provider is called', async () => {
    await t.budgets.create('proj_default', {
      name: 'tiny',
      scope: 'project',
      scopeId: 'proj_default',
      period: 'total',
      limitMicros: 50,
    });
    const before = fake.requests.length;
    const err = await ask(1000).then(
      () => null,
      (e: unknown) => e as { status: number; code: string; error: unknown },
    );
    // the OpenAI client surfaces Hangar's error envelope as an APIError
    expect(err?.status).toBe(402);
    expect(err?.code).toBe('budget_exceeded');
    expect(JSON.stringify(err?.error)).toContain('tiny');
    expect(fake.requests.length).toBe(before);
    const last = (await gatewayEvents()).at(-1)!.payload as {
      status: string;
      error: { code: string };
    };
    expect([last.status, last.error.code]).toEqual(['error', 'budget_exceeded']);
  });

  it('authorizes model calls with Cedar: a forbid refuses, recorded with the policy that decided', async () => {
    const policy = await t.request('POST', '/v1/policies', {
      body: {
        name: 'no-mini',
        text: 'forbid(principal, action == Action::"model.call", resource == Model::"fakeai/gpt-4o-mini");',
      },
    });
    expect(policy.status, policy.text).toBe(201);
    const before = fake.requests.length;
    const err = await ask(10).then(
      () => null,
      (e: unknown) => e as { status: number; code: string },
    );
    expect([err?.status, err?.code], String(err)).toEqual([403, "policy_denied"]);
    expect(fake.requests.length).toBe(before);
    const last = (await gatewayEvents()).at(-1)!.payload as {
      decision: { effect: string; policyIds: string[] };
    };
    expect(last.decision).toMatchObject({ effect: 'deny', policyIds: [policy.json.id] });
    await t.request('DELETE', `/v1/policies/${policy.json.id}`);
  });
});
