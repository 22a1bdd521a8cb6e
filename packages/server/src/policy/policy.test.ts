import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action } from '../actions/action.js';
import { actionStream } from '../actions/action-pipeline.js';
import { actorChainOf } from '../http/app-env.js';
import { createTestApp, type TestApp } from '../test-app.js';

describe('Cedar policy on every action', () => {
  let t: TestApp;
  let agentId: string;
  let token: string;

  beforeEach(async () => {
    t = await createTestApp();
    agentId = (await t.request('POST', '/v1/agents', { body: { name: 'shopper', owner: 'team-commerce', labels: { env: 'prod' } } })).json.id;
    token = (
      await t.request('POST', `/v1/agents/${agentId}/credentials`, {
        body: {
          actingFor: { type: 'user', id: 'alice' },
          scopes: { models: ['*'], tools: ['search', 'shell', 'http'], actions: ['*'] },
          spendCapMicros: 1000,
        },
      })
    ).json.token;
  });
  afterEach(async () => {
    await t.close();
  });

  const savePolicy = async (name: string, text: string) => {
    const res = await t.request('POST', '/v1/policies', { body: { name, text } });
    expect(res.status, res.text).toBe(201);
    return res.json as { id: string; cedarIds: string[] };
  };
  /** Runs an action as the agent's credential; returns the outcome and the recorded event. */
  async function act(partial: Partial<Action> & Pick<Action, 'kind' | 'resource'>, as = token) {
    const auth = await t.identity.authenticate(as);
    const action: Action = { projectId: auth.project.id, actor: actorChainOf(auth), args: {}, ...partial };
    let outcome: { ok: true } | { ok: false; code: string; details: unknown };
    try {
      await t.actions.run(action, async () => ({ value: null, costMicros: partial.maxCostMicros ?? 0 }));
      outcome = { ok: true };
    } catch (err) {
      const e = err as { code: string; details: unknown };
      outcome = { ok: false, code: e.code, details: e.details };
    }
    const events = (await t.journal.read(auth.project.id, actionStream(action), 0, 1000)).events;
    return { outcome, event: events.at(-1)!.payload as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('validates on save against the schema, pointing at line and column', async () => {
    const bad = await t.request('POST', '/v1/policies', {
      body: { name: 'typo', text: 'permit(principal, action == Action::"tool.call", resource)\n  when { context.amout < 100 };' },
    });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'validation_failed']);
    expect(bad.json.error.details.issues[0]).toMatchObject({ path: 'text', line: 2, statement: 0 });
    expect(bad.json.error.message).toMatch(/^text line 2, column \d+: .*amout/);

    const syntax = await t.request('POST', '/v1/policies', { body: { name: 'syntax', text: 'permit(principal, action, resource);\n\nforbid(principal action, resource);' } });
    expect(syntax.json.error.details.issues[0].line).toBe(3);
    const annotation = await t.request('POST', '/v1/policies', { body: { name: 'ann', text: '@effect("maybe")\npermit(principal, action, resource);' } });
    expect(annotation.json.error.message).toContain('require_approval');
    expect((await t.request('GET', '/v1/policies')).json.policies).toEqual([]);

    const validated = await t.request('POST', '/v1/policies/validate', { body: { text: 'permit(principal, action, resource) when { context.nope };' } });
    expect(validated.json.ok).toBe(false);
    expect((await t.request('GET', '/v1/policies/schema')).json.schema).toContain('action "tool.call"');
  });

  it('with no policies: model calls allowed, tools denied by default, and each decision recorded', async () => {
    const model = await act({ kind: 'model.call', resource: 'gpt-4o' });
    expect(model.outcome).toEqual({ ok: true });
    expect(model.event.decision).toMatchObject({ effect: 'allow', policyIds: [] });
    expect(model.event.actor.principals).toEqual([{ type: 'user', id: 'alice' }, { type: 'agent', id: agentId }]);
    const tool = await act({ kind: 'tool.call', resource: 'search' });
    expect(tool.outcome).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(tool.event.decision).toMatchObject({ effect: 'deny', policyIds: [] });
    expect(tool.event.outcome).toMatchObject({ status: 'denied', code: 'policy_denied' });
  });

  it('a permit allows, forbid wins, and the decision names the determining policies', async () => {
    const permit = await savePolicy('search-for-alice', 'permit(principal in User::"alice", action == Action::"tool.call", resource == Tool::"search");');
    const forbid = await savePolicy(
      'no-secrets',
      `forbid(principal, action, resource)
  when { context.arguments.hasTag("query") && context.arguments.getTag("query") like "*password*" };
forbid(principal is Agent, action == Action::"model.call", resource == Model::"o3") unless { principal.labels.contains("env=lab") };`,
    );
    expect(forbid.cedarIds).toEqual([`${forbid.id}.0`, `${forbid.id}.1`]);

    const allowed = await act({ kind: 'tool.call', resource: 'search', args: { query: 'cheap flights' } });
    expect(allowed.outcome).toEqual({ ok: true });
    expect(allowed.event.decision).toMatchObject({ effect: 'allow', policyIds: [permit.id] });

    const forbidden = await act({ kind: 'tool.call', resource: 'search', args: { query: 'admin password' } });
    expect(forbidden.outcome).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(forbidden.event.decision).toMatchObject({ effect: 'deny', policyIds: [`${forbid.id}.0`] });

    // another tool: no permit → denied by default; models still allowed by default, except the forbidden one
    expect((await act({ kind: 'tool.call', resource: 'shell' })).outcome).toMatchObject({ code: 'policy_denied' });
    expect((await act({ kind: 'model.call', resource: 'gpt-4o' })).outcome).toEqual({ ok: true });
    const o3 = await act({ kind: 'model.call', resource: 'o3' });
    expect([o3.outcome, o3.event.decision.policyIds]).toEqual([expect.objectContaining({ code: 'policy_denied' }), [`${forbid.id}.1`]]);

    // a change applies to the next action
    await t.request('DELETE', `/v1/policies/${forbid.id}`);
    expect((await act({ kind: 'model.call', resource: 'o3' })).outcome).toEqual({ ok: true });
  });

  it('refuses what the credential scopes do not allow, whatever the policies say', async () => {
    await savePolicy('all-tools', 'permit(principal, action == Action::"tool.call", resource);');
    expect((await act({ kind: 'tool.call', resource: 'http' })).outcome).toEqual({ ok: true });
    const email = await act({ kind: 'tool.call', resource: 'email' });
    expect(email.outcome).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(email.event.decision.reason).toContain("scopes do not allow tool 'email'");
  });

  it('refuses actions outside the declared intent and marks them in the record', async () => {
    await savePolicy('tools', 'permit(principal, action == Action::"tool.call", resource);\npermit(principal, action == Action::"data.write", resource);');
    const readOnly = (
      await t.request('POST', '/v1/credentials/delegate', {
        key: token,
        body: { agentId, scopes: { models: ['*'], tools: ['search', 'http'], actions: ['*'] }, spendCapMicros: 500, intent: { readOnly: true, tools: ['http'], domains: ['example.com'], maxSpendMicros: 100, purpose: 'compare prices' } },
      })
    ).json.token;
    const write = await act({ kind: 'data.write', resource: 'orders' }, readOnly);
    expect(write.outcome).toMatchObject({ ok: false, code: 'intent_violation', details: { violation: 'readOnly' } });
    expect(write.event.intentViolation).toMatchObject({ rule: 'readOnly', intent: { purpose: 'compare prices' } });
    expect((await act({ kind: 'tool.call', resource: 'search' }, readOnly)).outcome).toMatchObject({ code: 'intent_violation', details: { violation: 'tools' } });
    expect((await act({ kind: 'tool.call', resource: 'http', args: { url: 'https://evil.test/x' } }, readOnly)).outcome).toMatchObject({ details: { violation: 'domains' } });
    expect((await act({ kind: 'tool.call', resource: 'http', args: { url: 'https://shop.example.com/a' } }, readOnly)).outcome).toEqual({ ok: true });
    expect((await act({ kind: 'tool.call', resource: 'http', maxCostMicros: 101 }, readOnly)).outcome).toMatchObject({ details: { violation: 'maxSpendMicros' } });
    // a run's own declared intent applies too, on top of the credential's
    const run = await act({ kind: 'tool.call', resource: 'search', intent: { tools: ['http'] } });
    expect(run.outcome).toMatchObject({ code: 'intent_violation' });
    // and policies can test it
    await savePolicy('purpose', 'forbid(principal, action, resource) when { context.intent.declared && context.intent.purpose == "compare prices" && context.delegationDepth > 0 && resource == Tool::"http" };');
    expect((await act({ kind: 'tool.call', resource: 'http', args: { url: 'https://example.com' } }, readOnly)).outcome).toMatchObject({ code: 'policy_denied' });
  });

  it('enforces spend caps along the delegation chain', async () => {
    await savePolicy('tools', 'permit(principal, action == Action::"tool.call", resource);');
    const child = (await t.request('POST', '/v1/credentials/delegate', { key: token, body: { agentId, scopes: { models: [], tools: ['search'], actions: ['tool.call'] }, spendCapMicros: 600 } })).json.token;
    expect((await act({ kind: 'tool.call', resource: 'search', maxCostMicros: 601 }, child)).outcome).toMatchObject({ code: 'spend_cap_exceeded' });
    expect((await act({ kind: 'tool.call', resource: 'search', maxCostMicros: 500 }, child)).outcome).toEqual({ ok: true });
    // 500 spent by the child counts against the parent too: 500 of 1000 left
    expect((await act({ kind: 'tool.call', resource: 'search', maxCostMicros: 501 })).outcome).toMatchObject({ code: 'spend_cap_exceeded' });
    const delegated = await t.request('POST', '/v1/credentials/delegate', { key: token, body: { agentId, scopes: { models: [], tools: [], actions: [] }, spendCapMicros: 501 } });
    expect(delegated.json.error.details.violations).toEqual(['spendCapMicros']);
  });

  it('answers "would this be allowed?" by the saved policies or a draft', async () => {
    const p = await savePolicy('pay-small', 'permit(principal in User::"alice", action == Action::"payment.create", resource) when { context.amount <= 5000000 };');
    const check = (body: Record<string, unknown>) => t.request('POST', '/v1/policies/check', { body: { kind: 'payment.create', resource: 'acme', principal: { type: 'agent', id: agentId }, actingFor: { type: 'user', id: 'alice' }, ...body } });
    expect((await check({ amountMicros: 1_000_000 })).json).toMatchObject({ effect: 'allow', policyIds: [p.id] });
    expect((await check({ amountMicros: 9_000_000 })).json).toMatchObject({ effect: 'deny', policyIds: [] });
    expect((await check({ amountMicros: 1, actingFor: { type: 'user', id: 'bob' } })).json.effect).toBe('deny');
    const draft = await check({ amountMicros: 9_000_000, draft: '@effect("require_approval")\npermit(principal, action == Action::"payment.create", resource);' });
    expect(draft.json).toMatchObject({ effect: 'require_approval', policyIds: ['draft'] });
    expect((await check({ draft: 'permit(principal, action, resource) when { context.x };' })).json.error.code).toBe('validation_failed');
    // a credential asks for itself
    const self = await t.request('POST', '/v1/policies/check', { key: token, body: { kind: 'payment.create', resource: 'acme', amountMicros: 10 } });
    expect(self.json).toMatchObject({ effect: 'allow', policyIds: [p.id] });
  });
});
