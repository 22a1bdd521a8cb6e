import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Intent, PolicyDecision } from '@hangar/protocol';
import type { ActionKind, ActorChain } from '../actions/action.js';
import { CEDAR_SCHEMA, RESOURCE_TYPES } from './cedar-schema.js';

const SCHEMA_NAME = 'hangar';
let schemaReady = false;

function ensureSchema() {
  if (schemaReady) return;
  const r = cedar.preparseSchema(SCHEMA_NAME, CEDAR_SCHEMA);
  if (r.type !== 'success') throw new Error(`Hangar's Cedar schema does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
  schemaReady = true;
}

/** A problem in policy text, located by line and column (1-based). */
export interface PolicyIssue {
  message: string;
  line: number;
  column: number;
  /** Which statement of the text (0-based), when known. */
  statement: number | null;
  help: string | null;
}

function locate(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function issue(text: string, e: cedar.DetailedError, statement: number | null): PolicyIssue {
  const at = locate(text, e.sourceLocations?.[0]?.start ?? 0);
  return { message: e.message, ...at, statement, help: e.help };
}

const EFFECT_ANNOTATION = 'effect';
const REQUIRE_APPROVAL = 'require_approval';

/** Splits Cedar text into its statements, or reports where it does not parse. */
function statements(text: string): { ok: true; parts: string[] } | { ok: false; errors: PolicyIssue[] } {
  const split = cedar.policySetTextToParts(text);
  if (split.type !== 'success') return { ok: false, errors: split.errors.map((e) => issue(text, e, null)) };
  if (split.policy_templates.length > 0) {
    return { ok: false, errors: [{ message: 'Templates (?principal, ?resource) are not supported; write static policies.', line: 1, column: 1, statement: null, help: null }] };
  }
  return { ok: true, parts: split.policies };
}

/**
 * Parses and validates Cedar text against Hangar's schema (strict mode). Errors say where, by line and
 * column; warnings (e.g. a policy that can never apply) do not stop a save.
 */
export function validatePolicyText(text: string): { errors: PolicyIssue[]; warnings: PolicyIssue[]; count: number } {
  const split = statements(text);
  if (!split.ok) return { errors: split.errors, warnings: [], count: 0 };
  if (split.parts.length === 0) return { errors: [{ message: 'The text has no policy statement.', line: 1, column: 1, statement: null, help: null }], warnings: [], count: 0 };
  const result = cedar.validate({ schema: CEDAR_SCHEMA, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (result.type !== 'success') return { errors: result.errors.map((e) => issue(text, e, null)), warnings: [], count: 0 };
  const statementOf = (policyId: string) => Number(policyId.replace(/^policy/, ''));
  const errors = result.validationErrors.map((e) => issue(text, e.error, statementOf(e.policyId)));
  const warnings = result.validationWarnings.map((e) => issue(text, e.error, statementOf(e.policyId)));
  split.parts.forEach((part, i) => {
    const json = cedar.policyToJson(part);
    if (json.type !== 'success') return;
    const effect = json.json.annotations?.[EFFECT_ANNOTATION];
    if (effect === undefined) return;
    if (effect !== REQUIRE_APPROVAL || json.json.effect !== 'permit') {
      const at = locate(text, text.indexOf(part));
      errors.push({ message: `@${EFFECT_ANNOTATION}("${REQUIRE_APPROVAL}") is the only effect annotation, and only on a permit.`, ...at, statement: i, help: null });
    }
  });
  return { errors, warnings, count: split.parts.length };
}

/** A project's policies, preparsed inside Cedar, with which statements require approval. */
export interface CompiledPolicySet {
  id: string;
  empty: boolean;
  requiresApproval: ReadonlySet<string>;
  cedarIds: Map<string, string[]>;
}

/** The ids a policy's statements have in decisions: the policy id for one, id.0, id.1, … for several. */
export function cedarIdsOf(policyId: string, count: number): string[] {
  return count === 1 ? [policyId] : Array.from({ length: count }, (_, i) => `${policyId}.${i}`);
}

/** Preparses policies (already validated on save) under `setId`, replacing what was there. */
export function compilePolicySet(setId: string, policies: Array<{ id: string; text: string }>): CompiledPolicySet {
  ensureSchema();
  const record: Record<string, string> = {};
  const requiresApproval = new Set<string>();
  const cedarIds = new Map<string, string[]>();
  for (const p of policies) {
    const split = statements(p.text);
    if (!split.ok) throw new Error(`stored policy ${p.id} does not parse: ${split.errors[0]?.message}`);
    const ids = cedarIdsOf(p.id, split.parts.length);
    cedarIds.set(p.id, ids);
    split.parts.forEach((part, i) => {
      record[ids[i]!] = part;
      const json = cedar.policyToJson(part);
      if (json.type === 'success' && json.json.annotations?.[EFFECT_ANNOTATION] === REQUIRE_APPROVAL) requiresApproval.add(ids[i]!);
    });
  }
  const parsed = cedar.preparsePolicySet(setId, { staticPolicies: record });
  if (parsed.type !== 'success') throw new Error(`policy set ${setId} does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  return { id: setId, empty: policies.length === 0, requiresApproval, cedarIds };
}

/** The declared intent as policies see it: always every field (Cedar records are typed). */
export function intentContext(intent: Intent | null) {
  return {
    declared: intent !== null,
    readOnly: intent?.readOnly ?? false,
    tools: intent?.tools ?? [],
    domains: intent?.domains ?? [],
    maxSpendMicros: intent?.maxSpendMicros ?? -1,
    purpose: intent?.purpose ?? '',
  };
}

export interface AgentFacts {
  name: string;
  owner: string;
  labels: Record<string, string>;
}

export interface DecisionInput {
  kind: ActionKind;
  resource: string;
  actor: ActorChain;
  args: unknown;
  argsSha256: string;
  amountMicros: number;
  intent: Intent | null;
  /** -1 when no credential is involved. */
  delegationDepth: number;
  now: Date;
  agents: Map<string, AgentFacts>;
}

type Uid = { type: string; id: string };
const CEDAR_TYPE = { user: 'User', agent: 'Agent', service: 'Service', key: 'Key' } as const;

/** The Cedar request for an action: the innermost principal of the chain, its parents, the context. */
export function cedarRequest(input: DecisionInput) {
  const entities: cedar.EntityJson[] = [];
  const chain = input.actor.principals;
  let parent: Uid | null = null;
  const seen = new Set<string>();
  for (const p of chain) {
    const uid: Uid = { type: CEDAR_TYPE[p.type], id: p.id };
    // an agent may delegate to itself (a narrower credential): one entity, no loop
    const key = `${uid.type}::${uid.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (p.type === 'agent') {
      const facts = input.agents.get(p.id);
      entities.push({
        uid,
        attrs: {
          name: facts?.name ?? '',
          owner: facts?.owner ?? '',
          labels: Object.entries(facts?.labels ?? {}).map(([k, v]) => `${k}=${v}`),
        },
        parents: parent ? [parent] : [],
      });
    } else {
      entities.push({ uid, attrs: {}, parents: [] });
    }
    parent = uid;
  }
  const tags: Record<string, string> = {};
  if (input.args && typeof input.args === 'object' && !Array.isArray(input.args)) {
    for (const [k, v] of Object.entries(input.args as Record<string, unknown>)) tags[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  entities.push({ uid: { type: 'Arguments', id: '' }, attrs: {}, parents: [], tags });
  const principal = parent ?? { type: 'Key', id: 'anonymous' };
  return {
    principal,
    action: { type: 'Action', id: input.kind },
    resource: { type: RESOURCE_TYPES[input.kind], id: input.resource },
    context: {
      arguments: { __entity: { type: 'Arguments', id: '' } },
      argsSha256: input.argsSha256,
      amount: input.amountMicros,
      model: input.kind === 'model.call' || input.kind === 'embedding.call' ? input.resource : '',
      time: Math.floor(input.now.getTime() / 1000),
      hour: input.now.getUTCHours(),
      weekday: input.now.getUTCDay(),
      delegationDepth: input.delegationDepth,
      intent: intentContext(input.intent),
    },
    entities,
  };
}

/** Kinds allowed when no policy speaks to them (no permit and no forbid matched); the rest are denied. */
export const ALLOWED_BY_DEFAULT: ReadonlySet<ActionKind> = new Set(['model.call', 'embedding.call', 'data.read', 'data.write', 'run.start']);

/**
 * Decides an action: `forbid` wins; a matching permit allows (or, with @effect("require_approval"),
 * allows once approved); with no matching policy, model calls and data access are allowed and tools,
 * code execution and payments are denied.
 */
export function decide(set: CompiledPolicySet | null, input: DecisionInput): PolicyDecision {
  const byDefault = (): PolicyDecision =>
    ALLOWED_BY_DEFAULT.has(input.kind)
      ? { effect: 'allow', policyIds: [], reason: `no policy speaks to ${input.kind}; it is allowed by default`, errors: [] }
      : { effect: 'deny', policyIds: [], reason: `no policy allows ${input.kind}; it is denied by default`, errors: [] };
  if (!set || set.empty) return byDefault();
  const answer = cedar.statefulIsAuthorized({ ...cedarRequest(input), preparsedPolicySetId: set.id, validateRequest: false });
  if (answer.type !== 'success') {
    return { effect: 'deny', policyIds: [], reason: `the request could not be evaluated: ${answer.errors.map((e) => e.message).join('; ')}`, errors: [] };
  }
  const { decision, diagnostics } = answer.response;
  const policyIds = [...diagnostics.reason].sort();
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
  if (decision === 'allow') {
    const approval = policyIds.filter((id) => set.requiresApproval.has(id));
    return approval.length > 0
      ? { effect: 'require_approval', policyIds, reason: `allowed once approved (${approval.join(', ')})`, errors }
      : { effect: 'allow', policyIds, reason: `permitted by ${policyIds.join(', ')}`, errors };
  }
  if (policyIds.length > 0) return { effect: 'deny', policyIds, reason: `forbidden by ${policyIds.join(', ')}`, errors };
  return { ...byDefault(), errors };
}
