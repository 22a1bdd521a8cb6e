import type { Kysely } from 'kysely';
import { PolicyCheckRequest, SavePolicyRequest, type Policy, type PolicyDecision } from '@hangar/protocol';
import type { ActorChain } from '../actions/action.js';
import { createConfigGeneration, type ConfigGeneration } from '../cache/config-generation.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { actorChainOf, journalActorOf, type AuthContext } from '../http/app-env.js';
import { createIdentityStore } from '../identity/identity-store.js';
import type { Journal } from '../journal/journal-service.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId, nowIso } from '../util/ids.js';
import { extend } from '../util/objects.js';
import { CEDAR_SCHEMA } from './cedar-schema.js';
import { cedarIdsOf, compilePolicySet, decide, validatePolicyText, type AgentFacts, type CompiledPolicySet, type DecisionInput } from './cedar-engine.js';
import { createPolicyStore, type PolicyRow } from './policy-store.js';

/** The journal stream where a project's policy changes are recorded. */
export const POLICY_STREAM = 'policies';
const AGENT_CACHE_TTL_MS = 30_000;

export interface PoliciesOptions {
  db: Kysely<Database>;
  journal: Journal;
  /** Tells this process when any process changed policies (shared by the services). */
  generation?: ConfigGeneration;
}

function toPolicy(row: PolicyRow): Policy {
  const count = validatePolicyText(row.text).count || 1;
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    text: row.text,
    cedarIds: cedarIdsOf(row.id, count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function refuseInvalid(text: string) {
  const { errors } = validatePolicyText(text);
  if (errors.length === 0) return;
  const first = errors[0]!;
  throw new ApiError('validation_failed', `text line ${first.line}, column ${first.column}: ${first.message}`, {
    details: { issues: errors.map((e) => ({ path: 'text', ...e })) },
  });
}

/** Per-project Cedar policies: saved (validated), cached compiled, and used to decide actions. */
export function createPolicies({ db, journal, generation = createConfigGeneration({ db }) }: PoliciesOptions) {
  // compiled sets, valid for the config generation they were checked at: a change in any process
  // applies to the next action everywhere (a set is recompiled only if its policies changed)
  const sets = new Map<string, { set: CompiledPolicySet; fingerprint: string; generation: number }>();
  const agents = new Map<string, { facts: AgentFacts | undefined; at: number }>();

  async function policySet(projectId: string): Promise<CompiledPolicySet> {
    const at = await generation.current();
    const cached = sets.get(projectId);
    if (cached && cached.generation === at) return cached.set;
    const rows = await createPolicyStore(db).list(projectId);
    const fingerprint = rows.map((r) => `${r.id}@${r.updated_at}`).join(',');
    if (cached && cached.fingerprint === fingerprint) {
      cached.generation = at;
      return cached.set;
    }
    const set = compilePolicySet(`project:${projectId}`, rows.map((r) => ({ id: r.id, text: r.text })));
    sets.set(projectId, { set, fingerprint, generation: at });
    return set;
  }

  async function agentFacts(projectId: string, actor: ActorChain): Promise<Map<string, AgentFacts>> {
    const out = new Map<string, AgentFacts>();
    for (const p of actor.principals) {
      if (p.type !== 'agent') continue;
      const cached = agents.get(p.id);
      if (cached && Date.now() - cached.at < AGENT_CACHE_TTL_MS) {
        if (cached.facts) out.set(p.id, cached.facts);
        continue;
      }
      const agent = await createIdentityStore(db).getAgent(projectId, p.id);
      const facts = agent && { name: agent.name, owner: agent.owner, labels: agent.labels };
      agents.set(p.id, { facts, at: Date.now() });
      if (facts) out.set(p.id, facts);
    }
    return out;
  }

  async function change(auth: AuthContext, type: string, payload: unknown, work: (trx: Kysely<Database>) => Promise<void>) {
    await db.transaction().execute(async (trx) => {
      await work(trx);
      await generation.bump(trx);
      await journal.append({ projectId: auth.project.id, stream: POLICY_STREAM, actor: journalActorOf(auth), events: [{ type, payload }] }, trx);
    });
    sets.delete(auth.project.id);
  }

  return {
    schema: () => CEDAR_SCHEMA,

    async list(projectId: string): Promise<Policy[]> {
      return (await createPolicyStore(db).list(projectId)).map(toPolicy);
    },

    async get(projectId: string, id: string): Promise<Policy> {
      const row = await createPolicyStore(db).get(projectId, id);
      if (!row) throw new ApiError('not_found', `No policy ${id} in this project.`);
      return toPolicy(row);
    },

    /** Saves a new policy; refused with validation_failed (line and column of each problem) if invalid. */
    async create(auth: AuthContext, input: SavePolicyRequest): Promise<Policy> {
      const req = SavePolicyRequest.parse(input);
      refuseInvalid(req.text);
      const now = nowIso();
      const row: PolicyRow = { id: newId('pol'), project_id: auth.project.id, name: req.name, description: req.description, text: req.text, created_at: now, updated_at: now };
      await change(auth, 'policy.created', { policyId: row.id, name: row.name, text: row.text }, async (trx) => {
        const store = createPolicyStore(trx);
        if (await store.byName(auth.project.id, req.name)) throw new ApiError('conflict', `A policy named ${req.name} exists in this project.`);
        await store.insert(row);
      });
      return toPolicy(row);
    },

    async update(auth: AuthContext, id: string, input: SavePolicyRequest): Promise<Policy> {
      const req = SavePolicyRequest.parse(input);
      refuseInvalid(req.text);
      await change(auth, 'policy.updated', { policyId: id, name: req.name, text: req.text }, async (trx) => {
        const store = createPolicyStore(trx);
        const existing = await store.get(auth.project.id, id);
        if (!existing) throw new ApiError('not_found', `No policy ${id} in this project.`);
        const clash = await store.byName(auth.project.id, req.name);
        if (clash && clash.id !== id) throw new ApiError('conflict', `A policy named ${req.name} exists in this project.`);
        // updated_at must move on every change: the fingerprint other processes compare
        const updatedAt = nowIso() > existing.updated_at ? nowIso() : new Date(Date.parse(existing.updated_at) + 1).toISOString();
        await store.update(auth.project.id, id, { ...req, updatedAt });
      });
      return this.get(auth.project.id, id);
    },

    async remove(auth: AuthContext, id: string): Promise<Policy> {
      const policy = await this.get(auth.project.id, id);
      await change(auth, 'policy.deleted', { policyId: id, name: policy.name }, (trx) => createPolicyStore(trx).remove(auth.project.id, id));
      return policy;
    },

    /** Decides an action by the project's saved policies. */
    async decide(projectId: string, input: Omit<DecisionInput, 'agents'>): Promise<PolicyDecision> {
      const set = await policySet(projectId);
      return decide(set, extend(input, { agents: await agentFacts(projectId, input.actor) }));
    },

    /** "Would this be allowed?" — by the saved policies, or by draft text (validated first). */
    async check(auth: AuthContext, input: PolicyCheckRequest): Promise<PolicyDecision> {
      const req = PolicyCheckRequest.parse(input);
      const caller = actorChainOf(auth);
      const actor: ActorChain = req.principal
        ? { principals: req.principal.type === 'agent' && req.actingFor ? [req.actingFor, req.principal] : [req.principal] }
        : caller;
      const decisionInput = {
        kind: req.kind,
        resource: req.resource,
        actor,
        args: req.args ?? null,
        argsSha256: sha256Hex(canonicalJson(req.args ?? null)),
        amountMicros: req.amountMicros ?? 0,
        intent: req.intent ?? null,
        delegationDepth: req.delegationDepth ?? auth.credential?.depth ?? -1,
        now: new Date(),
      };
      if (req.draft === undefined) return this.decide(auth.project.id, decisionInput);
      refuseInvalid(req.draft);
      // one decision: one Cedar set, not one per action kind
      const draft = compilePolicySet(`draft:${auth.project.id}`, [{ id: 'draft', text: req.draft }], { split: false });
      return decide(draft, { ...decisionInput, agents: await agentFacts(auth.project.id, actor) });
    },
  };
}

export type Policies = ReturnType<typeof createPolicies>;
