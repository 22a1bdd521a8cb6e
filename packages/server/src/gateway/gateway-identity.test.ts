import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

const MODEL = 'fakeai/gpt-4o-mini';

/** Agent credentials on the model gateway: attribution to the agent and its chain, and approvals presented per call. */
describe('gateway calls made with agent credentials', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let url: string;
  let planner: string;
  let browser: string;
  let parent: { token: string; credential: { id: string } };
  let child: { token: string; credential: { id: string } };

  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: 'x'.repeat(32) });
    server = await t.listen();
    url = server.url;
    expect((await t.request('PUT', '/v1/gateway/providers/fakeai', { body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-fake' } })).status).toBe(200);
    planner = (await t.request('POST', '/v1/agents', { body: { name: 'planner', owner: 'ops' } })).json.id;
    browser = (await t.request('POST', '/v1/agents', { body: { name: 'browser', owner: 'ops' } })).json.id;
    const scopes = { models: [MODEL], tools: [], actions: ['model.call'] };
    parent = (await t.request('POST', `/v1/agents/${planner}/credentials`, { body: { actingFor: { type: 'user', id: 'alice' }, scopes, spendCapMicros: 1_000_000 } })).json;
    child = (await t.request('POST', '/v1/credentials/delegate', { key: parent.token, body: { agentId: browser, scopes, spendCapMicros: 500_000 } })).json;
    expect(child.credential.id).toMatch(/^cred_/);
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
    await t.close();
  });

  const client = (apiKey: string, headers: Record<string, string> = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
  const ask = (apiKey: string, content: string, headers: Record<string, string> = {}) =>
    client(apiKey, headers).chat.completions.create({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content }] });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e as { status: number; code: string; error: { details?: { approvalId?: string } } },
    );
  const gatewayEvents = async () => {
    await t.gateway.recorded();
    return (await t.journal.read('proj_default', 'gateway', 0, 1000)).events;
  };
  /** What a refused call must leave alone: spans, the credentials' spend, approvals, ledger transfers. */
  const sideEffects = async () => {
    await t.gateway.recorded();
    const db = t.database.db;
    const [spans, credentials, approvals, transfers] = await Promise.all([
      db.selectFrom('spans').select(['span_id', 'status']).where('status', '=', 'ok').orderBy('span_id').execute(),
      db.selectFrom('credentials').select(['id', 'spent_micros']).orderBy('id').execute(),
      db.selectFrom('approvals').selectAll().orderBy('id').execute(),
      db.selectFrom('ledger_transfers').select(['id']).orderBy('id').execute(),
    ]);
    return JSON.stringify({ spans, credentials, approvals, transfers, upstream: fake.requests.length });
  };

  it("attributes a sub-agent's call to it, with the whole delegation chain in the record; x-hangar-agent cannot relabel it", async () => {
    const answer = await ask(child.token, 'hello from the browser', { 'x-hangar-agent': 'someone-else' });
    expect(answer.choices[0]!.message.content).toContain('hello from the browser');
    const event = (await gatewayEvents()).at(-1)!;
    expect(event.actor).toEqual({ type: 'agent', id: browser });
    expect(event.payload).toMatchObject({
      status: 'ok',
      agent: browser,
      keyId: child.credential.id,
      actor: {
        principals: [
          { type: 'user', id: 'alice' },
          { type: 'agent', id: planner },
          { type: 'agent', id: browser },
        ],
        credentialId: child.credential.id,
      },
    });
    const span = await t.database.db.selectFrom('spans').select(['agent']).where('span_id', '=', (event.payload as { spanId: string }).spanId).executeTakeFirstOrThrow();
    expect(span.agent).toBe(browser);
    // its cost counts against its own cap and the one above it
    const spent = await t.database.db.selectFrom('credentials').select(['id', 'spent_micros']).execute();
    expect(spent.every((c) => Number(c.spent_micros) > 0)).toBe(true);
  });

  it('without max_tokens, holds the default maximum on every budget of the chain (run → credential → agents → project), charges the actual, and refuses naming the narrowest', async () => {
    const budget = async (scope: string, scopeId: string, limitMicros: number) => {
      const res = await t.request('POST', '/v1/budgets', { body: { name: `${scope} cap`, scope, scopeId, period: 'total', limitMicros } });
      expect(res.status, res.text).toBe(201);
      return res.json.id as string;
    };
    const ids = [
      await budget('run', 'run_42', 1_000_000),
      await budget('credential', child.credential.id, 1_000_000),
      await budget('agent', browser, 1_000_000),
      await budget('agent', planner, 1_000_000),
      await budget('project', 'proj_default', 1_000_000),
    ];
    const tight = await budget('run', 'run_43', 1_000);
    const before = fake.requests.length;
    await client(child.token, { 'x-hangar-run-id': 'run_42', 'x-hangar-step-id': 'step_1' }).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'no max given' }] });
    const call = (await gatewayEvents()).at(-1)!.payload as { hold: { holdIds: string[]; amountMicros: number }; run: unknown; status: string };
    expect(call).toMatchObject({ status: 'ok', run: { runId: 'run_42', stepId: 'step_1' } });
    // gpt-4o-mini output at $0.60/M: the default maximum of 4096 output tokens is at least 2458 micro-USD
    expect(call.hold.amountMicros).toBeGreaterThanOrEqual(Math.ceil(4096 * 0.6));
    expect(call.hold.holdIds).toHaveLength(5);
    const charged = await Promise.all(ids.map(async (id) => (await t.request('GET', `/v1/budgets/${id}`)).json.current as { postedMicros: number; pendingMicros: number }));
    expect(new Set(charged.map((c) => c.postedMicros)).size).toBe(1); // the same actual cost on each
    expect(charged[0]!.postedMicros).toBeGreaterThan(0);
    expect(charged[0]!.postedMicros).toBeLessThan(call.hold.amountMicros);
    expect(charged.every((c) => c.pendingMicros === 0)).toBe(true);

    // Refused at the budget stage, after the credential-spend stage held the worst case on the caps:
    // those holds are voided (rows in the append-only ledger), so no balance and no spend moves.
    const balances = async () => {
      await t.gateway.recorded();
      const db = t.database.db;
      const [rows, credentials] = await Promise.all([
        db.selectFrom('ledger_balances').selectAll().orderBy('account_id').execute(),
        db.selectFrom('credentials').select(['id', 'spent_micros']).orderBy('id').execute(),
      ]);
      return JSON.stringify({ rows, credentials, upstream: fake.requests.length });
    };
    // the tight budget's period is opened (funded with its limit at first use) before the snapshot
    const opened = await t.request('POST', '/v1/budgets/reserve', { body: { chain: [{ scope: 'run', id: 'run_43' }], amountMicros: 1, idempotencyKey: 'open-run-43' } });
    expect((await t.request('POST', '/v1/budgets/settle', { body: { holdIds: opened.json.holdIds, actualMicros: 0 } })).status).toBe(200);
    const state = await balances();
    const refused = await refusal(client(child.token, { 'x-hangar-run-id': 'run_43' }).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'no max given' }] }));
    expect([refused?.status, refused?.code]).toEqual([402, 'budget_exceeded']);
    expect(JSON.stringify(refused?.error)).toContain(tight);
    expect(fake.requests.length).toBe(before + 1);
    expect(await balances()).toBe(state);
    const bad = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${child.token}`, 'content-type': 'application/json', 'x-hangar-run-id': 'run 42; drop' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([400, 'validation_failed']);
  });

  it('refuses a call outside the declared intent, marked as an intent violation in the trace and the audit record', async () => {
    const narrow = (
      await t.request('POST', '/v1/credentials/delegate', {
        key: parent.token,
        body: { agentId: browser, scopes: { models: [MODEL], tools: [], actions: ['model.call'] }, spendCapMicros: 1000, intent: { maxSpendMicros: 1, purpose: 'cheap lookups' } },
      })
    ).json.token as string;
    const state = await sideEffects();
    const err = await refusal(ask(narrow, 'an expensive question'));
    expect([err?.status, err?.code]).toEqual([403, 'intent_violation']);
    expect(await sideEffects()).toBe(state); // the provider never called, nothing charged
    const event = (await gatewayEvents()).at(-1)!.payload as { status: string; intentViolation: { rule: string }; spanId: string; traceId: string };
    expect(event).toMatchObject({ status: 'error', error: { code: 'intent_violation' }, intentViolation: { rule: 'maxSpendMicros', intent: { purpose: 'cheap lookups' } } });
    const trace = await t.request('GET', `/v1/traces/${event.traceId}`);
    expect(trace.status, trace.text).toBe(200);
    const span = (trace.json.spans as Array<{ spanId: string; errorType: string; attributes: Record<string, unknown> }>).find((s) => s.spanId === event.spanId)!;
    expect(span).toMatchObject({ errorType: 'intent_violation', attributes: { 'hangar.intent_violation': 'maxSpendMicros' } });
  });

  it('asks for approval, lets the approved call through once with x-hangar-approval, and refuses a replay or other arguments with nothing written', async () => {
    const policy = await t.request('POST', '/v1/policies', {
      body: { name: 'ask-first', text: '@effect("require_approval")\npermit(principal in User::"alice", action == Action::"model.call", resource);' },
    });
    expect(policy.status, policy.text).toBe(201);
    try {
      const before = fake.requests.length;
      const asked = await refusal(ask(parent.token, 'summarise the contract'));
      expect([asked?.status, asked?.code]).toEqual([403, 'approval_required']);
      expect(fake.requests.length).toBe(before);
      const approvalId = asked!.error.details!.approvalId!;
      expect((await t.request('GET', `/v1/approvals/${approvalId}`)).json).toMatchObject({ status: 'pending', kind: 'model.call', resource: MODEL });

      const approved = await t.request('POST', `/v1/approvals/${approvalId}/approve`, { body: { note: 'fine' } });
      expect(approved.status, approved.text).toBe(200);
      const token = (await t.request('GET', `/v1/approvals/${approvalId}`, { key: parent.token })).json.token as string;

      // presented for other arguments: refused, the provider never called, nothing used up or charged
      const state = await sideEffects();
      const other = await refusal(ask(parent.token, 'summarise another contract', { 'x-hangar-approval': token }));
      expect([other?.status, other?.code]).toEqual([403, 'approval_invalid']);
      expect(await sideEffects()).toBe(state);

      // presented by another agent (the sub-agent) for the same request: refused too
      const otherActor = await refusal(ask(child.token, 'summarise the contract', { 'x-hangar-approval': token }));
      expect([otherActor?.status, otherActor?.code]).toEqual([403, 'approval_invalid']);
      expect(await sideEffects()).toBe(state);

      const ok = await ask(parent.token, 'summarise the contract', { 'x-hangar-approval': token });
      expect(ok.choices[0]!.message.content).toContain('summarise the contract');
      expect(fake.requests.length).toBe(before + 1);
      const event = (await gatewayEvents()).at(-1)!.payload as { status: string; decision: { effect: string; policyIds: string[] } };
      expect(event).toMatchObject({ status: 'ok', decision: { effect: 'require_approval', policyIds: [policy.json.id] } });
      expect((await t.request('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('used');

      // replayed: refused, nothing written
      const used = await sideEffects();
      const replay = await refusal(ask(parent.token, 'summarise the contract', { 'x-hangar-approval': token }));
      expect([replay?.status, replay?.code]).toEqual([403, 'approval_invalid']);
      expect(await sideEffects()).toBe(used);
    } finally {
      await t.request('DELETE', `/v1/policies/${policy.json.id}`);
    }
  });
});
