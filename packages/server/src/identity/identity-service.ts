import type { Kysely } from 'kysely';
import type { JWTPayload } from 'jose';
import {
  CreateAgentRequest,
  DelegateRequest,
  Intent,
  IssueCredentialRequest,
  Scopes,
  TokenExchangeRequest,
  type ActingFor,
  type Agent,
  type ApiKey,
  type Credential,
  type IssuedCredential,
  type JournalEvent,
  type TokenExchangeResponse,
} from '@hangar/protocol';
import { z } from 'zod';
import type { Principal } from '../actions/action.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { Journal } from '../journal/journal-service.js';
import { createTenancyStore } from '../tenancy/tenancy-store.js';
import { newId, nowIso } from '../util/ids.js';
import { createIdentityStore } from './identity-store.js';
import { wideningOf } from './narrowing.js';
import type { SigningKeys } from './signing-keys.js';

/** The audience of credentials that the Hangar API itself accepts. */
export const API_AUDIENCE = 'hangar';
/** Tokens from POST /v1/token live at most this long. */
const EXCHANGED_TTL_MS = 15 * 60 * 1000;
const FACTS_CACHE_SIZE = 10_000;

/** The `hangar` claim of a credential. */
const HangarClaim = z.object({
  project: z.string(),
  agent: z.string(),
  kind: z.enum(['credential', 'exchanged']),
  scopes: Scopes,
  spend_cap_micros: z.number().int().min(0),
  intent: Intent.nullable(),
  ancestors: z.array(z.string()),
  chain: z.array(z.object({ type: z.enum(['user', 'agent', 'service']), id: z.string() })),
});
type HangarClaim = z.infer<typeof HangarClaim>;

/** The RFC 8693 `act` claim for a chain (outermost first): the current actor outermost, earlier ones nested. */
export function actClaim(chain: readonly Principal[]): Record<string, unknown> | undefined {
  let act: Record<string, unknown> | undefined;
  for (const p of chain.slice(1)) act = act ? { sub: `${p.type}:${p.id}`, act } : { sub: `${p.type}:${p.id}` };
  return act;
}

/** Immutable facts of a credential the authorize stage needs (scopes, intent, depth). */
export interface CredentialFacts {
  id: string;
  projectId: string;
  agentId: string;
  scopes: Scopes;
  intent: Intent | null;
  ancestors: string[];
  depth: number;
}

export interface IdentityOptions {
  db: Kysely<Database>;
  journal: Journal;
  signingKeys: SigningKeys;
}

type Signer = Awaited<ReturnType<SigningKeys['signer']>>;

interface MintInput {
  projectId: string;
  agent: Agent;
  actingFor: ActingFor;
  chain: Array<{ type: 'user' | 'agent' | 'service'; id: string }>;
  scopes: Scopes;
  spendCapMicros: number;
  intent: Intent | null;
  expiresAtMs: number;
  parent: { id: string; ancestors: string[] } | null;
  kind: Credential['kind'];
  audience: string;
  issuedBy: string;
  event: string;
}

/** Agents as principals; credentials (signed JWTs) issued, delegated, exchanged, verified and revoked. */
export function createIdentity({ db, journal, signingKeys }: IdentityOptions) {
  const facts = new Map<string, CredentialFacts>();

  async function mint(trx: Kysely<Database>, auth: AuthContext, input: MintInput, sign: Signer): Promise<IssuedCredential> {
    const id = newId('cred');
    const issuedAtMs = Math.floor(Date.now() / 1000) * 1000;
    const ancestors = input.parent ? [...input.parent.ancestors, input.parent.id] : [];
    const credential: Credential = {
      id,
      agentId: input.agent.id,
      parentId: input.parent?.id ?? null,
      kind: input.kind,
      audience: input.audience,
      actingFor: input.actingFor,
      chain: input.chain,
      scopes: input.scopes,
      spendCapMicros: input.spendCapMicros,
      spentMicros: 0,
      intent: input.intent,
      issuedAt: new Date(issuedAtMs).toISOString(),
      expiresAt: new Date(input.expiresAtMs).toISOString(),
      revokedAt: null,
    };
    await createIdentityStore(trx).insertCredential({ ...credential, projectId: input.projectId, ancestors, issuedBy: input.issuedBy });
    const hangar: HangarClaim = {
      project: input.projectId,
      agent: input.agent.id,
      kind: input.kind,
      scopes: input.scopes,
      spend_cap_micros: input.spendCapMicros,
      intent: input.intent,
      ancestors,
      chain: input.chain,
    };
    const claims: JWTPayload = {
      sub: `${input.actingFor.type}:${input.actingFor.id}`,
      aud: input.audience,
      jti: id,
      iat: issuedAtMs / 1000,
      nbf: issuedAtMs / 1000,
      exp: Math.floor(input.expiresAtMs / 1000),
      act: actClaim(input.chain),
      hangar,
    };
    const token = await sign(claims);
    await journal.append(
      {
        projectId: input.projectId,
        stream: `identity:${input.agent.id}`,
        actor: journalActorOf(auth),
        events: [
          {
            type: input.event,
            payload: { credentialId: id, parentId: credential.parentId, audience: input.audience, chain: input.chain, scopes: input.scopes, spendCapMicros: input.spendCapMicros, intent: input.intent, expiresAt: credential.expiresAt },
          },
        ],
      },
      trx,
    );
    return { token, credential };
  }

  async function activeAgent(store: ReturnType<typeof createIdentityStore>, projectId: string, agentId: string): Promise<Agent> {
    const agent = await store.getAgent(projectId, agentId);
    if (!agent) throw new ApiError('not_found', `No agent ${agentId} in this project.`);
    if (agent.revokedAt) throw new ApiError('conflict', `Agent ${agent.name} was revoked at ${agent.revokedAt}.`);
    return agent;
  }

  async function factsOf(id: string): Promise<CredentialFacts | undefined> {
    const cached = facts.get(id);
    if (cached) return cached;
    const c = await createIdentityStore(db).credentialById(id);
    if (!c) return undefined;
    const f: CredentialFacts = {
      id,
      projectId: c.projectId,
      agentId: c.agentId,
      scopes: c.scopes,
      intent: c.intent,
      ancestors: c.ancestors,
      depth: c.chain.filter((p) => p.type === 'agent').length - 1,
    };
    if (facts.size >= FACTS_CACHE_SIZE) facts.delete(facts.keys().next().value!);
    facts.set(id, f);
    return f;
  }

  /** Verifies a credential and its whole chain against the database; the claims, or a refusal. */
  async function verifyCredential(token: string, audience: string): Promise<{ claims: HangarClaim; payload: JWTPayload }> {
    const { payload } = await signingKeys.verify(token, audience);
    const parsed = HangarClaim.safeParse(payload.hangar);
    if (!parsed.success || typeof payload.jti !== 'string') throw new ApiError('credential_invalid', 'The credential lacks Hangar claims.');
    const claims = parsed.data;
    const ids = [...claims.ancestors, payload.jti];
    const links = await createIdentityStore(db).chainLinks(ids);
    for (const id of ids) {
      const link = links.find((l) => l.id === id);
      if (!link || link.projectId !== claims.project) throw new ApiError('credential_invalid', 'The credential was not issued by this Hangar.');
      if (link.revokedAt) {
        throw new ApiError('credential_revoked', id === payload.jti ? `The credential was revoked at ${link.revokedAt}.` : `A credential this one was delegated from (${id}) was revoked at ${link.revokedAt}.`, { details: { revoked: id } });
      }
      if (link.agentRevokedAt) throw new ApiError('credential_revoked', `An agent of the credential's chain was revoked at ${link.agentRevokedAt}.`, { details: { revoked: id } });
    }
    return { claims, payload };
  }

  return {
    async createAgent(auth: AuthContext, input: CreateAgentRequest): Promise<Agent> {
      const req = CreateAgentRequest.parse(input);
      return db.transaction().execute(async (trx) => {
        const store = createIdentityStore(trx);
        if (await store.agentByName(auth.project.id, req.name)) throw new ApiError('conflict', `An agent named ${req.name} exists in this project.`);
        const agent: Agent = { id: newId('agt'), projectId: auth.project.id, ...req, createdAt: nowIso(), revokedAt: null };
        await store.insertAgent(agent);
        await journal.append({ projectId: auth.project.id, stream: `identity:${agent.id}`, actor: journalActorOf(auth), events: [{ type: 'agent.created', payload: agent }] }, trx);
        return agent;
      });
    },

    listAgents(projectId: string): Promise<Agent[]> {
      return createIdentityStore(db).listAgents(projectId);
    },

    /** An agent with its latest credentials and actions. */
    async agentDetail(projectId: string, id: string): Promise<{ agent: Agent; credentials: Credential[]; recentActions: JournalEvent[] }> {
      const store = createIdentityStore(db);
      const agent = await store.getAgent(projectId, id);
      if (!agent) throw new ApiError('not_found', `No agent ${id} in this project.`);
      const stream = `actions:agent:${id}`;
      const head = (await journal.listStreams(projectId, { prefix: stream, limit: 1 })).streams.find((s) => s.stream === stream);
      const recent = head ? (await journal.read(projectId, stream, Math.max(0, head.headSeq - 20), 20)).events.reverse() : [];
      return { agent, credentials: await store.listCredentials(projectId, id, 50), recentActions: recent };
    },

    /** Revokes the agent: every credential naming it anywhere in its chain fails on its next request. */
    async revokeAgent(auth: AuthContext, id: string): Promise<Agent> {
      return db.transaction().execute(async (trx) => {
        const store = createIdentityStore(trx);
        const agent = await store.getAgent(auth.project.id, id);
        if (!agent) throw new ApiError('not_found', `No agent ${id} in this project.`);
        if (agent.revokedAt) return agent;
        await store.revokeAgent(auth.project.id, id, nowIso());
        await journal.append({ projectId: auth.project.id, stream: `identity:${id}`, actor: journalActorOf(auth), events: [{ type: 'agent.revoked', payload: { agentId: id } }] }, trx);
        return (await store.getAgent(auth.project.id, id))!;
      });
    },

    /** Issues a credential to an agent, acting for a user or service (an API key's holder decides). */
    async issueCredential(auth: AuthContext, agentId: string, input: IssueCredentialRequest): Promise<IssuedCredential> {
      const req = IssueCredentialRequest.parse(input);
      const sign = await signingKeys.signer();
      return db.transaction().execute(async (trx) => {
        const agent = await activeAgent(createIdentityStore(trx), auth.project.id, agentId);
        return mint(trx, auth, {
          projectId: auth.project.id,
          agent,
          actingFor: req.actingFor,
          chain: [req.actingFor, { type: 'agent', id: agent.id }],
          scopes: req.scopes,
          spendCapMicros: req.spendCapMicros,
          intent: req.intent ?? null,
          expiresAtMs: Date.now() + req.ttlSeconds * 1000,
          parent: null,
          kind: 'credential',
          audience: API_AUDIENCE,
          issuedBy: auth.key.id,
          event: 'credential.issued',
        }, sign);
      });
    },

    /**
     * The calling credential obtains one for a sub-agent. Only narrowing is allowed: scopes ⊆ its own,
     * spend cap ≤ what remains of its own, expiry ≤ its own, intent at least as strict.
     */
    async delegate(auth: AuthContext, input: DelegateRequest): Promise<IssuedCredential> {
      const req = DelegateRequest.parse(input);
      if (!auth.credential) throw new ApiError('forbidden', 'Delegation needs an agent credential, not an API key: issue one with POST /v1/agents/{id}/credentials.');
      const parentFacts = (await factsOf(auth.credential.id))!;
      const sign = await signingKeys.signer();
      return db.transaction().execute(async (trx) => {
        const store = createIdentityStore(trx);
        const parent = (await store.getCredential(auth.project.id, auth.credential!.id))!;
        if (parent.kind !== 'credential') throw new ApiError('forbidden', 'An exchanged token cannot delegate.');
        const agent = await activeAgent(store, auth.project.id, req.agentId);
        const spend = await store.spend([...parentFacts.ancestors, parent.id]);
        const remaining = Math.min(...spend.map((s) => s.capMicros - s.spentMicros));
        const parentExpires = Date.parse(parent.expiresAt);
        const expiresAtMs = req.ttlSeconds === undefined ? parentExpires : Date.now() + req.ttlSeconds * 1000;
        const intent = req.intent ?? parent.intent;
        const widened = wideningOf(
          { scopes: parent.scopes, spendCapMicros: remaining, expiresAtMs: parentExpires, intent: parent.intent },
          { scopes: req.scopes, spendCapMicros: req.spendCapMicros, expiresAtMs, intent },
        );
        if (widened.length > 0) {
          throw new ApiError('delegation_escalation', `A delegated credential can only narrow; this request widens ${widened.join(', ')}.`, {
            details: { violations: widened, remainingSpendMicros: remaining, parentExpiresAt: parent.expiresAt },
          });
        }
        return mint(trx, auth, {
          projectId: auth.project.id,
          agent,
          actingFor: parent.actingFor,
          chain: [...parent.chain.map((p) => ({ type: p.type as 'user' | 'agent' | 'service', id: p.id })), { type: 'agent', id: agent.id }],
          scopes: req.scopes,
          spendCapMicros: req.spendCapMicros,
          intent,
          expiresAtMs,
          parent: { id: parent.id, ancestors: parentFacts.ancestors },
          kind: 'credential',
          audience: API_AUDIENCE,
          issuedBy: parent.id,
          event: 'credential.delegated',
        }, sign);
      });
    },

    /** RFC 8693: a credential of this project is exchanged for a token bound to one audience. */
    async exchange(auth: AuthContext, input: TokenExchangeRequest): Promise<TokenExchangeResponse> {
      const req = TokenExchangeRequest.parse(input);
      const audience = req.audience ?? req.resource;
      if (!audience) {
        throw new ApiError('validation_failed', 'Name the audience (or resource) the token is for.', { details: { issues: [{ path: 'audience', message: 'Required' }] } });
      }
      if (audience === API_AUDIENCE) throw new ApiError('validation_failed', `The audience must be a tool or resource, not '${API_AUDIENCE}'.`, { details: { issues: [{ path: 'audience', message: 'Reserved' }] } });
      const { claims, payload } = await verifyCredential(req.subject_token, API_AUDIENCE);
      if (claims.project !== auth.project.id) throw new ApiError('credential_invalid', 'The subject token belongs to another project.');
      const sign = await signingKeys.signer();
      return db.transaction().execute(async (trx) => {
        const store = createIdentityStore(trx);
        const agent = (await store.getAgent(claims.project, claims.agent))!;
        const subject = (await store.getCredential(claims.project, payload.jti!))!;
        const expiresAtMs = Math.min(Date.parse(subject.expiresAt), Date.now() + EXCHANGED_TTL_MS);
        const issued = await mint(trx, auth, {
          projectId: claims.project,
          agent,
          actingFor: subject.actingFor,
          chain: claims.chain,
          scopes: subject.scopes,
          spendCapMicros: Math.max(0, subject.spendCapMicros - subject.spentMicros),
          intent: subject.intent,
          expiresAtMs,
          parent: { id: subject.id, ancestors: claims.ancestors },
          kind: 'exchanged',
          audience,
          issuedBy: auth.credential?.id ?? auth.key.id,
          event: 'credential.exchanged',
        }, sign);
        return {
          access_token: issued.token,
          issued_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          token_type: 'Bearer',
          expires_in: Math.max(0, Math.floor((expiresAtMs - Date.now()) / 1000)),
        };
      });
    },

    async listCredentials(projectId: string, agentId: string): Promise<Credential[]> {
      const store = createIdentityStore(db);
      if (!(await store.getAgent(projectId, agentId))) throw new ApiError('not_found', `No agent ${agentId} in this project.`);
      return store.listCredentials(projectId, agentId, 100);
    },

    /**
     * Revokes a credential. Everything delegated or exchanged from it fails too, on its next request in
     * every server process: each request reads the revocation state of its whole chain.
     */
    async revokeCredential(auth: AuthContext, id: string): Promise<Credential> {
      return db.transaction().execute(async (trx) => {
        const store = createIdentityStore(trx);
        const c = await store.getCredential(auth.project.id, id);
        if (!c) throw new ApiError('not_found', `No credential ${id} in this project.`);
        if (c.revokedAt) return c;
        await store.revokeCredential(auth.project.id, id, nowIso());
        await journal.append({ projectId: auth.project.id, stream: `identity:${c.agentId}`, actor: journalActorOf(auth), events: [{ type: 'credential.revoked', payload: { credentialId: id } }] }, trx);
        return (await store.getCredential(auth.project.id, id))!;
      });
    },

    /** Resolves a presented credential (JWT) to who is calling, or refuses with 401 and the reason. */
    async authenticate(token: string): Promise<AuthContext> {
      const { claims, payload } = await verifyCredential(token, API_AUDIENCE);
      const project = await createTenancyStore(db).getProject(claims.project);
      if (!project) throw new ApiError('credential_invalid', 'The credential names no project of this Hangar.');
      const key: ApiKey = {
        id: payload.jti!,
        projectId: project.id,
        name: `agent ${claims.agent}`,
        role: 'ingest-only',
        prefix: 'jwt',
        createdAt: new Date(payload.iat! * 1000).toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      };
      return {
        key,
        project,
        role: 'ingest-only',
        actor: { principals: claims.chain, credentialId: payload.jti! },
        credential: {
          id: payload.jti!,
          agentId: claims.agent,
          ancestors: claims.ancestors,
          depth: claims.chain.filter((p) => p.type === 'agent').length - 1,
          expiresAt: payload.exp! * 1000,
        },
      };
    },

    /** Scopes, intent and lineage of a credential (cached: they never change). */
    credentialFacts: factsOf,

    /** The least remaining spend along a credential's chain, in micro-units. */
    async remainingSpend(f: CredentialFacts): Promise<number> {
      const spend = await createIdentityStore(db).spend([...f.ancestors, f.id]);
      return Math.min(...spend.map((s) => s.capMicros - s.spentMicros));
    },

    /** Charges spend to a credential and every credential it was delegated from. */
    async addSpend(f: CredentialFacts, micros: number): Promise<void> {
      await createIdentityStore(db).addSpend([...f.ancestors, f.id], micros);
    },

    jwks: () => signingKeys.jwks(),
  };
}

export type Identity = ReturnType<typeof createIdentity>;
