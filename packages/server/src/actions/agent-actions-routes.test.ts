import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, type TestDialect } from '../db/test-databases.js';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';

const DOLLAR = 1_000_000;

/**
 * POST /v1/actions: a tool call (sandbox run, data read…) the agent executes itself, put through the
 * action path over HTTP — authorized, held, recorded, settled by its result, abandoned when it expires.
 */
describe('actions the agent executes itself', () => {
  const opened: TestApp[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  async function setUp(dialect: TestDialect = 'sqlite', credentialExtra: Record<string, unknown> = {}) {
    const t = await createTestApp(dialect);
    opened.push(t);
    const agentId = (await t.request('POST', '/v1/agents', { body: { name: 'researcher', owner: 'ops' } })).json.id as string;
    const issued = await t.request('POST', `/v1/agents/${agentId}/credentials`, {
      body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: [], tools: ['*'], actions: ['tool.call', 'sandbox.exec'] }, spendCapMicros: 10 * DOLLAR, ...credentialExtra },
    });
    expect(issued.status, issued.text).toBe(201);
    const token = issued.json.token as string;
    const policy = async (name: string, text: string) => {
      const res = await t.request('POST', '/v1/policies', { body: { name, text } });
      expect(res.status, res.text).toBe(201);
      return res.json.id as string;
    };
    const authorize = (body: Record<string, unknown>, options: { approval?: string; as?: string } = {}) =>
      t.request('POST', '/v1/actions', {
        key: options.as ?? token,
        headers: options.approval ? { 'x-hangar-approval': options.approval } : {},
        body: { kind: 'tool.call', resource: 'search', args: { q: 'hangar' }, ...body },
      });
    const result = (id: string, body: Record<string, unknown>, as = token) => t.request('POST', `/v1/actions/${id}/result`, { key: as, body });
    const events = async () =>
      (await t.request('GET', `/v1/streams/actions:agent:${agentId}/events`)).json.events as Array<{ type: string; payload: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const budget = async (id: string) => (await t.request('GET', `/v1/budgets/${id}`)).json.current as { postedMicros: number; pendingMicros: number; remainingMicros: number };
    /** Every row a refused action must leave as it was. */
    const written = async () => {
      const db = t.database.db;
      const [actions, transfers, approvals] = await Promise.all([
        db.selectFrom('agent_actions').selectAll().execute(),
        db.selectFrom('ledger_transfers').selectAll().orderBy('id').execute(),
        db.selectFrom('approvals').selectAll().execute(),
      ]);
      return JSON.stringify({ actions, transfers, approvals });
    };
    const openHolds = async () => (await t.database.db.selectFrom('ledger_open_holds').select('transfer_id').execute()).length;
    return { t, agentId, token, policy, authorize, result, events, budget, written, openHolds };
  }

  it('says nothing is held when nothing could be: an API key, no budget in its chain', async () => {
    const { policy, authorize, openHolds } = await setUp();
    await policy('tools', 'permit(principal, action == Action::"tool.call", resource);');
    const allowed = await authorize({ estimatedCostMicros: DOLLAR, idempotencyKey: 'k0' }, { as: ADMIN_KEY });
    expect(allowed.status, allowed.text).toBe(201);
    expect(allowed.json).toMatchObject({ status: 'pending', heldMicros: 0 });
    expect(await openHolds()).toBe(0);
  });

  it('a tool call is denied by default, recorded, nothing held; a permit allows it; a forbid wins', async () => {
    const { t, agentId, policy, authorize, events, written } = await setUp();
    const budgetId = (await t.request('POST', '/v1/budgets', { body: { name: 'agent', scope: 'agent', scopeId: agentId, period: 'total', limitMicros: 5 * DOLLAR } })).json.id as string;
    expect(budgetId).toBeTruthy();
    const before = await written();

    const denied = await authorize({ estimatedCostMicros: DOLLAR, idempotencyKey: 'k1' });
    expect([denied.status, denied.json.error.code]).toEqual([403, 'policy_denied']);
    expect(await written()).toBe(before);
    expect((await events()).at(-1)).toMatchObject({
      type: 'action.denied',
      payload: { kind: 'tool.call', resource: 'search', idempotencyKey: 'k1', decision: { effect: 'deny', policyIds: [] }, hold: null, outcome: { code: 'policy_denied' } },
    });

    const permit = await policy('search', 'permit(principal in User::"alice", action == Action::"tool.call", resource == Tool::"search");');
    // the refused key may be used again: a refusal writes no action
    const allowed = await authorize({ estimatedCostMicros: DOLLAR, idempotencyKey: 'k1' });
    expect(allowed.status, allowed.text).toBe(201);
    expect(allowed.json).toMatchObject({ kind: 'tool.call', resource: 'search', status: 'pending', decision: { effect: 'allow', policyIds: [permit] }, heldMicros: DOLLAR, idempotencyKey: 'k1' });
    expect(Date.parse(allowed.json.expiresAt) - Date.parse(allowed.json.createdAt)).toBe(300_000);
    expect((await events()).at(-1)).toMatchObject({ type: 'action.authorized', payload: { actionId: allowed.json.id, decision: { policyIds: [permit] }, outcome: { status: 'authorized' } } });
    expect((await t.request('GET', `/v1/actions/${allowed.json.id}`)).json).toEqual(allowed.json);

    const forbid = await policy('no-search-for-secrets', 'forbid(principal, action == Action::"tool.call", resource == Tool::"search") when { context.arguments.hasTag("q") && context.arguments.getTag("q") like "*secret*" };');
    const before2 = await written();
    const forbidden = await authorize({ args: { q: 'the secret plans' }, estimatedCostMicros: DOLLAR, idempotencyKey: 'k2' });
    expect([forbidden.status, forbidden.json.error.code]).toEqual([403, 'policy_denied']);
    expect(forbidden.json.error.details.policyIds).toEqual([forbid]);
    expect((await events()).at(-1)).toMatchObject({ type: 'action.denied', payload: { decision: { effect: 'deny', policyIds: [forbid] } } });
    expect(await written()).toBe(before2);
  });

  it("outside the credential's scopes or declared intent: refused, recorded as an intent violation, nothing written", async () => {
    const { policy, authorize, events, written } = await setUp('sqlite', {
      scopes: { models: [], tools: ['search', 'browse'], actions: ['tool.call'] },
      intent: { tools: ['search'], purpose: 'look things up' },
    });
    await policy('tools', 'permit(principal in User::"alice", action == Action::"tool.call", resource);');
    const before = await written();

    const scope = await authorize({ resource: 'shell', idempotencyKey: 's1' });
    expect([scope.status, scope.json.error.code]).toEqual([403, 'policy_denied']);
    expect(scope.json.error.message).toContain("scopes do not allow tool 'shell'");
    const kind = await authorize({ kind: 'sandbox.exec', resource: 'python', idempotencyKey: 's2' });
    expect([kind.status, kind.json.error.code]).toEqual([403, 'policy_denied']);

    const outside = await authorize({ resource: 'browse', args: { url: 'https://example.com' }, idempotencyKey: 's3' });
    expect([outside.status, outside.json.error.code]).toEqual([403, 'intent_violation']);
    expect((await events()).at(-1)).toMatchObject({
      type: 'action.denied',
      payload: { resource: 'browse', outcome: { code: 'intent_violation' }, intentViolation: { rule: 'tools' }, decision: { effect: 'deny', reason: 'intent violation: tools' } },
    });
    expect(await written()).toBe(before);
    expect((await authorize({ idempotencyKey: 's4' })).status).toBe(201);
  });

  it('require_approval: approval_required with its id; approved, the approval is presented and allows the action once', async () => {
    const { t, policy, authorize } = await setUp();
    const rule = await policy('shell-needs-a-human', '@effect("require_approval")\npermit(principal in User::"alice", action == Action::"sandbox.exec", resource == Sandbox::"python");');
    const body = { kind: 'sandbox.exec', resource: 'python', args: { code: 'print(1)' } };

    const asked = await authorize({ ...body, idempotencyKey: 'a1' });
    expect([asked.status, asked.json.error.code]).toEqual([403, 'approval_required']);
    const approvalId = asked.json.error.details.approvalId as string;
    expect(asked.json.error.details.policyIds).toEqual([rule]);
    expect((await t.database.db.selectFrom('agent_actions').selectAll().execute()).length).toBe(0);

    const approved = await t.request('POST', `/v1/approvals/${approvalId}/approve`, { body: { note: 'fine' } });
    expect(approved.status, approved.text).toBe(200);
    const token = approved.json.token as string;
    // the approval is for these arguments only
    const other = await authorize({ ...body, args: { code: 'rm -rf /' }, idempotencyKey: 'a2' }, { approval: token });
    expect([other.status, other.json.error.code]).toEqual([403, 'approval_invalid']);

    const allowed = await authorize({ ...body, idempotencyKey: 'a1' }, { approval: token });
    expect(allowed.status, allowed.text).toBe(201);
    expect(allowed.json).toMatchObject({ status: 'pending', approvalId, decision: { effect: 'require_approval', policyIds: [rule] } });
    const again = await authorize({ ...body, idempotencyKey: 'a3' }, { approval: token });
    expect([again.status, again.json.error.code]).toEqual([403, 'approval_invalid']);
  });

  for (const dialect of DIALECTS) {
    it(`holds the estimate on the budget and spend cap, settles the actual cost, answers a replayed result the same, on ${dialect}`, async () => {
      const { t, agentId, policy, authorize, result, events, budget, openHolds } = await setUp(dialect);
      await policy('tools', 'permit(principal in User::"alice", action == Action::"tool.call", resource);');
      const budgetId = (await t.request('POST', '/v1/budgets', { body: { name: 'agent', scope: 'agent', scopeId: agentId, period: 'total', limitMicros: 5 * DOLLAR } })).json.id as string;

      const over = await authorize({ estimatedCostMicros: 6 * DOLLAR, idempotencyKey: 'big' });
      expect([over.status, over.json.error.code]).toEqual([402, 'budget_exceeded']);
      expect(await openHolds()).toBe(0);
      const capped = await authorize({ estimatedCostMicros: 11 * DOLLAR, idempotencyKey: 'bigger' });
      expect([capped.status, capped.json.error.code]).toEqual([403, 'spend_cap_exceeded']);

      const a = await authorize({ estimatedCostMicros: 3 * DOLLAR, idempotencyKey: 'fetch-1', trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) } });
      expect(a.status, a.text).toBe(201);
      expect(await budget(budgetId)).toMatchObject({ pendingMicros: 3 * DOLLAR, remainingMicros: 2 * DOLLAR });
      // the same key and body answer the same action; another body under it is a conflict
      expect((await authorize({ estimatedCostMicros: 3 * DOLLAR, idempotencyKey: 'fetch-1', trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) } })).json).toEqual(a.json);
      expect((await authorize({ estimatedCostMicros: 1, idempotencyKey: 'fetch-1' })).json.error.code).toBe('idempotency_conflict');
      // while it is held, a second estimate of 3 does not fit
      expect((await authorize({ estimatedCostMicros: 3 * DOLLAR, idempotencyKey: 'fetch-2' })).json.error.code).toBe('budget_exceeded');

      // only the principal that was authorized (the agent, with any of its credentials) reports the result
      const otherAgent = (await t.request('POST', '/v1/agents', { body: { name: 'other', owner: 'ops' } })).json.id as string;
      const other = await t.request('POST', `/v1/agents/${otherAgent}/credentials`, {
        body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: [], tools: ['*'], actions: ['tool.call'] }, spendCapMicros: 0 },
      });
      expect((await result(a.json.id, { status: 'ok', costMicros: DOLLAR }, other.json.token)).json.error.code).toBe('forbidden');
      expect((await t.request('POST', `/v1/actions/${a.json.id}/result`, { body: { status: 'ok' } })).json.error.code).toBe('forbidden');
      expect((await result('act_unknown', { status: 'ok' })).json.error.code).toBe('not_found');

      const done = await result(a.json.id, { status: 'ok', costMicros: DOLLAR, output: '3 results' });
      expect(done.status, done.text).toBe(200);
      expect(done.json).toMatchObject({ status: 'ok', costMicros: DOLLAR, output: '3 results', heldMicros: 3 * DOLLAR });
      expect(await budget(budgetId)).toMatchObject({ postedMicros: DOLLAR, pendingMicros: 0, remainingMicros: 4 * DOLLAR });
      expect(await openHolds()).toBe(0);
      expect((await events()).at(-1)).toMatchObject({
        type: 'action.ok',
        payload: { actionId: a.json.id, settledMicros: DOLLAR, result: { costMicros: DOLLAR, output: '3 results' }, trace: { traceId: 'a'.repeat(32) } },
      });

      // idempotent: the same result answers the same and changes nothing; another result is a conflict
      const count = (await events()).length;
      expect((await result(a.json.id, { status: 'ok', costMicros: DOLLAR, output: '3 results' })).json).toEqual(done.json);
      const changed = await result(a.json.id, { status: 'error', error: 'timeout' });
      expect([changed.status, changed.json.error.code]).toEqual([409, 'conflict']);
      expect((await events()).length).toBe(count);
      expect(await budget(budgetId)).toMatchObject({ postedMicros: DOLLAR, pendingMicros: 0 });

      // a failure is charged what it reports it cost (nothing here), and released
      const b = await authorize({ estimatedCostMicros: 2 * DOLLAR, idempotencyKey: 'fetch-3' });
      const failed = await result(b.json.id, { status: 'error', error: 'the site was down' });
      expect(failed.json).toMatchObject({ status: 'error', error: 'the site was down', costMicros: null });
      expect((await events()).at(-1)).toMatchObject({ type: 'action.error', payload: { outcome: { code: 'action_failed', message: 'the site was down' } } });
      expect(await budget(budgetId)).toMatchObject({ postedMicros: DOLLAR, pendingMicros: 0, remainingMicros: 4 * DOLLAR });

      expect((await t.request('POST', '/v1/journal/verify', { body: {} })).json.ok).toBe(true);
      expect((await t.request('POST', '/v1/ledger/verify')).json.ok).toBe(true);
    });

    it(`an action never reported expires: the sweeper records it abandoned and voids its holds, on ${dialect}`, async () => {
      const { t, agentId, policy, authorize, result, events, budget, openHolds } = await setUp(dialect);
      await policy('tools', 'permit(principal in User::"alice", action == Action::"tool.call", resource);');
      const budgetId = (await t.request('POST', '/v1/budgets', { body: { name: 'agent', scope: 'agent', scopeId: agentId, period: 'total', limitMicros: 5 * DOLLAR } })).json.id as string;
      const a = await authorize({ estimatedCostMicros: 4 * DOLLAR, ttlSeconds: 1, idempotencyKey: 'crashing' });
      expect(a.status, a.text).toBe(201);
      const kept = await authorize({ estimatedCostMicros: DOLLAR, idempotencyKey: 'alive' });
      expect(await openHolds()).toBe(4); // budget and spend cap, for each
      expect(await t.agentActions.sweepExpired()).toBe(0);

      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await t.agentActions.sweepExpired()).toBe(1);
      expect(await t.agentActions.sweepExpired()).toBe(0);
      expect((await t.request('GET', `/v1/actions/${a.json.id}`)).json).toMatchObject({ status: 'abandoned', costMicros: null });
      expect((await t.request('GET', `/v1/actions/${kept.json.id}`)).json.status).toBe('pending');
      expect(await budget(budgetId)).toMatchObject({ postedMicros: 0, pendingMicros: DOLLAR, remainingMicros: 4 * DOLLAR });
      expect(await openHolds()).toBe(2);
      expect((await events()).find((e) => e.type === 'action.abandoned')).toMatchObject({ payload: { actionId: a.json.id, outcome: { code: 'expired' } } });

      const late = await result(a.json.id, { status: 'ok', costMicros: DOLLAR });
      expect([late.status, late.json.error.code, late.json.error.details.status]).toEqual([409, 'conflict', 'abandoned']);

      // a result claimed by a process that died before recording it: the sweeper finishes it as reported
      const claimedAt = new Date(Date.now() - 120_000).toISOString();
      await t.database.db
        .updateTable('agent_actions')
        .set({ status: 'reporting', result: JSON.stringify({ status: 'ok', costMicros: DOLLAR / 2 }), result_hash: 'claimed', updated_at: claimedAt })
        .where('id', '=', kept.json.id)
        .execute();
      expect(await t.agentActions.sweepExpired()).toBe(1);
      expect((await t.request('GET', `/v1/actions/${kept.json.id}`)).json).toMatchObject({ status: 'ok', costMicros: DOLLAR / 2 });
      expect(await budget(budgetId)).toMatchObject({ postedMicros: DOLLAR / 2, pendingMicros: 0, remainingMicros: 4.5 * DOLLAR });
      expect(await openHolds()).toBe(0);
      expect((await t.request('POST', '/v1/journal/verify', { body: {} })).json.ok).toBe(true);
      expect((await t.request('POST', '/v1/ledger/verify')).json.ok).toBe(true);
    });
  }
});
