import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import { generateApiKey, hashApiKey, keyPrefix } from './api-keys.js';
import { createTenancyStore } from './tenancy-store.js';

/**
 * A key of project B can never read or write project A. Every documented /v1 operation has a case
 * here, called with B's key against A's ids and names; a new route without a case fails the last test.
 */
describe('project isolation, route by route', () => {
  let t: TestApp;
  let keyB: string;
  let memberKeyA: { id: string };
  let blobShaA: string;
  const traceA = 'a1'.repeat(16);
  const spanA = 'a2'.repeat(8);
  const wide = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z';
  let accountA: { id: string };
  let holdA: { id: string };
  let budgetA: { id: string };
  let mandateA: { id: string };
  let paymentA: { id: string };
  const human = generateKeyPairSync('ed25519');
  let agentA: { id: string };
  let credentialA: { token: string; credential: { id: string } };
  let policyA: { id: string };
  let approvalA: string;
  let datasetA: { id: string } | undefined;
  let experimentA: { id: string } | undefined;
  let ruleA: { id: string };
  let actionA: { id: string };
  const alertA = 'dft_a';
  const secretCase = { id: 'secret-case', input: 'A only', expected: 'A answer' };
  const resultA = { caseId: 'secret-case', trial: 0, output: 'A output', durationMs: 1, scores: [{ name: 'exact', value: 1 }] };

  const snapshotA = async () => {
    const db = t.database.db;
    const keys = await db.selectFrom('api_keys').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const events = await db.selectFrom('journal_events').selectAll().where('project_id', '=', 'proj_default').orderBy('stream').orderBy('seq').execute();
    const project = await db.selectFrom('projects').selectAll().where('id', '=', 'proj_default').executeTakeFirst();
    const accounts = await db.selectFrom('ledger_accounts').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const balances = await db.selectFrom('ledger_balances').selectAll().where('project_id', '=', 'proj_default').orderBy('account_id').execute();
    const transfers = await db.selectFrom('ledger_transfers').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const budgets = await db.selectFrom('budgets').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const payments = await db.selectFrom('payments').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const mandates = await db.selectFrom('mandates').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const limits = await db.selectFrom('payment_limits').selectAll().where('project_id', '=', 'proj_default').execute();
    const agentActions = await db.selectFrom('agent_actions').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
        const gateway = await Promise.all(
      (['gateway_providers', 'gateway_routes', 'gateway_answers'] as const).map((table) =>
        db.selectFrom(table).selectAll().where('project_id', '=', 'proj_default').execute(),
      ),
    );
    const agents = await db.selectFrom('agents').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const credentials = await db.selectFrom('credentials').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const policies = await db.selectFrom('policies').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const approvals = await db.selectFrom('approvals').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const webhooks = await db.selectFrom('approval_webhooks').selectAll().where('project_id', '=', 'proj_default').execute();
    const datasets = await db.selectFrom('datasets').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const versions = await db.selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetA?.id ?? '').orderBy('version').execute();
    const cases = await db.selectFrom('dataset_cases').selectAll().where('dataset_id', '=', datasetA?.id ?? '').orderBy('case_id').orderBy('version_from').execute();
    const experiments = await db.selectFrom('experiments').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const results = await db.selectFrom('trial_results').selectAll().where('experiment_id', '=', experimentA?.id ?? '').orderBy('case_id').execute();
    const rules = await db.selectFrom('online_eval_rules').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const spanScores = await db.selectFrom('span_scores').selectAll().where('project_id', '=', 'proj_default').orderBy('rule_id').execute();
    const alerts = await db.selectFrom('drift_alerts').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const evals = { datasets, versions, cases, experiments, results, rules, spanScores, alerts };
    return JSON.stringify({ keys, events, project, accounts, balances, transfers, budgets, payments, mandates, limits, agentActions, gateway, agents, credentials, policies, approvals, webhooks, evals });
  };

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.request('POST', '/v1/projects', { body: { name: 'B' } });
    expect(created.status).toBe(201);
    keyB = created.json.key.key;
    memberKeyA = (await t.request('POST', '/v1/keys', { body: { name: 'a-member', role: 'member' } })).json;
    const appended = await t.request('POST', '/v1/streams/secret/events', {
      body: { events: [{ type: 'note', payload: { text: 'A only '.repeat(1000) } }] },
    });
    expect(appended.status).toBe(201);
    blobShaA = (await t.request('GET', '/v1/streams/secret/events')).json.events[0].payloadSha256;
    await t.traces.record('proj_default', [
      {
        traceId: traceA,
        spanId: spanA,
        parentSpanId: null,
        name: 'A only',
        kind: 'llm',
        status: 'ok',
        statusMessage: null,
        errorType: null,
        startTime: '2026-03-01T10:00:00.000Z',
        endTime: '2026-03-01T10:00:01.000Z',
        durationMs: 1000,
        serviceName: null,
        agent: 'a-agent',
        provider: 'openai',
        model: 'gpt-4o',
        usage: { input: 1, output: 1, cacheRead: null, cacheWrite: null, reasoning: null },
        providerCostMicros: null,
        toolName: null,
        attributes: {},
        source: 'otlp',
        input: [{ role: 'user', content: 'A only' }],
      },
    ]);
    const funding = (await t.request('POST', '/v1/ledger/accounts', { body: { kind: 'funding_source', name: 'card', currency: 'USD' } })).json;
    accountA = (await t.request('POST', '/v1/ledger/accounts', { body: { kind: 'agent', name: 'a', currency: 'USD', code: 'agent:a', minBalanceMicros: 0 } })).json;
    const funded = await t.request('POST', '/v1/ledger/transfers', {
      body: { transfers: [{ debitAccountId: funding.id, creditAccountId: accountA.id, amountMicros: 100, idempotencyKey: 'fund' }] },
    });
    expect(funded.status).toBe(201);
    holdA = (await t.request('POST', '/v1/ledger/holds', {
      body: { debitAccountId: accountA.id, creditAccountId: funding.id, amountMicros: 10, timeoutMs: 600_000, idempotencyKey: 'h' },
    })).json;
    budgetA = (await t.request('POST', '/v1/budgets', { body: { name: 'a', scope: 'agent', scopeId: 'agt_a', limitMicros: 100 } })).json;
    expect(budgetA.id).toMatch(/^bgt_/);
    const signer = (await t.request('POST', '/v1/mandates/signers', {
      body: { name: 'alice', publicKey: human.publicKey.export({ format: 'jwk' }).x },
    })).json;
    const terms = {
      signerId: signer.id, agentId: 'agt_a', amountCapMicros: 1000, currency: 'USD', payees: ['shop'], merchantCategories: null,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(), use: 'multiple', nonce: 'nonce-a-1',
    };
    const canonical = JSON.stringify(Object.fromEntries(Object.entries(terms).sort(([a], [b]) => a.localeCompare(b))));
    mandateA = (await t.request('POST', '/v1/mandates', {
      body: { terms, signature: sign(null, Buffer.from(canonical), human.privateKey).toString('base64url') },
    })).json;
    expect(mandateA.id).toMatch(/^mdt_/);
    await t.request('PUT', '/v1/payments/limits/agt_a', { body: { perTransactionMicros: 500 } });
    // payments are denied unless a policy permits them
    const shopPolicy = await t.request('POST', '/v1/policies', { body: { name: 'shop', text: 'permit(principal, action == Action::"payment.create", resource == Payee::"shop");' } });
    expect(shopPolicy.status).toBe(201);
    paymentA = (await t.request('POST', '/v1/payments', {
      body: { agentId: 'agt_a', mandateId: mandateA.id, payee: 'shop', amountMicros: 100, purpose: 'x', idempotencyKey: 'p1' },
    })).json;
    expect(paymentA.id).toMatch(/^pay_/);
    // A's gateway: a provider, a cached route, and one recorded answer to it
    expect((await t.request('PUT', '/v1/gateway/providers/secretprov', { body: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } })).status).toBe(200);
    expect((await t.request('PUT', '/v1/gateway/routes/secret-route', { body: { targets: ['hangar/echo'], cache: { ttlSeconds: 600 } } })).status).toBe(200);
    expect((await t.request('POST', '/v1/chat/completions', { body: askA })).status).toBe(200);
    agentA = (await t.request('POST', '/v1/agents', { body: { name: 'a-agent', owner: 'a' } })).json;
    credentialA = (
      await t.request('POST', `/v1/agents/${agentA.id}/credentials`, {
        body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 100 },
      })
    ).json;
    policyA = (await t.request('POST', '/v1/policies', { body: { name: 'tools', text: 'permit(principal, action == Action::"tool.call", resource);' } })).json;
    actionA = (await t.request('POST', '/v1/actions', { body: { kind: 'tool.call', resource: 'search', args: { q: 'A only' }, idempotencyKey: 'act-1' } })).json;
    expect(actionA.id).toMatch(/^act_/);
    await t.request('POST', '/v1/policies', { body: { name: 'pay', text: '@effect("require_approval")\npermit(principal, action == Action::"payment.create", resource);' } });
    await t.request('PUT', '/v1/approvals/webhook', { body: { url: 'http://127.0.0.1:9/a-only' } });
    const payment = { kind: 'payment.create' as const, resource: 'acme', projectId: 'proj_default', args: { amount: 1 }, actor: { principals: [{ type: 'key' as const, id: 'key_a' }] } };
    approvalA = await t.actions.run(payment, async () => ({ value: '', costMicros: 0 })).catch((e: { details: { approvalId: string } }) => e.details.approvalId);
    expect(approvalA).toMatch(/^apr_/);
    datasetA = (await t.request('POST', '/v1/datasets', { body: { name: 'secret-set', cases: [secretCase] } })).json;
    experimentA = (await t.request('POST', '/v1/experiments', { body: { name: 'secret-exp', datasetId: datasetA!.id } })).json;
    expect((await t.request('POST', `/v1/experiments/${experimentA!.id}/results`, { body: { results: [resultA] } })).status).toBe(200);
    expect((await t.request('POST', `/v1/experiments/${experimentA!.id}/finish`, { body: {} })).status).toBe(200);
    ruleA = (await t.request('POST', '/v1/online-evals', { body: { name: 'secret-rule', scorer: { type: 'includes', text: 'A' } } })).json;
    const at = new Date().toISOString();
    await t.database.db.insertInto('span_scores').values({ project_id: 'proj_default', rule_id: ruleA.id, trace_id: traceA, span_id: spanA, name: 'secret-rule', value: 1, pass: 1, error: null, span_time: at, created_at: at }).execute();
    await t.database.db
      .insertInto('drift_alerts')
      .values({ id: alertA, project_id: 'proj_default', rule_id: ruleA.id, bucket: '1', metric: 'secret-rule', reference_mean: 1, recent_mean: 0, reference_n: 10, recent_n: 10, test: 'two_proportion_z', p_value: 0.001, window_start: at, window_end: at, created_at: at, acknowledged_at: null })
      .execute();
  });
  afterAll(async () => {
    await t.close();
  });

  const askA = { model: 'secret-route', messages: [{ role: 'user', content: 'A only' }] };
  type Case = (before: string) => Promise<void>;
  const asB = (method: string, path: string, body?: unknown) => t.request(method, path, { key: keyB, body });
  const unchanged = async (before: string) => expect(await snapshotA()).toBe(before);
  const notFound = async (method: string, path: string, body?: unknown) => {
    const res = await asB(method, path, body);
    expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
  };
  const credentialB = async () => {
    const agentB = (await asB('POST', '/v1/agents', { name: `b-${Math.random().toString(36).slice(2, 8)}`, owner: 'b' })).json;
    const body = { actingFor: { type: 'user', id: 'bob' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 100 };
    return (await asB('POST', `/v1/agents/${agentB.id}/credentials`, body)).json.token as string;
  };

  const cases: Record<string, Case> = {
    'GET /v1/whoami': async () => {
      const res = await asB('GET', '/v1/whoami');
      expect(res.json.project.id).not.toBe('proj_default');
    },
    'GET /v1/projects': async () => {
      const res = await asB('GET', '/v1/projects');
      expect(res.json.projects.map((p: { id: string }) => p.id)).not.toContain('proj_default');
    },
    'POST /v1/projects': async (before) => {
      expect((await asB('POST', '/v1/projects', { name: 'C' })).status).toBe(201);
      await unchanged(before);
    },
    'PATCH /v1/project': async (before) => {
      expect((await asB('PATCH', '/v1/project', { name: 'renamed', retentionDays: 1 })).status).toBe(200);
      await unchanged(before);
    },
    'GET /v1/keys': async () => {
      const ids = (await asB('GET', '/v1/keys')).json.keys.map((k: { id: string }) => k.id);
      expect(ids).not.toContain(memberKeyA.id);
      expect(ids).toHaveLength(1);
    },
    'POST /v1/keys': async (before) => {
      expect((await asB('POST', '/v1/keys', { name: 'b-bot' })).status).toBe(201);
      await unchanged(before);
    },
    'DELETE /v1/keys/{id}': async (before) => {
      const res = await asB('DELETE', `/v1/keys/${memberKeyA.id}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'GET /v1/streams/{stream}/events': async () => {
      expect((await asB('GET', '/v1/streams/secret/events')).json.events).toEqual([]);
    },
    'POST /v1/streams/{stream}/events': async (before) => {
      const res = await asB('POST', '/v1/streams/secret/events', { events: [{ type: 'x' }], expectedSeq: 1 });
      expect(res.json.error.code).toBe('seq_conflict'); // B's stream "secret" is empty: A's head is invisible
      expect((await asB('POST', '/v1/streams/secret/events', { events: [{ type: 'x' }] })).json.events[0].seq).toBe(1);
      await unchanged(before);
    },
    'GET /v1/streams': async () => {
      const projectB = (await asB('GET', '/v1/whoami')).json.project.id as string;
      const listed = (await asB('GET', '/v1/streams')).json.streams;
      const own = await t.database.db
        .selectFrom('journal_events')
        .select(['stream', (eb) => eb.fn.max('seq').as('headSeq')])
        .where('project_id', '=', projectB)
        .groupBy('stream')
        .orderBy('stream')
        .execute();
      expect(listed.map((s: { stream: string; headSeq: number }) => [s.stream, s.headSeq])).toEqual(
        own.map((s) => [s.stream, Number(s.headSeq)]),
      );
    },
    'POST /v1/journal/verify': async () => {
      const b = (await asB('POST', '/v1/journal/verify', { stream: 'secret' })).json;
      expect(b.events).toBe(1); // only B's own event in its "secret" stream
    },
    'POST /v1/journal/retention': async (before) => {
      await asB('POST', '/v1/journal/retention');
      await unchanged(before);
    },
    'POST /v1/traces': async () => {
      const otlp = (name: string) => ({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), name, startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
      });
      expect((await t.request('POST', '/v1/traces', { body: otlp('a-span') })).status).toBe(200);
      expect((await asB('POST', '/v1/traces', otlp('b-span'))).status).toBe(200);
      // same trace and span ids in both projects: each keeps its own
      expect((await t.traces.trace('proj_default', 'f'.repeat(32))).map((s) => s.name)).toEqual(['a-span']);
    },
    'GET /v1/prices': async () => {
      const override = { provider: 'openai', model: 'secret-model', effectiveFrom: '2025-01-01', input: 1, output: 2 };
      expect((await t.request('PUT', '/v1/prices', { body: { overrides: [override] } })).json.overrides).toHaveLength(1);
      expect((await asB('GET', '/v1/prices')).json.overrides).toEqual([]);
    },
    'PUT /v1/prices': async () => {
      const before = (await t.request('GET', '/v1/prices')).json.overrides;
      const mine = { provider: 'openai', model: 'b-model', effectiveFrom: '2025-01-01', input: 5, output: 6 };
      expect((await asB('PUT', '/v1/prices', { overrides: [mine] })).status).toBe(200);
      expect((await t.request('GET', '/v1/prices')).json.overrides).toEqual(before);
    },
    'GET /v1/models': async () => {
      const ids = (await asB('GET', '/v1/models')).json.data.map((m: { id: string }) => m.id);
      expect(ids).toEqual(['hangar/echo']);
    },
    'GET /v1/gateway/providers': async () => {
      expect((await asB('GET', '/v1/gateway/providers')).json.providers).toEqual([]);
    },
    'DELETE /v1/gateway/providers/{name}': async (before) => {
      const res = await asB('DELETE', '/v1/gateway/providers/secretprov');
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'PUT /v1/gateway/providers/{name}': async (before) => {
      expect((await asB('PUT', '/v1/gateway/providers/secretprov', { type: 'replay' })).status).toBe(200);
      await unchanged(before);
    },
    'GET /v1/gateway/routes': async () => {
      expect((await asB('GET', '/v1/gateway/routes')).json.routes).toEqual([]);
    },
    'DELETE /v1/gateway/routes/{name}': async (before) => {
      const res = await asB('DELETE', '/v1/gateway/routes/secret-route');
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'PUT /v1/gateway/routes/{name}': async (before) => {
      expect((await asB('PUT', '/v1/gateway/routes/b-route', { targets: ['hangar/echo'] })).status).toBe(200);
      await unchanged(before);
    },
    'POST /v1/embeddings': async (before) => {
      const res = await asB('POST', '/v1/embeddings', { model: 'secret-route', input: 'x' });
      expect([res.status, res.json.error.code]).toEqual([404, 'model_not_found']);
      await unchanged(before);
    },
    'POST /v1/messages': async (before) => {
      const res = await asB('POST', '/v1/messages', { model: 'secretprov/x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      // B's own secretprov (a replay provider, made above) answers, never A's
      expect([res.status, res.json.error.code]).toEqual([422, 'upstream_rejected']);
      await unchanged(before);
    },
    'POST /v1/chat/completions': async (before) => {
      const unknown = await asB('POST', '/v1/chat/completions', askA);
      expect([unknown.status, unknown.json.error.code]).toEqual([404, 'model_not_found']);
      // the same canonical request in B: neither A's cache nor A's recorded answer is visible to B's replay
      await asB('PUT', '/v1/gateway/routes/secret-route', { targets: ['secretprov/x'], cache: { ttlSeconds: 600 } });
      const replay = await asB('POST', '/v1/chat/completions', askA);
      expect([replay.status, replay.json.error.code, replay.headers.get('x-hangar-cache')]).toEqual([422, 'upstream_rejected', null]);
      await unchanged(before);
    },
    'GET /v1/blobs/{sha256}': async () => {
      const res = await asB('GET', `/v1/blobs/${blobShaA}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/blobs/${blobShaA}`)).status).toBe(200);
    },
    // B's own gateway calls (other cases) leave B spans of its own: none of A's may show
    'GET /v1/spans': async () => {
      const traceIds = (await asB('GET', `/v1/spans?${wide}`)).json.spans.map((s: { traceId: string }) => s.traceId);
      expect(traceIds).not.toContain(traceA);
      expect((await t.request('GET', `/v1/spans?${wide}&agent=a-agent`)).json.spans).toHaveLength(1);
    },
    'GET /v1/spans/aggregates': async () => {
      const groups = (await asB('GET', `/v1/spans/aggregates?${wide}&groupBy=agent`)).json.groups;
      expect(groups.map((g: { key: string }) => g.key)).not.toContain('a-agent');
    },
    'GET /v1/traces': async () => {
      const traceIds = (await asB('GET', `/v1/traces?${wide}`)).json.traces.map((s: { traceId: string }) => s.traceId);
      expect(traceIds).not.toContain(traceA);
      expect((await t.request('GET', `/v1/traces?${wide}&agent=a-agent`)).json.traces).toHaveLength(1);
    },
    'GET /v1/traces/{traceId}': async () => {
      const res = await asB('GET', `/v1/traces/${traceA}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/traces/${traceA}`)).status).toBe(200);
    },
    'GET /v1/traces/{traceId}/spans/{spanId}': async () => {
      const res = await asB('GET', `/v1/traces/${traceA}/spans/${spanA}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/traces/${traceA}/spans/${spanA}`)).status).toBe(200);
    },
    'POST /v1/ledger/accounts': async (before) => {
      // the same code in B is B's own account, not A's
      const res = await asB('POST', '/v1/ledger/accounts', { kind: 'agent', name: 'b', currency: 'USD', code: 'agent:a' });
      expect(res.status).toBe(201);
      expect(res.json.id).not.toBe(accountA.id);
      await unchanged(before);
    },
    'GET /v1/ledger/accounts': async () => {
      const ids = (await asB('GET', '/v1/ledger/accounts')).json.accounts.map((a: { id: string }) => a.id);
      expect(ids).not.toContain(accountA.id);
    },
    'GET /v1/ledger/accounts/{id}': async () => {
      expect((await asB('GET', `/v1/ledger/accounts/${accountA.id}`)).json.error.code).toBe('not_found');
    },
    'POST /v1/ledger/transfers': async (before) => {
      const res = await asB('POST', '/v1/ledger/transfers', {
        transfers: [{ debitAccountId: accountA.id, creditAccountId: accountA.id + 'x', amountMicros: 1, idempotencyKey: 'fund' }],
      });
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'POST /v1/agents': async (before) => {
      expect((await asB('POST', '/v1/agents', { name: 'a-agent', owner: 'b' })).status).toBe(201); // names are per project
      await unchanged(before);
    },
    'GET /v1/agents': async () => {
      expect((await asB('GET', '/v1/agents')).json.agents.map((a: { id: string }) => a.id)).not.toContain(agentA.id);
    },
    'GET /v1/agents/{id}': async () => notFound('GET', `/v1/agents/${agentA.id}`),
    'DELETE /v1/agents/{id}': async (before) => {
      await notFound('DELETE', `/v1/agents/${agentA.id}`);
      await unchanged(before);
    },
    'POST /v1/agents/{id}/credentials': async (before) => {
      await notFound('POST', `/v1/agents/${agentA.id}/credentials`, { actingFor: { type: 'user', id: 'x' }, scopes: {}, spendCapMicros: 1 });
      await unchanged(before);
    },
    'GET /v1/agents/{id}/credentials': async () => notFound('GET', `/v1/agents/${agentA.id}/credentials`),
    'DELETE /v1/credentials/{id}': async (before) => {
      await notFound('DELETE', `/v1/credentials/${credentialA.credential.id}`);
      await unchanged(before);
      expect((await t.request('GET', '/v1/whoami', { key: credentialA.token })).status).toBe(200);
    },
    'POST /v1/credentials/delegate': async (before) => {
      const res = await t.request('POST', '/v1/credentials/delegate', {
        key: await credentialB(),
        body: { agentId: agentA.id, scopes: {}, spendCapMicros: 0 },
      });
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'GET /v1/ledger/transfers': async () => {
      expect((await asB('GET', `/v1/ledger/transfers?accountId=${accountA.id}`)).json.transfers).toEqual([]);
    },
    'POST /v1/ledger/holds': async (before) => {
      const res = await asB('POST', '/v1/ledger/holds', {
        debitAccountId: accountA.id, creditAccountId: holdA.id, amountMicros: 1, timeoutMs: 1000, idempotencyKey: 'h',
      });
      expect(res.json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'GET /v1/ledger/holds/{id}': async () => {
      expect((await asB('GET', `/v1/ledger/holds/${holdA.id}`)).json.error.code).toBe('not_found');
    },
    'POST /v1/ledger/holds/{id}/post': async (before) => {
      expect((await asB('POST', `/v1/ledger/holds/${holdA.id}/post`, {})).json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'POST /v1/ledger/holds/{id}/void': async (before) => {
      expect((await asB('POST', `/v1/ledger/holds/${holdA.id}/void`)).json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'POST /v1/ledger/verify': async () => {
      const report = (await asB('POST', '/v1/ledger/verify')).json;
      expect(report.ok).toBe(true);
      expect(report.openHolds).toBe(0); // A's open hold is not B's
    },
    'POST /v1/budgets': async (before) => {
      expect((await asB('POST', '/v1/budgets', { name: 'b', scope: 'agent', scopeId: 'agt_a', limitMicros: 1 })).status).toBe(201);
      await unchanged(before);
    },
    'GET /v1/budgets': async () => {
      expect((await asB('GET', '/v1/budgets')).json.budgets.map((b: { id: string }) => b.id)).not.toContain(budgetA.id);
    },
    'GET /v1/budgets/{id}': async () => {
      expect((await asB('GET', `/v1/budgets/${budgetA.id}`)).json.error.code).toBe('not_found');
    },
    'POST /v1/budgets/reserve': async (before) => {
      // B's budget on agt_a (made above, limit 1) refuses; A's budget on the same agent id is untouched
      const res = await asB('POST', '/v1/budgets/reserve', { chain: [{ scope: 'agent', id: 'agt_a' }], amountMicros: 50, idempotencyKey: 'r' });
      expect(res.json.error.code).toBe('budget_exceeded');
      expect(res.json.error.details.budget.id).not.toBe(budgetA.id);
      await unchanged(before);
    },
    'POST /v1/budgets/settle': async (before) => {
      expect((await asB('POST', '/v1/budgets/settle', { holdIds: [holdA.id], actualMicros: 1 })).json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'PUT /v1/payments/limits/{agentId}': async (before) => {
      expect((await asB('PUT', '/v1/payments/limits/agt_a', { perTransactionMicros: 1 })).status).toBe(200);
      await unchanged(before);
    },
    'GET /v1/payments/limits/{agentId}': async () => {
      const res = await asB('GET', '/v1/payments/limits/agt_a');
      expect(res.status === 404 || res.json.perTransactionMicros === 1).toBe(true); // B's own, never A's 500
    },
    'POST /v1/mandates/signers': async (before) => {
      const res = await asB('POST', '/v1/mandates/signers', { name: 'b', publicKey: human.publicKey.export({ format: 'jwk' }).x });
      expect(res.status).toBe(201);
      await unchanged(before);
    },
    'POST /v1/mandates': async (before) => {
      const res = await asB('POST', '/v1/mandates', {
        terms: { signerId: 'sgn_x', agentId: 'agt_a', amountCapMicros: 1, currency: 'USD', payees: ['shop'], merchantCategories: null, expiresAt: '2999-01-01T00:00:00.000Z', use: 'single', nonce: 'nonce-b-12' },
        signature: 'A'.repeat(86),
      });
      expect(res.json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'GET /v1/mandates': async () => {
      expect((await asB('GET', '/v1/mandates')).json.mandates.map((m: { id: string }) => m.id)).not.toContain(mandateA.id);
    },
    'POST /v1/payments': async (before) => {
      // B's own policy lets it pay, so the refusal is about A's mandate, not B's defaults
      const policyB = await asB('POST', '/v1/policies', { name: 'pay', text: 'permit(principal, action == Action::"payment.create", resource);' });
      expect(policyB.status).toBe(201);
      const res = await asB('POST', '/v1/payments', { agentId: 'agt_a', mandateId: mandateA.id, payee: 'shop', amountMicros: 1, purpose: 'x', idempotencyKey: 'p1' });
      expect((await asB('DELETE', `/v1/policies/${policyB.json.id}`)).status).toBe(200);
      expect(res.json.error.code).toMatch(/^(not_found|payment_refused)$/);
      await unchanged(before);
    },
    'GET /v1/reconciliation': async () => {
      const report = (await asB('GET', '/v1/reconciliation')).json;
      // A's payment is on the sandbox rail's statement, but not in B's report
      expect(report).toMatchObject({ ok: true, providers: [], rails: [{ rail: 'sandbox', payments: 0, statementEntries: 0 }], differences: [] });
      expect((await t.request('GET', '/v1/reconciliation')).json.rails[0]).toMatchObject({ payments: 1, statementEntries: 1 });
    },
    'GET /v1/payments': async () => {
      expect((await asB('GET', '/v1/payments')).json.payments).toEqual([]);
    },
    'POST /v1/actions': async (before) => {
      // the same idempotency key in B is B's own action, not A's
      const policyB = await asB('POST', '/v1/policies', { name: 'tools', text: 'permit(principal, action == Action::"tool.call", resource);' });
      const res = await asB('POST', '/v1/actions', { kind: 'tool.call', resource: 'search', args: { q: 'A only' }, idempotencyKey: 'act-1' });
      expect((await asB('DELETE', `/v1/policies/${policyB.json.id}`)).status).toBe(200);
      expect(res.status, res.text).toBe(201);
      expect(res.json.id).not.toBe(actionA.id);
      await unchanged(before);
    },
    'POST /v1/actions/{id}/result': async (before) => {
      await notFound('POST', `/v1/actions/${actionA.id}/result`, { status: 'ok' });
      await unchanged(before);
    },
    'GET /v1/actions/{id}': async () => notFound('GET', `/v1/actions/${actionA.id}`),
    'GET /v1/payments/{id}': async () => {
      expect((await asB('GET', `/v1/payments/${paymentA.id}`)).json.error.code).toBe('not_found');
    },
    'POST /v1/payments/{id}/refund': async (before) => {
      expect((await asB('POST', `/v1/payments/${paymentA.id}/refund`)).json.error.code).toBe('not_found');
      await unchanged(before);
    },
    'POST /v1/token': async (before) => {
      const res = await asB('POST', '/v1/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: credentialA.token,
        audience: 'tool:search',
      });
      expect([res.status, res.json.error.code]).toEqual([401, 'credential_invalid']);
      await unchanged(before);
    },
    'GET /v1/policies': async () => {
      expect((await asB('GET', '/v1/policies')).json.policies).toEqual([]);
    },
    'GET /v1/policies/schema': async () => {
      expect((await asB('GET', '/v1/policies/schema')).status).toBe(200);
    },
    'POST /v1/policies': async (before) => {
      expect((await asB('POST', '/v1/policies', { name: 'tools', text: 'forbid(principal, action, resource);' })).status).toBe(201);
      await unchanged(before);
    },
    'GET /v1/policies/{id}': async () => notFound('GET', `/v1/policies/${policyA.id}`),
    'PUT /v1/policies/{id}': async (before) => {
      await notFound('PUT', `/v1/policies/${policyA.id}`, { name: 'tools', text: 'forbid(principal, action, resource);' });
      await unchanged(before);
    },
    'DELETE /v1/policies/{id}': async (before) => {
      await notFound('DELETE', `/v1/policies/${policyA.id}`);
      await unchanged(before);
    },
    'POST /v1/policies/validate': async () => {
      expect((await asB('POST', '/v1/policies/validate', { text: 'permit(principal, action, resource);' })).json.ok).toBe(true);
    },
    'POST /v1/policies/check': async () => {
      const body = { kind: 'tool.call', resource: 'search', principal: { type: 'agent', id: agentA.id } };
      expect((await t.request('POST', '/v1/policies/check', { body })).json.policyIds).toEqual([policyA.id]);
      const b = (await asB('POST', '/v1/policies/check', body)).json;
      expect(b.effect).toBe('deny'); // B's own policies decide (B has none allowing tools)
      expect(b.policyIds).not.toContain(policyA.id);
    },
    'GET /v1/approvals': async () => {
      expect((await asB('GET', '/v1/approvals')).json.approvals).toEqual([]);
    },
    'GET /v1/approvals/{id}': async () => notFound('GET', `/v1/approvals/${approvalA}`),
    'POST /v1/approvals/{id}/approve': async (before) => {
      await notFound('POST', `/v1/approvals/${approvalA}/approve`);
      await unchanged(before);
    },
    'POST /v1/approvals/{id}/deny': async (before) => {
      await notFound('POST', `/v1/approvals/${approvalA}/deny`);
      await unchanged(before);
    },
    'GET /v1/approvals/webhook': async () => {
      expect((await asB('GET', '/v1/approvals/webhook')).json.url).toBeNull();
    },
    'PUT /v1/approvals/webhook': async (before) => {
      expect((await asB('PUT', '/v1/approvals/webhook', { url: 'http://127.0.0.1:9/b' })).status).toBe(200);
      await unchanged(before);
    },
    'POST /v1/datasets': async (before) => {
      expect((await asB('POST', '/v1/datasets', { name: 'secret-set', cases: [{ input: 'b' }] })).status).toBe(201); // names are per project
      await unchanged(before);
    },
    'GET /v1/datasets': async () => {
      expect((await asB('GET', '/v1/datasets')).json.datasets.map((d: { id: string }) => d.id)).not.toContain(datasetA!.id);
    },
    'GET /v1/datasets/{id}': async () => {
      await notFound('GET', `/v1/datasets/${datasetA!.id}`);
      // by name, B sees its own dataset of the same name, never A's
      expect((await asB('GET', '/v1/datasets/secret-set')).json.id).not.toBe(datasetA!.id);
    },
    'POST /v1/datasets/{id}/versions': async (before) => {
      await notFound('POST', `/v1/datasets/${datasetA!.id}/versions`, { upsert: [{ input: 'x' }] });
      await unchanged(before);
    },
    'GET /v1/datasets/{id}/versions': async () => notFound('GET', `/v1/datasets/${datasetA!.id}/versions`),
    'GET /v1/datasets/{id}/cases': async () => notFound('GET', `/v1/datasets/${datasetA!.id}/cases?version=1`),
    'POST /v1/datasets/{id}/import': async (before) => {
      const res = await t.request('POST', `/v1/datasets/${datasetA!.id}/import`, { key: keyB, body: '{"input":"x"}\n', headers: { 'content-type': 'application/x-ndjson' } });
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'GET /v1/datasets/{id}/export': async () => {
      await notFound('GET', `/v1/datasets/${datasetA!.id}/export`);
      expect((await asB('GET', '/v1/datasets/secret-set/export')).text).not.toContain('A only');
    },
    'POST /v1/datasets/{id}/spans': async (before) => {
      // B cannot add A's spans to its own dataset: A's span is not found in B
      const res = await asB('POST', '/v1/datasets/secret-set/spans', { spans: [{ traceId: traceA, spanId: spanA }] });
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await notFound('POST', `/v1/datasets/${datasetA!.id}/spans`, { spans: [{ traceId: traceA, spanId: spanA }] });
      await unchanged(before);
    },
    'POST /v1/experiments': async (before) => {
      await notFound('POST', '/v1/experiments', { name: 'x', datasetId: datasetA!.id });
      expect((await asB('POST', '/v1/experiments', { name: 'secret-exp', casesTotal: 1 })).status).toBe(201);
      await unchanged(before);
    },
    'GET /v1/experiments': async () => {
      expect((await asB('GET', '/v1/experiments')).json.experiments.map((e: { id: string }) => e.id)).not.toContain(experimentA!.id);
      expect((await asB('GET', '/v1/experiments?name=secret-exp&status=completed')).json.experiments).toEqual([]);
    },
    'GET /v1/experiments/{id}': async () => {
      await notFound('GET', `/v1/experiments/${experimentA!.id}`);
      await notFound('GET', '/v1/experiments/secret-exp@latest');
    },
    'POST /v1/experiments/{id}/results': async (before) => {
      await notFound('POST', `/v1/experiments/${experimentA!.id}/results`, { results: [resultA] });
      await unchanged(before);
    },
    'GET /v1/experiments/{id}/results': async () => notFound('GET', `/v1/experiments/${experimentA!.id}/results`),
    'POST /v1/experiments/{id}/finish': async (before) => {
      await notFound('POST', `/v1/experiments/${experimentA!.id}/finish`, { status: 'failed' });
      await unchanged(before);
    },
    'GET /v1/experiments/{id}/compare': async () => {
      await notFound('GET', `/v1/experiments/${experimentA!.id}/compare?baseline=${experimentA!.id}`);
      // B's own run of the same name cannot be compared against A's either
      const own = (await asB('POST', '/v1/experiments', { name: 'b-compare', casesTotal: 1 })).json.id;
      await notFound('GET', `/v1/experiments/${own}/compare?baseline=${experimentA!.id}`);
      await notFound('GET', `/v1/experiments/${own}/compare?baseline=secret-exp@latest`);
    },
    'POST /v1/online-evals': async (before) => {
      expect((await asB('POST', '/v1/online-evals', { name: 'secret-rule', scorer: { type: 'includes', text: 'B' } })).status).toBe(201);
      await unchanged(before);
    },
    'GET /v1/online-evals': async () => {
      expect((await asB('GET', '/v1/online-evals')).json.rules.map((r: { id: string }) => r.id)).not.toContain(ruleA.id);
    },
    'GET /v1/online-evals/{id}': async () => notFound('GET', `/v1/online-evals/${ruleA.id}`),
    'PATCH /v1/online-evals/{id}': async (before) => {
      await notFound('PATCH', `/v1/online-evals/${ruleA.id}`, { enabled: false });
      await unchanged(before);
    },
    'DELETE /v1/online-evals/{id}': async (before) => {
      await notFound('DELETE', `/v1/online-evals/${ruleA.id}`);
      await unchanged(before);
    },
    'GET /v1/traces/{traceId}/spans/{spanId}/scores': async () => {
      expect((await asB('GET', `/v1/traces/${traceA}/spans/${spanA}/scores`)).json.scores).toEqual([]);
      expect((await t.request('GET', `/v1/traces/${traceA}/spans/${spanA}/scores`)).json.scores).toHaveLength(1);
    },
    'GET /v1/drift-alerts': async () => {
      expect((await asB('GET', '/v1/drift-alerts')).json.alerts).toEqual([]);
      expect((await asB('GET', `/v1/drift-alerts?ruleId=${ruleA.id}`)).json.alerts).toEqual([]);
    },
    'POST /v1/drift-alerts/{id}/acknowledge': async (before) => {
      await notFound('POST', `/v1/drift-alerts/${alertA}/acknowledge`);
      await unchanged(before);
    },
    // last: it adds a key to B, which would change what 'GET /v1/keys' finds
    'GET /v1/organization/spend': async (before) => {
      // Organization-wide by design: B's admin key shares A's organization, so it sees A's project with
      // its span totals (that and its name, nothing of its spans). Another organization sees neither.
      const store = createTenancyStore(t.database.db);
      const createdAt = new Date().toISOString();
      await store.insertOrganization({ id: 'org_elsewhere', name: 'Elsewhere', createdAt });
      await store.insertProject({ id: 'proj_elsewhere', organizationId: 'org_elsewhere', name: 'E', retentionDays: null, createdAt });
      const keyE = generateApiKey();
      await store.insertKey({ id: 'key_elsewhere', projectId: 'proj_elsewhere', name: 'admin', role: 'admin', prefix: keyPrefix(keyE), keyHash: hashApiKey(keyE), createdAt });
      const elsewhere = await t.request('GET', `/v1/organization/spend?${wide}`, { key: keyE });
      expect(elsewhere.json.projects.map((p: { projectId: string }) => p.projectId)).toEqual(['proj_elsewhere']);
      expect(elsewhere.json.days).toEqual([]);
      expect(elsewhere.text).not.toContain('proj_default');
      const sameOrg = (await asB('GET', `/v1/organization/spend?${wide}`)).json;
      expect(sameOrg.projects.map((p: { projectId: string }) => p.projectId)).toContain('proj_default');
      expect(sameOrg.projects.map((p: { projectId: string }) => p.projectId)).not.toContain('proj_elsewhere');
      expect(JSON.stringify(sameOrg)).not.toMatch(/A only|a-agent|gpt-4o/);
      const readOnlyB = (await asB('POST', '/v1/keys', { name: 'b-viewer', role: 'read-only' })).json.key;
      const refused = await t.request('GET', `/v1/organization/spend?${wide}`, { key: readOnlyB });
      expect([refused.status, refused.json.error.code]).toEqual([403, 'forbidden']);
      await unchanged(before);
    },
  };

  for (const [operation, run] of Object.entries(cases)) {
    it(operation, async () => {
      await run(await snapshotA());
    });
  }

  it('covers every /v1 operation in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).json as { paths: Record<string, object> };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((op) => op.includes(' /v1/') && !(op in cases))).toEqual([]);
  });
});
