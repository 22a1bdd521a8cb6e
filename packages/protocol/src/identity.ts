import { z } from 'zod';
import { Timestamp } from './schemas.js';

/** Every kind of action an agent can take through Hangar; what credential scopes and policies name. */
export const ACTION_KINDS = [
  'model.call',
  'embedding.call',
  'tool.call',
  'sandbox.exec',
  'payment.create',
  'run.start',
  'data.read',
  'data.write',
] as const;
export const ActionKindName = z.enum(ACTION_KINDS);

const ScopeList = z.array(z.string().min(1).max(200)).max(200);

/**
 * What a credential may do. Each list names allowed values; `"*"` allows any. A delegated credential's
 * lists must be subsets of its parent's.
 */
export const Scopes = z
  .object({
    models: ScopeList.default([]).describe('Model names the credential may call, or ["*"]'),
    tools: ScopeList.default([]).describe('Tool names the credential may call, or ["*"]'),
    actions: z
      .array(z.union([ActionKindName, z.literal('*')]))
      .max(20)
      .default([])
      .describe('Action kinds the credential may take, or ["*"]'),
  })
  .strict();
export type Scopes = z.infer<typeof Scopes>;

/** What an agent declares it is going to do; actions outside it are refused with intent_violation. */
export const Intent = z
  .object({
    readOnly: z.boolean().optional().describe('No writes, payments or code execution'),
    tools: ScopeList.optional().describe('The only tools it will call'),
    domains: ScopeList.optional().describe('The only domains its tool calls reach (arguments.url / arguments.domain)'),
    maxSpendMicros: z.number().int().min(0).optional().describe('The most one action may cost'),
    purpose: z.string().max(500).optional(),
  })
  .strict();
export type Intent = z.infer<typeof Intent>;

export const ActingFor = z.object({
  type: z.enum(['user', 'service']),
  id: z.string().min(1).max(200),
});
export type ActingFor = z.infer<typeof ActingFor>;

export const AgentName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits and . _ - only, starting with a letter or digit');

export const Agent = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  owner: z.string(),
  description: z.string(),
  labels: z.record(z.string(), z.string()),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable().describe('Set once the agent is revoked: every credential in its name stops working'),
});
export type Agent = z.infer<typeof Agent>;

export const CreateAgentRequest = z
  .object({
    name: AgentName,
    owner: z.string().trim().min(1).max(200).describe('Who answers for the agent: a person or team'),
    description: z.string().max(2000).default(''),
    labels: z.record(z.string().max(100), z.string().max(200)).default({}),
  })
  .strict();
export type CreateAgentRequest = z.input<typeof CreateAgentRequest>;

export const ChainPrincipal = z.object({ type: z.enum(['user', 'agent', 'key', 'service']), id: z.string() });

export const Credential = z.object({
  id: z.string().describe('The JWT id (jti)'),
  agentId: z.string(),
  parentId: z.string().nullable().describe('The credential this one was delegated or exchanged from'),
  kind: z.enum(['credential', 'exchanged']),
  audience: z.string(),
  actingFor: ActingFor,
  chain: z.array(ChainPrincipal).describe('Who acts, outermost first: the user or service → agent → sub-agents'),
  scopes: Scopes,
  spendCapMicros: z.number().int(),
  spentMicros: z.number().int(),
  intent: Intent.nullable(),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
  revokedAt: Timestamp.nullable(),
});
export type Credential = z.infer<typeof Credential>;

export const IssueCredentialRequest = z
  .object({
    actingFor: ActingFor.describe('The user or service the agent acts for'),
    scopes: Scopes,
    spendCapMicros: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    ttlSeconds: z.number().int().min(1).max(86_400).default(3600),
    intent: Intent.optional(),
  })
  .strict();
export type IssueCredentialRequest = z.input<typeof IssueCredentialRequest>;

export const IssuedCredential = z.object({
  token: z.string().describe('The signed credential (a JWT); send it as "Authorization: Bearer …"'),
  credential: Credential,
});
export type IssuedCredential = z.infer<typeof IssuedCredential>;

export const DelegateRequest = z
  .object({
    agentId: z.string().min(1).max(100).describe('The sub-agent that receives the credential'),
    scopes: Scopes,
    spendCapMicros: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    ttlSeconds: z.number().int().min(1).max(86_400).optional().describe("Defaults to the parent's remaining lifetime"),
    intent: Intent.optional().describe("Defaults to the parent's"),
  })
  .strict();
export type DelegateRequest = z.input<typeof DelegateRequest>;

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** RFC 8693 token exchange request (JSON or form-encoded). */
export const TokenExchangeRequest = z.object({
  grant_type: z.literal(TOKEN_EXCHANGE_GRANT),
  subject_token: z.string().min(1).max(8192),
  subject_token_type: z
    .enum([JWT_TOKEN_TYPE, 'urn:ietf:params:oauth:token-type:access_token'])
    .optional(),
  audience: z.string().min(1).max(500).optional(),
  resource: z.string().min(1).max(500).optional(),
  requested_token_type: z.literal(JWT_TOKEN_TYPE).optional(),
});
export type TokenExchangeRequest = z.input<typeof TokenExchangeRequest>;

export const TokenExchangeResponse = z.object({
  access_token: z.string(),
  issued_token_type: z.literal(JWT_TOKEN_TYPE),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});
export type TokenExchangeResponse = z.infer<typeof TokenExchangeResponse>;

export const PolicyName = AgentName;

export const Policy = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  description: z.string(),
  text: z.string().describe('Cedar source: one or more policy statements'),
  cedarIds: z.array(z.string()).describe('The ids its statements have in decisions: the policy id, or id.0, id.1, … for several'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Policy = z.infer<typeof Policy>;

export const SavePolicyRequest = z
  .object({
    name: PolicyName,
    description: z.string().max(2000).default(''),
    text: z.string().min(1).max(100_000),
  })
  .strict();
export type SavePolicyRequest = z.input<typeof SavePolicyRequest>;

/** "Would this be allowed?": an action to decide, by the saved policies or by draft text. */
export const PolicyCheckRequest = z
  .object({
    kind: ActionKindName,
    resource: z.string().min(1).max(500),
    principal: ChainPrincipal.optional().describe('Who acts; defaults to the calling key or credential'),
    actingFor: ActingFor.optional().describe('The user or service the principal agent acts for'),
    args: z.unknown().optional(),
    amountMicros: z.number().int().min(0).optional(),
    intent: Intent.optional(),
    delegationDepth: z.number().int().min(-1).max(100).optional(),
    draft: z.string().max(100_000).optional().describe('Decide with this Cedar text instead of the saved policies'),
  })
  .strict();
export type PolicyCheckRequest = z.input<typeof PolicyCheckRequest>;

export const PolicyDecision = z.object({
  effect: z.enum(['allow', 'deny', 'require_approval']),
  policyIds: z.array(z.string()),
  reason: z.string(),
  errors: z.array(z.string()).describe('Policies that failed to evaluate (they are skipped)'),
});
export type PolicyDecision = z.infer<typeof PolicyDecision>;

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'used'] as const;

export const Approval = z.object({
  id: z.string(),
  projectId: z.string(),
  status: z.enum(APPROVAL_STATUSES),
  kind: ActionKindName,
  resource: z.string(),
  args: z.unknown().describe('The arguments of the action awaiting approval'),
  argsSha256: z.string(),
  costMicros: z.number().int().nullable().describe('The most the action may cost'),
  actor: z.object({ principals: z.array(ChainPrincipal), keyId: z.string().optional(), credentialId: z.string().optional() }),
  reason: z.string().describe('Why approval is needed: the policies that asked for it'),
  policyIds: z.array(z.string()),
  requestedAt: Timestamp,
  expiresAt: Timestamp.describe('A request not decided by then expires'),
  decidedBy: z.string().nullable(),
  decidedAt: Timestamp.nullable(),
  note: z.string().nullable(),
  token: z
    .string()
    .nullable()
    .describe('Once approved: the signed decision record; present it as "x-hangar-approval" to run the action, once'),
  validUntil: Timestamp.nullable().describe('An approval not used by then is useless'),
  usedAt: Timestamp.nullable(),
});
export type Approval = z.infer<typeof Approval>;

export const DecideApprovalRequest = z.object({ note: z.string().max(2000).optional() }).strict();
export type DecideApprovalRequest = z.input<typeof DecideApprovalRequest>;

export const ApprovalWebhook = z.object({
  url: z.string().url().nullable(),
  secret: z.string().nullable().describe('Shown when the webhook is set: the HMAC-SHA256 key of "x-hangar-signature"'),
});
export type ApprovalWebhook = z.infer<typeof ApprovalWebhook>;

export const SetApprovalWebhookRequest = z
  .object({ url: z.string().url().max(2000).regex(/^https?:\/\//, 'http or https').nullable() })
  .strict();
export type SetApprovalWebhookRequest = z.input<typeof SetApprovalWebhookRequest>;
