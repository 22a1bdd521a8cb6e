import type { ErrorCode } from '@hangar/protocol';

/** Every kind of thing an agent can do through Hangar. A new kind is a new executor, not a new path. */
export type ActionKind =
  | 'model.call'
  | 'embedding.call'
  | 'tool.call'
  | 'sandbox.exec'
  | 'payment.create'
  | 'run.start'
  | 'data.read'
  | 'data.write';

export interface Principal {
  type: 'user' | 'agent' | 'key' | 'service';
  id: string;
}

/** Who acts, outermost first: the user or service an agent acts for → the agent → its sub-agents. */
export interface ActorChain {
  principals: Principal[];
  /** The API key that authenticated the request, if one did. */
  keyId?: string;
  /** The credential (JWT id) that authenticated the request, if one did. */
  credentialId?: string;
}

export interface Action {
  kind: ActionKind;
  projectId: string;
  actor: ActorChain;
  /** What is acted on: a model name, a tool name, a payee… */
  resource: string;
  /** The arguments; hashed into the record (the full arguments go to the blob store with the record). */
  args: unknown;
  /** The most this action may cost, in micro-units: what a budget hold reserves. */
  maxCostMicros?: number;
  /**
   * The money the action moves, in micro-units of its own currency (a payment's amount), where that is
   * not a cost budgets reserve: what policies see as `context.amount` and a declared intent's
   * `maxSpendMicros` limits. See `actionAmount`.
   */
  amountMicros?: number;
  idempotencyKey?: string;
  run?: { runId: string; stepId: string };
  /** What the run declared it is going to do (an Intent); actions outside it are refused. */
  intent?: unknown;
  trace?: { traceId: string; spanId: string };
  /** A signed approval (x-hangar-approval) for exactly this action, when policy requires one. */
  approval?: string;
  /**
   * Why the executor's own rules want a person to approve this action (a payment above its agent's
   * approval threshold): a policy's allow becomes require_approval. A deny stays a deny.
   */
  requireApproval?: string;
  /**
   * How long the hold stages keep this action's holds before the ledger's sweeper voids them; the
   * stages' own default when unset. An action the agent executes itself sets it past its expiry.
   */
  holdTimeoutMs?: number;
}

/** What policy said. `policyIds` are the policies that determined it (empty for a default). */
export interface Decision {
  effect: 'allow' | 'deny' | 'require_approval';
  policyIds: string[];
  reason?: string;
}

export interface Hold {
  holdIds: string[];
  amountMicros: number;
}

/**
 * How an action ended, recorded as `action.<status>`. `authorized` is not an end: an action the agent
 * executes itself is recorded when it is allowed, then again with its result (`ok` / `error`), or as
 * `abandoned` when no result came before it expired.
 */
export type Outcome =
  | { status: 'ok' }
  | { status: 'authorized'; expiresAt: string }
  | { status: 'denied' | 'error' | 'abandoned'; code: ErrorCode | string; message: string };

/** The state of one action as it moves through the stages; what `record` writes. */
export interface ActionContext {
  id: string;
  action: Action;
  argsSha256: string;
  startedAt: string;
  decision: Decision | null;
  hold: Hold | null;
  settledMicros: number | null;
  /** Free-form facts an executor adds to the record (route taken, fallbacks, cache hit, …). */
  details: Record<string, unknown>;
}

/**
 * The context as stored for another request or process to finish the action (JSON): without the
 * approval token, which is spent once and is not kept.
 */
export function storedContext(ctx: ActionContext): string {
  const { approval: _token, ...action } = ctx.action;
  return JSON.stringify({ ...ctx, action });
}

/** The amount policies and intents judge an action by: the money it moves, else its worst-case cost. */
export function actionAmount(action: Action): number {
  return action.amountMicros ?? action.maxCostMicros ?? 0;
}

/** The principal that acted: the innermost of the chain (a sub-agent, an agent, or the key). */
export function actingPrincipal(actor: ActorChain): Principal | undefined {
  return actor.principals.at(-1);
}
