import type { Kysely } from 'kysely';
import type { ActionResultRequest, AgentAction, AuthorizeActionRequest } from '@hangar/protocol';
import type { z } from 'zod';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import type { ActionPipeline } from './action-pipeline.js';
import { actingPrincipal, storedContext, type Action, type ActionContext, type ActorChain, type Outcome } from './action.js';
import { createAgentActionsStore, type AgentActionRow } from './agent-actions-store.js';

type AuthorizeInput = z.output<typeof AuthorizeActionRequest>;
type ResultInput = z.output<typeof ActionResultRequest>;

export interface AgentActionsOptions {
  db: Kysely<Database>;
  pipeline: ActionPipeline;
  /** The clock, for expiries and the sweeper; tests move it. */
  now?: () => number;
}

/** What a finished action answers with, stored with its row. */
interface Finished {
  status: 'ok' | 'error' | 'abandoned';
  costMicros: number | null;
  output: string | null;
  error: string | null;
  finishedAt: string;
}

/** The holds outlive the action's expiry by this much, so that the sweeper (not the ledger's) ends it. */
const HOLD_GRACE_MS = 5 * 60_000;
/** A result claimed this long ago and never finished was claimed by a process that died. */
const STALE_CLAIM_MS = 60_000;

function principalOf(actor: ActorChain): string {
  const p = actingPrincipal(actor);
  return p ? `${p.type}:${p.id}` : 'anonymous';
}

function contextOf(row: AgentActionRow): ActionContext {
  return JSON.parse(row.context) as ActionContext;
}

function heldOf(ctx: ActionContext): number {
  // with no budget in its chain an action's estimate is asked for but nothing is held
  const onBudgets = ctx.hold && ctx.hold.holdIds.length > 0 ? ctx.hold.amountMicros : 0;
  return Math.max(onBudgets, Number(ctx.details.spendCapHeldMicros ?? 0));
}

function toView(row: AgentActionRow): AgentAction {
  const ctx = contextOf(row);
  const finished = row.status === 'ok' || row.status === 'error' || row.status === 'abandoned' ? (JSON.parse(row.result!) as Finished) : null;
  return {
    id: row.id,
    kind: row.kind as AgentAction['kind'],
    resource: row.resource,
    // a result being settled is still pending to whoever reads it
    status: finished ? finished.status : 'pending',
    decision: {
      effect: ctx.decision?.effect ?? 'allow',
      policyIds: ctx.decision?.policyIds ?? [],
      reason: ctx.decision?.reason ?? null,
    },
    approvalId: typeof ctx.details.approvalId === 'string' ? ctx.details.approvalId : null,
    argsSha256: ctx.argsSha256,
    heldMicros: heldOf(ctx),
    costMicros: finished?.costMicros ?? null,
    output: finished?.output ?? null,
    error: finished?.error ?? null,
    idempotencyKey: row.idempotency_key,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    finishedAt: finished?.finishedAt ?? null,
  };
}

/**
 * Actions an agent executes itself (a tool call, a sandbox run, a data read…) put through the one
 * control point: `authorize` runs the pipeline's stages and records the action as authorized (its
 * costs held), `report` settles the holds with the actual cost and records the outcome, and
 * `sweepExpired` abandons actions whose agent never reported, releasing what they hold.
 */
export function createAgentActions({ db, pipeline, now = Date.now }: AgentActionsOptions) {
  const iso = (ms = now()) => new Date(ms).toISOString();

  function replay(row: AgentActionRow, requestHash: string, principal: string): AgentAction {
    if (row.request_hash !== requestHash || row.principal !== principal) {
      throw new ApiError('idempotency_conflict', `Idempotency key ${row.idempotency_key} was used for another action.`, { details: { actionId: row.id } });
    }
    return toView(row);
  }

  /** Settles a claimed action through the pipeline's stages and records how it ended, with its row. */
  async function complete(row: AgentActionRow, end: Omit<Finished, 'finishedAt'>, outcome: Outcome): Promise<AgentAction> {
    const ctx = contextOf(row);
    const finished: Finished = { ...end, finishedAt: iso() };
    ctx.details.result = { costMicros: end.costMicros, output: end.output, error: end.error };
    const reported = end.status === 'abandoned' ? null : (JSON.parse(row.result!) as ResultInput).costMicros ?? null;
    await pipeline.finish(ctx, { ok: end.status === 'ok', costMicros: reported }, outcome, async (trx) => {
      const done = await createAgentActionsStore(trx).finish(row.project_id, row.id, { status: end.status, result: JSON.stringify(finished), at: finished.finishedAt });
      if (!done) throw new ApiError('conflict', `Action ${row.id} was finished by another request.`);
    });
    return toView((await createAgentActionsStore(db).get(row.project_id, row.id))!);
  }

  /** Finishes a claimed action with what its claim stored: the agent's result, or the sweeper's abandonment. */
  function completeClaimed(row: AgentActionRow): Promise<AgentAction> {
    const input = JSON.parse(row.result!) as ResultInput | { status: 'abandoned' };
    if (input.status === 'abandoned') {
      return complete(
        row,
        { status: 'abandoned', costMicros: null, output: null, error: null },
        { status: 'abandoned', code: 'expired', message: `No result was reported by ${row.expires_at}; what the action held was released.` },
      );
    }
    const held = heldOf(contextOf(row));
    const costMicros = input.costMicros ?? (input.status === 'ok' && held > 0 ? held : null);
    const outcome: Outcome =
      input.status === 'ok' ? { status: 'ok' } : { status: 'error', code: 'action_failed', message: input.error ?? 'The action failed.' };
    return complete(row, { status: input.status, costMicros, output: input.output ?? null, error: input.error ?? null }, outcome);
  }

  return {
    /**
     * Authorizes an action the agent is about to execute: scopes and intent, Cedar policies, approvals
     * (an approval token in `approval`), the spend cap and budgets (the estimated cost is held). A
     * refusal throws its code (recorded, nothing held); an allowed action is pending until `report`.
     */
    async authorize(request: { projectId: string; actor: ActorChain; input: AuthorizeInput; approval?: string | undefined }): Promise<AgentAction> {
      const { projectId, actor, input } = request;
      const store = createAgentActionsStore(db);
      const { idempotencyKey, ...body } = input;
      const requestHash = sha256Hex(canonicalJson(body));
      const principal = principalOf(actor);
      const existing = await store.getByKey(projectId, idempotencyKey);
      if (existing) return replay(existing, requestHash, principal);

      const createdAt = now();
      const expiresAt = iso(createdAt + input.ttlSeconds * 1000);
      const action: Action = {
        kind: input.kind,
        projectId,
        actor,
        resource: input.resource,
        args: input.args ?? null,
        ...(input.estimatedCostMicros !== undefined ? { maxCostMicros: input.estimatedCostMicros } : {}),
        ...(input.run ? { run: input.run } : {}),
        ...(input.trace ? { trace: input.trace } : {}),
        ...(input.intent !== undefined ? { intent: input.intent } : {}),
        ...(request.approval ? { approval: request.approval } : {}),
        holdTimeoutMs: input.ttlSeconds * 1000 + HOLD_GRACE_MS,
      };
      let id: string | undefined;
      try {
        // The agent's key is not the holds' key: each attempt holds afresh (a refused attempt's
        // released holds must not be replayed by the next), and the row's unique key makes one win.
        const ctx = await pipeline.authorize(action, {
          expiresAt,
          details: { idempotencyKey },
          alsoRecord: async (authorized, trx) => {
            id = authorized.id;
            await createAgentActionsStore(trx).insert({
              id: authorized.id,
              project_id: projectId,
              kind: input.kind,
              resource: input.resource,
              principal,
              status: 'pending',
              idempotency_key: idempotencyKey,
              request_hash: requestHash,
              context: storedContext(authorized),
              result_hash: null,
              result: null,
              expires_at: expiresAt,
              created_at: iso(createdAt),
              updated_at: iso(createdAt),
            });
          },
        });
        id = ctx.id;
      } catch (err) {
        // the same key authorized concurrently: that action is the answer (this attempt's holds are released)
        const raced = id ? await store.getByKey(projectId, idempotencyKey) : undefined;
        if (raced) return replay(raced, requestHash, principal);
        throw err;
      }
      return toView((await store.get(projectId, id))!);
    },

    /**
     * Reports how a pending action went: settles its holds with the actual cost (releasing the rest)
     * and records the outcome. The same result again answers the same; another result, or a result
     * for an action already finished or abandoned, is a conflict.
     */
    async report(request: { projectId: string; actor: ActorChain; id: string; input: ResultInput }): Promise<AgentAction> {
      const { projectId, id, input } = request;
      const store = createAgentActionsStore(db);
      const row = await store.get(projectId, id);
      if (!row) throw new ApiError('not_found', `No action ${id}.`);
      if (row.principal !== principalOf(request.actor)) {
        throw new ApiError('forbidden', `Action ${id} was authorized for another principal; only it may report the result.`);
      }
      const resultHash = sha256Hex(canonicalJson(input));
      if (row.status === 'pending' && (await store.claim(projectId, id, { resultHash, result: JSON.stringify(input), at: iso() }))) {
        return completeClaimed((await store.get(projectId, id))!);
      }
      const current = (await store.get(projectId, id))!;
      if ((JSON.parse(current.result ?? '{}') as { status?: string }).status === 'abandoned') {
        throw new ApiError('conflict', `Action ${id} expired at ${current.expires_at} without a result; it was recorded as abandoned.`, { details: { status: 'abandoned' } });
      }
      if (current.result_hash !== resultHash) {
        throw new ApiError('conflict', `Action ${id} has a result already, and it is another one.`, { details: { status: toView(current).status } });
      }
      if (current.status === 'reporting') {
        throw new ApiError('conflict', `The result of action ${id} is being recorded; ask again.`, { details: { status: 'pending' } });
      }
      return toView(current);
    },

    async get(projectId: string, id: string): Promise<AgentAction> {
      const row = await createAgentActionsStore(db).get(projectId, id);
      if (!row) throw new ApiError('not_found', `No action ${id}.`);
      return toView(row);
    },

    /**
     * Records pending actions past their expiry as abandoned and releases their holds (a crashed agent
     * leaves nothing held), and finishes results a dead process claimed but did not record. Safe with
     * many processes sweeping: each action is claimed by exactly one. Returns how many it ended.
     */
    async sweepExpired(limit = 100): Promise<number> {
      const store = createAgentActionsStore(db);
      let ended = 0;
      for (const row of await store.due(iso(), iso(now() - STALE_CLAIM_MS), limit)) {
        try {
          if (row.status === 'pending') {
            const abandoned = { status: 'abandoned' as const };
            const claimed = await store.claim(row.project_id, row.id, { resultHash: sha256Hex(canonicalJson(abandoned)), result: JSON.stringify(abandoned), at: iso() });
            if (!claimed) continue; // reported (or swept) meanwhile
          }
          // pending and now claimed, or claimed long ago by a process that died before finishing it
          await completeClaimed((await store.get(row.project_id, row.id))!);
          ended++;
        } catch (err) {
          // another process finished it first
          if (!(err instanceof ApiError && err.code === 'conflict')) throw err;
        }
      }
      return ended;
    },
  };
}

export type AgentActions = ReturnType<typeof createAgentActions>;
