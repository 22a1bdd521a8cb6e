import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import type { Journal } from '../journal/journal-service.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId, nowIso } from '../util/ids.js';
import { actingPrincipal, type Action, type ActionContext, type Outcome } from './action.js';

/** What an executor returns: its value, what it actually cost, and writes to commit with the record. */
export interface Executed<T> {
  value: T;
  costMicros: number | null;
  /** Extra writes (a span, …) committed in the same transaction as the action record. */
  alsoRecord?: (trx: Kysely<Database>) => Promise<void>;
}

export type Executor<T> = (ctx: ActionContext) => Promise<Executed<T>>;

/**
 * A concern every action goes through. `before` runs in order before the executor and refuses by
 * throwing an ApiError (the refusal is recorded with its code); `after` runs in reverse order once the
 * executor has finished or failed — e.g. settle a budget hold with the actual cost, or release it.
 */
export interface Stage {
  name: string;
  before?(ctx: ActionContext): Promise<void>;
  after?(ctx: ActionContext, result: { ok: boolean; costMicros: number | null }): Promise<void>;
}

export interface ActionPipelineOptions {
  db: Kysely<Database>;
  journal: Journal;
  /** identify has happened by now (the request was authenticated): authorize, hold, … in order. */
  stages: Stage[];
}

/** The journal stream of an actor's actions. */
export function actionStream(action: Action): string {
  const p = actingPrincipal(action.actor);
  return p ? `actions:${p.type}:${p.id}` : 'actions:anonymous';
}

/**
 * The one path of every action: stages (authorize, hold budget, …) → execute → record → settle.
 * Every action is recorded — allowed or refused, succeeded or failed — as one journal event that joins
 * the actor chain, the decision, the hold, the outcome, the cost and the trace.
 */
export function createActionPipeline({ db, journal, stages }: ActionPipelineOptions) {
  async function record(ctx: ActionContext, outcome: Outcome, extra?: Executed<unknown>['alsoRecord']) {
    const { action } = ctx;
    const payload = {
      actionId: ctx.id,
      kind: action.kind,
      actor: action.actor,
      resource: action.resource,
      argsSha256: ctx.argsSha256,
      args: action.args,
      decision: ctx.decision,
      hold: ctx.hold,
      settledMicros: ctx.settledMicros,
      outcome,
      startedAt: ctx.startedAt,
      latencyMs: Date.now() - Date.parse(ctx.startedAt),
      trace: action.trace ?? null,
      run: action.run ?? null,
      idempotencyKey: action.idempotencyKey ?? null,
      ...ctx.details,
    };
    const principal = actingPrincipal(action.actor);
    await db.transaction().execute(async (trx) => {
      await journal.append(
        {
          projectId: action.projectId,
          stream: actionStream(action),
          actor: principal?.type === 'key' || principal?.type === 'agent' || principal?.type === 'user'
            ? { type: principal.type, id: principal.id }
            : { type: 'system', id: principal?.id ?? 'anonymous' },
          events: [{ type: `action.${outcome.status}`, payload }],
        },
        trx,
      );
      if (extra) await extra(trx);
    });
  }

  /** Every stage's `before`, in order; a refusal is unwound, recorded as `action.denied` and rethrown. */
  async function authorize(action: Action, details: Record<string, unknown> = {}): Promise<ActionContext> {
    const ctx: ActionContext = {
      id: newId('act'),
      action,
      argsSha256: sha256Hex(canonicalJson(action.args ?? null)),
      startedAt: nowIso(),
      decision: null,
      hold: null,
      settledMicros: null,
      details: { ...details },
    };
    const entered: Stage[] = [];
    try {
      for (const stage of stages) {
        await stage.before?.(ctx);
        entered.push(stage);
      }
    } catch (err) {
      await unwind(ctx, entered, { ok: false, costMicros: null });
      const e = asApiError(err);
      await record(ctx, { status: 'denied', code: e.code, message: e.message });
      throw err;
    }
    return ctx;
  }

  /**
   * Every stage's `after`, in reverse (settle the holds with the actual cost, or release them), then
   * the record of how the action ended. `ctx` may come from another process: a stage keeps what it
   * must settle in the context, not beside it.
   */
  async function finish(
    ctx: ActionContext,
    result: { ok: boolean; costMicros: number | null },
    outcome: Outcome,
    alsoRecord?: Executed<unknown>['alsoRecord'],
  ): Promise<void> {
    await unwind(ctx, stages, result);
    await record(ctx, outcome, alsoRecord);
  }

  return {
    /** Runs one action through every stage. Refusals and failures are recorded, then rethrown. */
    async run<T>(action: Action, execute: Executor<T>): Promise<T> {
      const ctx = await authorize(action);
      let executed: Executed<T>;
      try {
        executed = await execute(ctx);
      } catch (err) {
        const e = asApiError(err);
        await finish(ctx, { ok: false, costMicros: null }, { status: 'error', code: e.code, message: e.message });
        throw err;
      }
      await unwind(ctx, stages, { ok: true, costMicros: executed.costMicros });
      try {
        await record(ctx, { status: 'ok' }, executed.alsoRecord);
      } catch (err) {
        if (!executed.alsoRecord) throw err;
        // The action happened: record it even if its extra writes cannot be, and say why.
        ctx.details.alsoRecordError = (err as Error).message;
        await record(ctx, { status: 'ok' });
      }
      return executed.value;
    },

    /**
     * The first half of an action the agent executes itself: the stages (authorize, hold) and, when
     * they allow it, the `action.authorized` record, with `alsoRecord` in its transaction. A refusal is
     * recorded and thrown, as in `run`. Hand the context to `finish` once the result is known.
     */
    async authorize(
      action: Action,
      options: {
        expiresAt: string;
        /** Facts recorded with every event of the action (from the first, a refusal included). */
        details?: Record<string, unknown>;
        alsoRecord?: (ctx: ActionContext, trx: Kysely<Database>) => Promise<void>;
      },
    ): Promise<ActionContext> {
      const ctx = await authorize(action, options.details);
      try {
        await record(ctx, { status: 'authorized', expiresAt: options.expiresAt }, options.alsoRecord && ((trx) => options.alsoRecord!(ctx, trx)));
      } catch (err) {
        // not recorded, so not authorized: release what the stages hold
        await unwind(ctx, stages, { ok: false, costMicros: null });
        throw err;
      }
      return ctx;
    },

    /**
     * The first half of an action executed in the server that must survive a crash (a payment): the
     * stages only, with no record unless they refuse. The caller keeps the context where recovery
     * finds it and ends the action with `finish`.
     */
    begin: (action: Action): Promise<ActionContext> => authorize(action),

    finish,
  };
}

async function unwind(ctx: ActionContext, entered: Stage[], result: { ok: boolean; costMicros: number | null }) {
  for (const stage of [...entered].reverse()) await stage.after?.(ctx, result);
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError('internal', (err as Error)?.message ?? String(err));
}

export type ActionPipeline = ReturnType<typeof createActionPipeline>;
