import { z } from 'zod';
import { IdempotencyKey, Micros } from './ledger.js';
import { Timestamp } from './schemas.js';

/**
 * The kinds of action an agent executes itself and has Hangar authorize and record
 * (POST /v1/actions). Model calls and payments are not among them: the gateway and POST /v1/payments
 * execute those.
 */
export const AGENT_ACTION_KINDS = ['tool.call', 'sandbox.exec', 'run.start', 'data.read', 'data.write'] as const;

/** A run's or a step's id, as actions and the gateway's x-hangar-run-id / x-hangar-step-id take it. */
export const RUN_OR_STEP_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

const RunOrStepId = z.string().regex(RUN_OR_STEP_ID, 'must be 1 to 200 letters, digits or _.:- characters');

export const AuthorizeActionRequest = z
  .object({
    kind: z.enum(AGENT_ACTION_KINDS),
    resource: z.string().trim().min(1).max(500).describe('What is acted on: a tool name, a sandbox, a run, a dataset…'),
    args: z.unknown().optional().describe('The arguments, hashed into the record and matched by policies and approvals'),
    estimatedCostMicros: Micros.optional().describe('The most the action may cost: held on budgets and the spend cap until the result settles it'),
    run: z.object({ runId: RunOrStepId, stepId: RunOrStepId }).strict().optional().describe("The run step taking the action: the run's budgets and intent apply"),
    trace: z
      .object({ traceId: z.string().regex(/^[0-9a-f]{32}$/), spanId: z.string().regex(/^[0-9a-f]{16}$/) })
      .strict()
      .optional(),
    intent: z.unknown().optional().describe("The run's declared intent (as for runs); combined with the credential's"),
    ttlSeconds: z.number().int().min(1).max(3600).default(300).describe('How long the action stays pending without a result before it is abandoned'),
    idempotencyKey: IdempotencyKey,
  })
  .strict();
export type AuthorizeActionRequest = z.input<typeof AuthorizeActionRequest>;

export const ActionResultRequest = z
  .object({
    status: z.enum(['ok', 'error']),
    costMicros: Micros.optional().describe('What the action actually cost; without it a success is charged what was held, a failure nothing'),
    output: z.string().max(4000).optional().describe('A short summary of what the action produced'),
    error: z.string().max(4000).optional().describe('What went wrong, when status is error'),
  })
  .strict();
export type ActionResultRequest = z.input<typeof ActionResultRequest>;

/** `pending` (authorized, executing) → `ok` | `error` (reported) | `abandoned` (expired without a result). */
export const AGENT_ACTION_STATUSES = ['pending', 'ok', 'error', 'abandoned'] as const;

export const AgentAction = z.object({
  id: z.string(),
  kind: z.enum(AGENT_ACTION_KINDS),
  resource: z.string(),
  status: z.enum(AGENT_ACTION_STATUSES),
  decision: z.object({
    effect: z.enum(['allow', 'deny', 'require_approval']),
    policyIds: z.array(z.string()).describe('The policies that determined the decision (empty for a default)'),
    reason: z.string().nullable(),
  }),
  approvalId: z.string().nullable().describe('The approval redeemed to allow it, if one was'),
  argsSha256: z.string(),
  heldMicros: z.number().int().describe('What is (or was) held on budgets and the spend cap'),
  costMicros: z.number().int().nullable().describe('The actual cost, once reported'),
  output: z.string().nullable(),
  error: z.string().nullable(),
  idempotencyKey: z.string(),
  expiresAt: Timestamp,
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type AgentAction = z.infer<typeof AgentAction>;
