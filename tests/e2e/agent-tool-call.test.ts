import { ApprovalRequiredError, createClient, type HangarError } from '@hangar/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

const DOLLAR = 1_000_000;
let server: TestServer | undefined;

beforeAll(async () => {
  // a short sweep interval, so that the server's own sweeper ends an abandoned action within the test
  server = await startServer({ env: { HANGAR_HOLD_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await server?.stop();
});

/** An agent's own tools, guarded by the SDK against a running server: authorized, held, reported, recorded. */
describe('an agent guarding its tools with the SDK', () => {
  it('is denied by default, runs under a permit with its cost settled, waits for approval, reports failures; an abandoned action is swept', async () => {
    const admin = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const researcher = await admin.agents.create({ name: 'researcher', owner: 'ops' });
    const { token } = await admin.agents.issueCredential(researcher.id, {
      actingFor: { type: 'user', id: 'alice' },
      scopes: { tools: ['*'], actions: ['tool.call'] },
      spendCapMicros: 5 * DOLLAR,
    });
    const budget = await admin.budgets.create({ name: 'researcher', scope: 'agent', scopeId: researcher.id, period: 'total', limitMicros: 3 * DOLLAR });
    const agent = createClient({ baseUrl: server!.url, apiKey: token });

    let calls = 0;
    const search = agent.actions.guard(
      async (q: string) => {
        calls++;
        if (q === 'fail') throw new Error('search backend down');
        return [`${q} 1`, `${q} 2`];
      },
      { resource: 'search', args: (q) => ({ q }), estimatedCostMicros: DOLLAR, cost: () => 250_000, summarize: (hits) => `${hits.length} hits` },
    );

    const denied = await search('hangar').catch((e: unknown) => e);
    expect((denied as HangarError).code).toBe('policy_denied');
    expect(calls).toBe(0);

    const permit = await admin.policies.create({ name: 'search', text: 'permit(principal in User::"alice", action == Action::"tool.call", resource == Tool::"search");' });
    expect(await search('hangar')).toEqual(['hangar 1', 'hangar 2']);
    expect((await admin.budgets.get(budget.id)).current).toMatchObject({ postedMicros: 250_000, pendingMicros: 0 });
    const recent = (await admin.agents.get(researcher.id)).recentActions;
    expect(recent.map((e) => e.type)).toEqual(expect.arrayContaining(['action.denied', 'action.authorized', 'action.ok']));
    expect(recent.find((e) => e.type === 'action.ok')?.payload).toMatchObject({ decision: { policyIds: [permit.id] }, settledMicros: 250_000 });

    // a failing tool: the error is reported (the hold released), then rethrown
    await expect(search('fail')).rejects.toThrow('search backend down');
    expect((await admin.budgets.get(budget.id)).current).toMatchObject({ postedMicros: 250_000, pendingMicros: 0 });

    // a tool that needs approval does not run until a person approves
    await admin.policies.create({ name: 'shell', text: '@effect("require_approval")\npermit(principal in User::"alice", action == Action::"tool.call", resource == Tool::"shell");' });
    const shell = agent.actions.guard(async (cmd: string) => `ran ${cmd}`, { resource: 'shell', args: (cmd) => ({ cmd }) });
    const asked = await shell('ls').catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(ApprovalRequiredError);
    const approvalId = (asked as ApprovalRequiredError).approvalId;
    await admin.approvals.approve(approvalId, 'fine');
    const approval = (await agent.approvals.get(approvalId)).token!;
    expect(await shell.withApproval(approval)('ls')).toBe('ran ls');
    expect(((await shell.withApproval(approval)('ls').catch((e: unknown) => e)) as HangarError).code).toBe('approval_invalid');

    // an agent that crashes after authorizing: the server's sweeper abandons the action and releases its hold
    const crashed = await agent.actions.authorize({ kind: 'tool.call', resource: 'search', args: { q: 'x' }, estimatedCostMicros: 2 * DOLLAR, ttlSeconds: 1, idempotencyKey: 'crash-1' });
    expect((await admin.budgets.get(budget.id)).current.pendingMicros).toBe(2 * DOLLAR);
    const deadline = Date.now() + 15_000;
    while ((await admin.actions.get(crashed.id)).status === 'pending' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await admin.actions.get(crashed.id)).status).toBe('abandoned');
    expect((await admin.budgets.get(budget.id)).current).toMatchObject({ postedMicros: 250_000, pendingMicros: 0 });
    const late = await agent.actions.result(crashed.id, { status: 'ok' }).catch((e: unknown) => e);
    expect((late as HangarError).code).toBe('conflict');

    expect(await admin.journal.verify()).toMatchObject({ ok: true });
    expect(await admin.ledger.verify()).toMatchObject({ ok: true, problems: [] });
  }, 60_000);
});
