import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action } from '../actions/action.js';
import { actionStream, createActionPipeline, type ActionPipeline } from '../actions/action-pipeline.js';
import { defaultPolicyStage } from '../actions/default-policy.js';
import { createBlobStore } from '../blobs/blob-store.js';
import { openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createJournal, type Journal } from '../journal/journal-service.js';
import { createLedger } from '../ledger/ledger-service.js';
import { createWebhooks } from '../webhooks/webhook-service.js';
import { budgetChain, budgetHoldStage } from './budget-stage.js';
import { createBudgets, type Budgets } from './budgets-service.js';

const call = (n: number, maxCostMicros = 500): Action => ({
  kind: 'model.call',
  projectId: 'p1',
  actor: { principals: [{ type: 'user', id: 'usr_1' }, { type: 'agent', id: 'agt_1' }, { type: 'agent', id: 'agt_sub' }], credentialId: 'cred_1' },
  resource: 'openai/gpt-4o-mini',
  args: { n },
  maxCostMicros,
  idempotencyKey: `run_1:step_${n}`,
  run: { runId: 'run_1', stepId: `step_${n}` },
});

describe('the budget hold stage of the action pipeline', () => {
  let t: TestDatabase;
  let journal: Journal;
  let budgets: Budgets;
  let pipeline: ActionPipeline;
  let ledger: ReturnType<typeof createLedger>;

  beforeEach(async () => {
    t = await openTestDatabase('sqlite');
    journal = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
    ledger = createLedger({ db: t.db, direct: t.direct });
    budgets = createBudgets({ db: t.db, ledger, webhooks: createWebhooks({ db: t.db }) });
    pipeline = createActionPipeline({ db: t.db, journal, stages: [defaultPolicyStage(), budgetHoldStage(budgets)] });
  });
  afterEach(async () => {
    await t.close();
  });

  it('derives the chain run → credential → agents (innermost first) → project', () => {
    expect(budgetChain(call(1))).toEqual([
      { scope: 'run', id: 'run_1' },
      { scope: 'credential', id: 'cred_1' },
      { scope: 'agent', id: 'agt_sub' },
      { scope: 'agent', id: 'agt_1' },
      { scope: 'project', id: 'p1' },
    ]);
  });

  it('a retry with the same idempotency key holds afresh: the hold a failed attempt released is not handed back', async () => {
    const budget = await budgets.create('p1', { name: 'parent agent', scope: 'agent', scopeId: 'agt_1', period: 'total', limitMicros: 1000 });
    await expect(pipeline.run(call(7), async () => Promise.reject(new Error('provider down')))).rejects.toThrow('provider down');
    await pipeline.run(call(7), async () => ({ value: 'ok', costMicros: 300 }));
    expect((await budgets.get('p1', budget.id, { includeSecrets: false })).current).toMatchObject({ postedMicros: 300, pendingMicros: 0 });
    const events = (await journal.read('p1', actionStream(call(7)), 0, 100)).events.map((e) => e.payload as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({ outcome: { status: 'ok' }, settledMicros: 300 });
    expect(events.at(-1)).not.toHaveProperty('budgetSettleError');
  });

  it('holds the worst case, charges the actual, refuses with budget_exceeded, and releases a failed call', async () => {
    const budget = await budgets.create('p1', { name: 'parent agent', scope: 'agent', scopeId: 'agt_1', period: 'total', limitMicros: 1000 });
    await pipeline.run(call(1), async () => ({ value: 'ok', costMicros: 120 }));
    expect((await budgets.get('p1', budget.id, { includeSecrets: false })).current).toMatchObject({ postedMicros: 120, pendingMicros: 0 });

    await expect(pipeline.run(call(2), async () => Promise.reject(new Error('provider down')))).rejects.toThrow('provider down');
    expect((await budgets.get('p1', budget.id, { includeSecrets: false })).current).toMatchObject({ postedMicros: 120, pendingMicros: 0 });

    let executed = false;
    await expect(
      pipeline.run(call(3, 900), async () => {
        executed = true;
        return { value: 'never', costMicros: 1 };
      }),
    ).rejects.toMatchObject({ code: 'budget_exceeded', details: { budget: { id: budget.id }, remainingMicros: 880 } });
    expect(executed).toBe(false); // refused before any provider is called

    const events = (await journal.read('p1', actionStream(call(1)), 0, 10)).events;
    expect(events.map((e) => e.type)).toEqual(['action.ok', 'action.error', 'action.denied']);
    expect(events[0]!.payload).toMatchObject({ hold: { amountMicros: 500, holdIds: [expect.any(String)] }, settledMicros: 120 });
    expect(events[2]!.payload).toMatchObject({ outcome: { code: 'budget_exceeded' } });
  });

  it('an action whose hold expired before it finished still succeeds, and its record says the cost went unsettled', async () => {
    await budgets.create('p1', { name: 'project', scope: 'project', scopeId: 'p1', limitMicros: 1000 });
    const slow = createActionPipeline({ db: t.db, journal, stages: [defaultPolicyStage(), budgetHoldStage(budgets, { timeoutMs: 1 })] });
    const value = await slow.run(call(7), async () => {
      await new Promise((r) => setTimeout(r, 10));
      expect(await ledger.sweepExpired()).toBe(1);
      return { value: 'done', costMicros: 42 };
    });
    expect(value).toBe('done');
    const [event] = (await journal.read('p1', actionStream(call(7)), 0, 10)).events;
    expect(event!.payload).toMatchObject({ outcome: { status: 'ok' }, budgetUnsettledMicros: 42, budgetSettleError: expect.stringContaining('expired') });
    expect((await ledger.verify('p1')).ok).toBe(true);
  });
});
