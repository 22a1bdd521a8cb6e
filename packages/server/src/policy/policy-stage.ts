import { Intent as IntentSchema, type Intent } from '@hangar/protocol';
import { actionAmount, type ActionContext, type Decision } from '../actions/action.js';
import type { Stage } from '../actions/action-pipeline.js';
import { ApiError } from '../http/api-error.js';
import type { CredentialSpend } from '../identity/credential-spend.js';
import type { CredentialFacts, Identity } from '../identity/identity-service.js';
import { combineIntents, intentViolation, scopeViolation } from './intent.js';
import type { Policies } from './policy-service.js';

/** Where approvals are requested and redeemed (the approvals service). */
export interface ApprovalGate {
  /** Consumes a presented approval for exactly this action, or refuses with approval_invalid. */
  redeem(ctx: ActionContext, presented: string): Promise<void>;
  /** Records a request to approve this action; returns its id. */
  request(ctx: ActionContext, decision: Decision): Promise<string>;
}

export interface CedarPolicyStageOptions {
  policies: Policies;
  identity?: Identity;
  approvals?: ApprovalGate;
}

function runIntent(ctx: ActionContext): Intent | null {
  if (ctx.action.intent === undefined || ctx.action.intent === null) return null;
  const parsed = IntentSchema.safeParse(ctx.action.intent);
  if (!parsed.success) throw new ApiError('validation_failed', 'The declared intent is not valid.', { details: { issues: parsed.error.issues } });
  return parsed.data;
}

async function factsOf(ctx: ActionContext, identity?: Identity): Promise<CredentialFacts | undefined> {
  const id = ctx.action.actor.credentialId;
  if (!id || !identity) return undefined;
  const facts = await identity.credentialFacts(id);
  if (!facts || facts.projectId !== ctx.action.projectId) throw new ApiError('credential_invalid', 'The credential of this action is unknown.');
  return facts;
}

/**
 * The authorize stage: the credential's scopes, the declared intent (credential's and run's), then the
 * project's Cedar policies. Sets ctx.decision with the determining policy ids; refuses with
 * policy_denied, intent_violation or approval_required; lets an approved action through once.
 */
export function cedarPolicyStage({ policies, identity, approvals }: CedarPolicyStageOptions): Stage {
  return {
    name: 'authorize',
    async before(ctx) {
      const { action } = ctx;
      const facts = await factsOf(ctx, identity);
      if (facts) {
        const outside = scopeViolation(action, facts.scopes);
        if (outside) {
          ctx.decision = { effect: 'deny', policyIds: [], reason: outside };
          throw new ApiError('policy_denied', `Refused: ${outside}.`, { details: { kind: action.kind, resource: action.resource, credentialId: facts.id } });
        }
      }
      const intent = combineIntents(facts?.intent ?? null, runIntent(ctx));
      const violation = intentViolation(action, intent);
      if (violation) {
        ctx.decision = { effect: 'deny', policyIds: [], reason: `intent violation: ${violation.rule}` };
        ctx.details.intentViolation = { rule: violation.rule, message: violation.message, intent };
        throw new ApiError('intent_violation', violation.message, { details: { violation: violation.rule, intent } });
      }

      const decision = await policies.decide(action.projectId, {
        kind: action.kind,
        resource: action.resource,
        actor: action.actor,
        args: action.args,
        argsSha256: ctx.argsSha256,
        amountMicros: actionAmount(action),
        intent,
        delegationDepth: facts?.depth ?? -1,
        now: new Date(ctx.startedAt),
      });
      ctx.decision = { effect: decision.effect, policyIds: decision.policyIds, reason: decision.reason };
      if (decision.effect === 'allow' && action.requireApproval) {
        ctx.decision = { effect: 'require_approval', policyIds: decision.policyIds, reason: action.requireApproval };
      }
      if (decision.errors.length > 0) ctx.details.policyErrors = decision.errors;
      switch (ctx.decision.effect) {
        case 'allow':
          return;
        case 'deny':
          throw new ApiError('policy_denied', `Policy does not allow ${action.kind} on '${action.resource}': ${decision.reason}.`, {
            details: { kind: action.kind, resource: action.resource, policyIds: decision.policyIds },
          });
        case 'require_approval': {
          if (!approvals) {
            throw new ApiError('policy_denied', `${action.kind} on '${action.resource}' needs an approval, and approvals are not set up on this server.`, {
              details: { kind: action.kind, resource: action.resource, policyIds: decision.policyIds },
            });
          }
          if (action.approval) {
            await approvals.redeem(ctx, action.approval);
            ctx.details.approved = true;
            return;
          }
          const approvalId = await approvals.request(ctx, ctx.decision);
          ctx.details.approvalId = approvalId;
          throw new ApiError('approval_required', `${action.kind} on '${action.resource}' needs an approval; wait for ${approvalId}, then present it.`, {
            details: { approvalId, policyIds: decision.policyIds },
          });
        }
      }
    },
  };
}

/**
 * Spend caps of credentials: refuses an action whose maximum cost exceeds what remains of its
 * credential's cap (or of any credential it was delegated from), holds that maximum on all of their
 * caps at once (so concurrent actions cannot pass a cap together), and charges the actual cost.
 */
export function credentialSpendStage(identity: Identity, spend: CredentialSpend, options: { timeoutMs?: number } = {}): Stage {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  // what is held lives in the context (details.spendCapHold), so that an action finished by another
  // request or process (one the agent executes itself) settles it
  const heldOf = (ctx: ActionContext) => ctx.details.spendCapHold as { holdIds: string[]; amountMicros: number } | undefined;
  return {
    name: 'credential-spend',
    async before(ctx) {
      const id = ctx.action.actor.credentialId;
      if (!id) return;
      const facts = await identity.credentialFacts(id);
      if (!facts) throw new ApiError('credential_invalid', 'The credential of this action is unknown.');
      const remaining = await identity.remainingSpend(facts);
      const max = ctx.action.maxCostMicros ?? 0;
      if (max > remaining) {
        throw new ApiError('spend_cap_exceeded', `The action may cost ${max} micro-units; the credential has ${remaining} left.`, {
          details: { remainingMicros: remaining, maxCostMicros: max },
        });
      }
      if (max <= 0) return;
      const holdIds = await spend.hold(ctx.action.projectId, facts, max, {
        // per attempt, not per request: a retry must not get back a hold an earlier attempt released
        idempotencyKey: `credential-spend:${ctx.id}`,
        timeoutMs: ctx.action.holdTimeoutMs ?? timeoutMs,
      });
      ctx.details.spendCapHold = { holdIds, amountMicros: max };
      ctx.details.spendCapHeldMicros = max;
    },
    async after(ctx, result) {
      const id = ctx.action.actor.credentialId;
      if (!id) return;
      const held = heldOf(ctx);
      delete ctx.details.spendCapHold;
      // a success that reports no cost is charged what was held (fail closed), as budgets do; a
      // failure what it reports it cost
      const actual = result.costMicros ?? (result.ok ? (held?.amountMicros ?? 0) : 0);
      if (held) {
        try {
          if (actual > 0) {
            const { overrunMicros, replayed } = await spend.settle(ctx.action.projectId, held.holdIds, actual);
            if (overrunMicros > 0) ctx.details.credentialOverrunMicros = overrunMicros;
            // settled before, by another process finishing the same action: its spend is counted
            if (replayed) return;
          } else {
            await spend.release(ctx.action.projectId, held.holdIds);
          }
        } catch (err) {
          // the action has happened (or not); its record says the hold could not be settled (it expires)
          ctx.details.credentialSettleError = (err as Error).message;
        }
      }
      if (actual <= 0) return;
      const facts = await identity.credentialFacts(id);
      if (facts) await identity.addSpend(facts, actual);
    },
  };
}
