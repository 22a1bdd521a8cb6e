import type { ChainEntry } from '@hangar/protocol';
import type { Action } from '../actions/action.js';
import type { Stage } from '../actions/action-pipeline.js';
import type { Budgets } from './budgets-service.js';

/** The budgets an action counts against, narrowest first: run → credential → agents (innermost first) → project. */
export function budgetChain(action: Action): ChainEntry[] {
  const chain: ChainEntry[] = [];
  if (action.run) chain.push({ scope: 'run', id: action.run.runId });
  if (action.actor.credentialId) chain.push({ scope: 'credential', id: action.actor.credentialId });
  for (const p of [...action.actor.principals].reverse()) if (p.type === 'agent') chain.push({ scope: 'agent', id: p.id });
  chain.push({ scope: 'project', id: action.projectId });
  return chain;
}

/**
 * The pipeline's hold stage: before an action with a `maxCostMicros` runs, reserve that worst case on
 * every budget of its chain (or refuse with budget_exceeded); afterwards charge the actual cost and
 * release the rest — all of it when the action failed. A success that reports no cost is charged the
 * worst case (fail closed). A settlement that fails (a hold expired first) is noted in the action
 * record as `budgetSettleError`, not thrown.
 * @example createActionPipeline({ db, journal, stages: [defaultPolicyStage(), budgetHoldStage(budgets)] })
 */
export function budgetHoldStage(budgets: Budgets, options: { timeoutMs?: number } = {}): Stage {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  return {
    name: 'budget',
    async before(ctx) {
      const { action } = ctx;
      if (action.maxCostMicros === undefined || action.maxCostMicros <= 0) return;
      const reservation = await budgets.holdForAction({
        projectId: action.projectId,
        chain: budgetChain(action),
        amountMicros: action.maxCostMicros,
        timeoutMs: action.holdTimeoutMs ?? timeoutMs,
        // per attempt, not per request: a retry must not get back a hold an earlier attempt released
        idempotencyKey: `action:${ctx.id}`,
      });
      ctx.hold = { holdIds: reservation.holdIds, amountMicros: action.maxCostMicros };
    },
    async after(ctx, result) {
      const hold = ctx.hold;
      if (!hold || hold.holdIds.length === 0) return;
      // a failure is charged what it reports it cost (an agent's failed tool call may have cost something)
      const actual = result.costMicros ?? (result.ok ? hold.amountMicros : 0);
      try {
        const settlement = await budgets.settle(ctx.action.projectId, hold.holdIds, actual);
        ctx.settledMicros = settlement.settled[0]?.postedMicros ?? 0;
        if (settlement.overrunMicros > 0) ctx.details.budgetOverrunMicros = settlement.overrunMicros;
      } catch (err) {
        // The action has happened; failing its response now would not undo it. The usual cause is a
        // hold that expired before the action finished (its timeout was too short): say so in the record.
        ctx.details.budgetSettleError = (err as Error).message;
        ctx.details.budgetUnsettledMicros = actual;
      }
    },
  };
}
