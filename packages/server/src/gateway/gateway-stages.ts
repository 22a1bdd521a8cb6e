import type { ActionContext } from '../actions/action.js';
import type { Stage } from '../actions/action-pipeline.js';
import { actorChainOf } from '../http/app-env.js';
import type { Pricing } from '../pricing/pricing.js';
import type { GatewayCall, GatewayHooks } from './gateway-service.js';

/** What a call may produce when it does not say (`max_tokens`): the worst case a budget reserves. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The action pipeline's stages (authorize, budget hold, …) as the gateway's hooks: a model call goes
 * through the same stages as every other action. Stages run when the route is known (authorize), and
 * are unwound in reverse with the actual cost once the call is recorded (settle).
 */
export function gatewayHooksFromStages(stages: Stage[], pricing: Pricing): GatewayHooks {
  const running = new WeakMap<GatewayCall, { ctx: ActionContext; entered: Stage[] }>();

  /** The most the call can cost: its input (≈ 1 token per 3 bytes, an overestimate) and its maximum output, at the priciest target. */
  async function worstCase(call: GatewayCall): Promise<number | undefined> {
    const request = call.request;
    const input =
      Math.ceil(JSON.stringify(request.messages ?? request.input ?? '').length / 3) +
      Math.ceil(JSON.stringify(request.system ?? '').length / 3);
    const output =
      call.endpoint === 'embeddings'
        ? 0
        : (positiveInt(request.max_completion_tokens) ??
          positiveInt(request.max_tokens) ??
          DEFAULT_MAX_OUTPUT_TOKENS);
    let worst: number | undefined;
    for (const target of call.plan?.targets ?? []) {
      const cost = await pricing.costOf({
        projectId: call.projectId,
        provider: target.provider.system,
        model: target.model,
        time: call.startTime,
        usage: { input, output, cacheRead: null, cacheWrite: null, reasoning: null },
      });
      if (cost !== null) worst = Math.max(worst ?? 0, cost);
    }
    return worst;
  }

  return {
    async authorize(call) {
      const ctx: ActionContext = {
        id: call.callId,
        action: {
          kind: call.endpoint === 'embeddings' ? 'embedding.call' : 'model.call',
          projectId: call.projectId,
          actor: actorChainOf(call.auth),
          resource: call.model,
          args: call.request,
          maxCostMicros: await worstCase(call),
          trace: { traceId: call.traceId, spanId: call.spanId },
          approval: call.approval,
          run: call.run,
        },
        argsSha256: call.requestSha256,
        startedAt: call.startTime,
        decision: null,
        hold: null,
        settledMicros: null,
        details: {},
      };
      const entered: Stage[] = [];
      running.set(call, { ctx, entered });
      call.action = ctx;
      // a refusal propagates; the gateway records it and calls settle, which unwinds what was entered
      for (const stage of stages) {
        await stage.before?.(ctx);
        entered.push(stage);
      }
    },
    async settle(call, outcome) {
      const run = running.get(call);
      if (!run) return;
      running.delete(call);
      for (const stage of [...run.entered].reverse()) {
        // a failed call is charged nothing, whatever partial usage it recorded (as before stages charged failures what they report)
        const ok = outcome.status === 'ok';
        await stage.after?.(run.ctx, { ok, costMicros: ok ? outcome.costMicros : null });
      }
    },
  };
}
