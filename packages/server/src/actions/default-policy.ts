import { ApiError } from '../http/api-error.js';
import type { ActionKind } from './action.js';
import type { Stage } from './action-pipeline.js';

/** Kinds allowed when no policy speaks to them; everything else is denied (fail closed). */
const ALLOWED_BY_DEFAULT: ReadonlySet<ActionKind> = new Set(['model.call', 'embedding.call', 'data.read', 'data.write', 'run.start']);

/**
 * The authorize stage until a project has policies: model calls and data access are allowed, tools,
 * code execution and payments are denied — they need a policy that allows them.
 */
export function defaultPolicyStage(): Stage {
  return {
    name: 'authorize',
    async before(ctx) {
      const { kind } = ctx.action;
      if (ALLOWED_BY_DEFAULT.has(kind)) {
        ctx.decision = { effect: 'allow', policyIds: [], reason: `${kind} is allowed by default` };
        return;
      }
      ctx.decision = { effect: 'deny', policyIds: [], reason: `no policy allows ${kind}` };
      throw new ApiError('policy_denied', `No policy allows ${kind} on '${ctx.action.resource}'; ${kind} is denied by default.`, {
        details: { kind, resource: ctx.action.resource },
      });
    },
  };
}
