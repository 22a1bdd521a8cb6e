import type { ActionResultRequest, AgentAction, AuthorizeActionRequest } from '@hangar/protocol';
import { enc, type Call } from './call.js';


/** What {@link ActionMethods.guard} needs to know to put a tool function through Hangar. */
export interface GuardOptions<A extends unknown[], R> {
  /** The action kind; `tool.call` by default. */
  kind?: AuthorizeActionRequest['kind'];
  /** The tool (sandbox, dataset…) name policies and scopes see. */
  resource: string;
  /** The arguments Hangar records and policies match; the first argument by default. */
  args?: (...args: A) => unknown;
  /** The most one call may cost (micro-units), held on budgets and the spend cap until it settles. */
  estimatedCostMicros?: number | ((...args: A) => number);
  /** What a call actually cost; without it a success is charged the estimate. */
  cost?: (result: R) => number | undefined;
  /** A short summary of the result for the record (at most 4000 characters). */
  summarize?: (result: R) => string;
  /** A key per call (derive it from a run and step id, so a replayed step is not authorized twice); random by default. */
  idempotencyKey?: (...args: A) => string;
  /** The run step taking the action. */
  run?: { runId: string; stepId: string };
  /** How long the action may run before Hangar abandons it and releases its holds (seconds, default 300). */
  ttlSeconds?: number;
}

/** A tool function guarded by {@link ActionMethods.guard}: the same signature, plus a way to present an approval. */
export type GuardedTool<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  /** The same tool, presenting a signed approval (`(await hangar.approvals.get(id)).token`) for its next call. */
  withApproval(approval: string): (...args: A) => Promise<R>;
};

function randomKey(): string {
  return `act-${globalThis.crypto.randomUUID()}`;
}

/** Actions the agent executes itself, authorized and recorded by Hangar: the `actions` part of the client. */
export function actionMethods(call: Call) {
  const authorize = (request: AuthorizeActionRequest, options: { approval?: string } = {}) =>
    call<AgentAction>('POST', '/v1/actions', request, undefined, options.approval ? { 'x-hangar-approval': options.approval } : {});
  const result = (id: string, request: ActionResultRequest) => call<AgentAction>('POST', `/v1/actions/${enc(id)}/result`, request);

  function guard<A extends unknown[], R>(tool: (...args: A) => Promise<R> | R, options: GuardOptions<A, R>): GuardedTool<A, R> {
    const run = (approval: string | undefined) => async (...args: A): Promise<R> => {
      const estimate = typeof options.estimatedCostMicros === 'function' ? options.estimatedCostMicros(...args) : options.estimatedCostMicros;
      const action = await authorize(
        {
          kind: options.kind ?? 'tool.call',
          resource: options.resource,
          args: options.args ? options.args(...args) : (args[0] ?? null),
          idempotencyKey: options.idempotencyKey ? options.idempotencyKey(...args) : randomKey(),
          ...(estimate !== undefined ? { estimatedCostMicros: estimate } : {}),
          ...(options.run ? { run: options.run } : {}),
          ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
        },
        approval ? { approval } : {},
      );
      let value: R;
      try {
        value = await tool(...args);
      } catch (err) {
        // the failure is recorded (and the hold released) before it reaches the caller
        await result(action.id, { status: 'error', error: String((err as Error)?.message ?? err).slice(0, 4000) });
        throw err;
      }
      const costMicros = options.cost?.(value);
      await result(action.id, {
        status: 'ok',
        ...(costMicros !== undefined ? { costMicros } : {}),
        ...(options.summarize ? { output: options.summarize(value).slice(0, 4000) } : {}),
      });
      return value;
    };
    return Object.assign(run(undefined), { withApproval: (approval: string) => run(approval) });
  }

  return {
    actions: {
      /**
       * Asks Hangar to authorize an action the agent is about to execute itself (a tool call, a
       * sandbox run, a data read…): policy, intent, approvals, spend cap and budgets, the estimated cost
       * held. Refused: throws the code (`policy_denied`, `intent_violation`, `budget_exceeded`, or an
       * `ApprovalRequiredError`). Allowed: the pending action; report its result with `result`.
       * @example
       * const action = await hangar.actions.authorize({ kind: 'tool.call', resource: 'search', args: { q }, estimatedCostMicros: 2000, idempotencyKey: `${runId}:${stepId}` });
       */
      authorize,
      /**
       * Reports how an authorized action went: settles its holds with the actual cost and records the
       * outcome. The same result again answers the same; another result is `conflict`.
       * @example
       * await hangar.actions.result(action.id, { status: 'ok', costMicros: 1500, output: '3 results' });
       */
      result,
      get: (id: string) => call<AgentAction>('GET', `/v1/actions/${enc(id)}`),
      /**
       * Wraps a tool function so that every call is authorized first, then reported — its result, or
       * its error (rethrown) when it throws. A call that needs a person's approval throws
       * `ApprovalRequiredError` without running the tool; once approved, call
       * `guarded.withApproval(token)(...args)`.
       * @example
       * const search = hangar.actions.guard(async (q: string) => web.search(q), { resource: 'search', args: (q) => ({ q }) });
       * const hits = await search('hangar');
       */
      guard,
    },
  };
}

export type ActionMethods = ReturnType<typeof actionMethods>['actions'];
