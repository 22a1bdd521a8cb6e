import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Intent, PolicyDecision } from '@hangar/protocol';
import type { ActionKind, ActorChain } from '../actions/action.js';
import { CEDAR_SCHEMA, RESOURCE_TYPES } from './cedar-schema.js';


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

// ---------------------------------------------------------------------------------------------------
// What a policy set can read. Most of the cost of a Cedar call is turning the request (context and
// entities) into Cedar values inside the Wasm module; a value no policy of the set can read cannot
// change the decision, so it is left out of the request. This is not evaluation: it is a walk over
// Cedar's own JSON form of each policy (policyToJson), collecting every place the request is read,
// and every unclear case keeps the whole value.

/** The parts of a request the policies of a set can read (over-approximated). */
export interface PolicyReads {
  /** Paths into `context` read as values (`context.intent.readOnly` → ['intent', 'readOnly']); null: the whole context. */
  context: string[][] | null;
  /** Attributes read on `principal`. */
  principalAttrs: Set<string>;
  /** Some attribute is read on another entity (an entity literal, a record): every entity keeps all its attributes. */
  otherAttrs: boolean;
  /** Some policy reads tags (hasTag/getTag): the arguments entity keeps its tags. */
  tags: boolean;
  /** Some policy tests membership (`in`, in its scope or conditions): the delegation chain is sent as entities with parents. */
  ancestry: boolean;
}

type Est = Record<string, unknown>;

function contextPath(expr: unknown): string[] | null {
  if (!expr || typeof expr !== 'object') return null;
  const e = expr as Est;
  if (e.Var === 'context') return [];
  const dot = e['.'] as { left: unknown; attr: string } | undefined;
  if (!dot) return null;
  const left = contextPath(dot.left);
  return left && [...left, dot.attr];
}

/** Visits an expression of Cedar's JSON form: an object with one key, the operator, and its operands. */
function walk(expr: unknown, reads: PolicyReads): void {
  if (Array.isArray(expr)) {
    for (const e of expr) walk(e, reads);
    return;
  }
  if (!expr || typeof expr !== 'object') return;
  for (const [key, value] of Object.entries(expr as Est)) {
    if (key === 'Value') continue; // literals: no variable inside
    if (key === 'Var') {
      if (value === 'context') reads.context = null; // the context as a whole value
      continue;
    }
    if (key === '.' || key === 'has') {
      const { left, attr } = value as { left: unknown; attr: string };
      const path = contextPath(left);
      if (path) {
        reads.context?.push([...path, attr]);
        continue;
      }
      if ((left as Est | null)?.Var === 'principal') {
        reads.principalAttrs.add(attr);
        continue;
      }
      reads.otherAttrs = true;
      walk(left, reads);
      continue;
    }
    if (key === 'hasTag' || key === 'getTag') reads.tags = true;
    if (key === 'in') reads.ancestry = true;
    // operands: an array (a Set, a function's arguments) or an object of named ones ({left, right}, a Record)
    if (value && typeof value === 'object') walk(Array.isArray(value) ? value : Object.values(value), reads);
  }
}

/** Cedar's JSON form of a policy, as far as reading it here goes. */
interface PolicyJson {
  principal: { op: string; in?: unknown };
  action: { op: string; entity?: { id: string }; entities?: Array<{ id: string }> };
  resource: { op: string; in?: unknown };
  conditions?: Array<{ kind: string; body: unknown }>;
}

const testsMembership = (scope: { op: string; in?: unknown }) => scope.op === 'in' || (scope.op === 'is' && scope.in !== undefined);

/** What a set of policies (Cedar's JSON form) can read of a request. */
export function policyReads(policies: unknown[]): PolicyReads {
  const reads: PolicyReads = { context: [], principalAttrs: new Set(), otherAttrs: false, tags: false, ancestry: false };
  for (const p of policies as PolicyJson[]) {
    if (testsMembership(p.principal) || testsMembership(p.resource)) reads.ancestry = true;
    for (const condition of p.conditions ?? []) walk(condition.body, reads);
  }
  if (reads.context) {
    // a path read whole covers every path below it
    const sorted = [...new Map(reads.context.map((path) => [path.join('\0'), path])).values()].sort((a, b) => a.length - b.length);
    reads.context = sorted.filter((path, i) => !sorted.slice(0, i).some((shorter) => shorter.every((part, j) => path[j] === part)));
  }
  return reads;
}

/** Reads everything: the whole request is sent. */
export const ALL_READS: PolicyReads = { context: null, principalAttrs: new Set(), otherAttrs: true, tags: true, ancestry: true };

/** The conjuncts of an expression (`a && b && c` → [a, b, c]). */
function conjuncts(expr: unknown): unknown[] {
  const and = (expr as Est | null)?.['&&'] as { left: unknown; right: unknown } | undefined;
  return and ? [...conjuncts(and.left), ...conjuncts(and.right)] : [expr];
}

/** `action == Action::"x"` (either way round) → "x". */
function actionTested(expr: unknown): string | null {
  const eq = (expr as Est | null)?.['=='] as { left: Est; right: Est } | undefined;
  if (!eq) return null;
  const literal = (e: Est) => ((e?.Value as Est | undefined)?.__entity as { type: string; id: string } | undefined) ?? null;
  const [variable, value] = eq.left?.Var === 'action' ? [eq.left, literal(eq.right)] : [eq.right, literal(eq.left)];
  return variable?.Var === 'action' && value?.type === 'Action' ? value.id : null;
}

/**
 * Whether a statement can apply to an action of this kind: its action scope names it (or any action),
 * and no `when` condition requires another action. Over-approximated: what is unclear can apply.
 * (Hangar's schema has no action groups, so `action in Action::"x"` is `action == Action::"x"`.)
 */
export function appliesTo(policy: PolicyJson, kind: ActionKind): boolean {
  const { action } = policy;
  if (action.op === '==' || (action.op === 'in' && action.entity)) {
    if (action.entity!.id !== kind) return false;
  } else if (action.op === 'in' && action.entities) {
    if (!action.entities.some((e) => e.id === kind)) return false;
  }
  for (const condition of policy.conditions ?? []) {
    if (condition.kind !== 'when') continue;
    if (conjuncts(condition.body).some((c) => { const id = actionTested(c); return id !== null && id !== kind; })) return false;
  }
  return true;
}

/** The parts of `context` at `paths`, as they are there (absent stays absent; entity references whole). */
function pickContext(context: Record<string, unknown>, paths: string[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let from: unknown = context;
    let to = out;
    for (let i = 0; i < path.length; i++) {
      const part = path[i]!;
      if (!from || typeof from !== 'object' || Array.isArray(from) || !Object.hasOwn(from, part)) break;
      const value = (from as Record<string, unknown>)[part];
      const whole = i === path.length - 1 || !value || typeof value !== 'object' || Array.isArray(value) || '__entity' in value;
      if (whole) {
        to[part] = value;
        break;
      }
      to = (to[part] ??= {}) as Record<string, unknown>;
      from = value;
    }
  }
  return out;
}

/** The statements of a set that can apply to one action kind, preparsed as a set of their own. */
export interface KindPolicySet {
  /** The preparsed set's id inside Cedar; null when no statement applies (the default decides). */
  id: string | null;
  /** What these statements can read: the rest of a request is not sent to Cedar. */
  reads: PolicyReads;
}

/** A project's policies, preparsed inside Cedar one set per action kind, with which statements require approval. */
export interface CompiledPolicySet {
  kinds: Map<ActionKind, KindPolicySet>;
  requiresApproval: ReadonlySet<string>;
  cedarIds: Map<string, string[]>;
}

/** The ids a policy's statements have in decisions: the policy id for one, id.0, id.1, … for several. */
export function cedarIdsOf(policyId: string, count: number): string[] {
  return count === 1 ? [policyId] : Array.from({ length: count }, (_, i) => `${policyId}.${i}`);
}

const KINDS = Object.keys(RESOURCE_TYPES) as ActionKind[];

export interface CompileOptions {
  /** One Cedar set per action kind, holding only the statements that can apply to it (default true). */
  split?: boolean;
  /** Send Cedar only what the statements can read (default true). */
  trim?: boolean;
}

/**
 * Preparses policies (already validated on save) under `setId`, replacing what was there. Cedar
 * evaluates every statement of a set and converts every entity and context value it is sent, so each
 * action kind gets the statements that can apply to it and a request carries only what those read;
 * both are exact (the options turn them off, for comparisons).
 */
export function compilePolicySet(setId: string, policies: Array<{ id: string; text: string }>, { split = true, trim = true }: CompileOptions = {}): CompiledPolicySet {
  const statementsById = new Map<string, { text: string; json: PolicyJson }>();
  const requiresApproval = new Set<string>();
  const cedarIds = new Map<string, string[]>();
  for (const p of policies) {
    const parsed = statements(p.text);
    if (!parsed.ok) throw new Error(`stored policy ${p.id} does not parse: ${parsed.errors[0]?.message}`);
    const ids = cedarIdsOf(p.id, parsed.parts.length);
    cedarIds.set(p.id, ids);
    parsed.parts.forEach((part, i) => {
      const json = cedar.policyToJson(part);
      if (json.type !== 'success') throw new Error(`stored policy ${p.id} has no JSON form: ${json.errors[0]?.message}`);
      statementsById.set(ids[i]!, { text: part, json: json.json as unknown as PolicyJson });
      if (json.json.annotations?.[EFFECT_ANNOTATION] === REQUIRE_APPROVAL) requiresApproval.add(ids[i]!);
    });
  }
  const preparse = (id: string, chosen: string[]): KindPolicySet => {
    if (chosen.length === 0) return { id: null, reads: ALL_READS };
    const record = Object.fromEntries(chosen.map((sid) => [sid, statementsById.get(sid)!.text]));
    const answer = cedar.preparsePolicySet(id, { staticPolicies: record });
    if (answer.type !== 'success') throw new Error(`policy set ${id} does not parse: ${answer.errors.map((e) => e.message).join('; ')}`);
    return { id, reads: trim ? policyReads(chosen.map((sid) => statementsById.get(sid)!.json)) : ALL_READS };
  };
  const all = [...statementsById.keys()];
  const whole = split ? null : preparse(setId, all);
  const kinds = new Map<ActionKind, KindPolicySet>();
  for (const kind of KINDS) {
    kinds.set(kind, whole ?? preparse(`${setId}#${kind}`, all.filter((sid) => appliesTo(statementsById.get(sid)!.json, kind))));
  }
  return { kinds, requiresApproval, cedarIds };
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


/**
 * The Cedar request for an action: the innermost principal of the chain, its parents, the context —
 * only what `reads` says the policies can read (all of it by default). Every principal of the chain
 * is sent, so `principal in …` sees the whole delegation chain.
 */
export function cedarRequest(input: DecisionInput, reads: PolicyReads = ALL_READS) {
  const entities: cedar.EntityJson[] = [];
  // an agent may delegate to itself (a narrower credential): one entity, no loop
  const chain = [...new Map(input.actor.principals.map((p) => [`${CEDAR_TYPE[p.type]}::${p.id}`, p])).values()];
  let parent: Uid | null = null;
  for (const [i, p] of chain.entries()) {
    const uid: Uid = { type: CEDAR_TYPE[p.type], id: p.id };
    const principal = i === chain.length - 1;
    const attrs: Record<string, cedar.CedarValueJson> = {};
    if (p.type === 'agent') {
      const facts = input.agents.get(p.id);
      const wanted = (attr: string) => reads.otherAttrs || (principal && reads.principalAttrs.has(attr));
      if (wanted('name')) attrs.name = facts?.name ?? '';
      if (wanted('owner')) attrs.owner = facts?.owner ?? '';
      if (wanted('labels')) attrs.labels = Object.entries(facts?.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    }
    // without `in` the chain's links are not read, nor its entities unless for their attributes
    if (reads.ancestry || reads.otherAttrs) entities.push({ uid, attrs, parents: parent ? [parent] : [] });
    else if (principal && reads.principalAttrs.size > 0) entities.push({ uid, attrs, parents: [] });
    parent = uid;
  }
  const context: Record<string, cedar.CedarValueJson> = {
    arguments: { __entity: { type: 'Arguments', id: '' } },
    argsSha256: input.argsSha256,
    amount: input.amountMicros,
    model: input.kind === 'model.call' || input.kind === 'embedding.call' ? input.resource : '',
    time: Math.floor(input.now.getTime() / 1000),
    hour: input.now.getUTCHours(),
    weekday: input.now.getUTCDay(),
    delegationDepth: input.delegationDepth,
    intent: intentContext(input.intent),
  };
  const sent = reads.context ? (pickContext(context, reads.context) as Record<string, cedar.CedarValueJson>) : context;
  if ('arguments' in sent) {
    const tags: Record<string, string> = {};
    if (reads.tags && input.args && typeof input.args === 'object' && !Array.isArray(input.args)) {
      for (const [k, v] of Object.entries(input.args as Record<string, unknown>)) tags[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    entities.push({ uid: { type: 'Arguments', id: '' }, attrs: {}, parents: [], tags });
  }
  const principal = parent ?? { type: 'Key', id: 'anonymous' };
  return {
    principal,
    action: { type: 'Action', id: input.kind },
    resource: { type: RESOURCE_TYPES[input.kind], id: input.resource },
    context: sent,
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
  const part = set?.kinds.get(input.kind);
  if (!set || !part?.id) return byDefault();
  const answer = cedar.statefulIsAuthorized({ ...cedarRequest(input, part.reads), preparsedPolicySetId: part.id, validateRequest: false });
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
