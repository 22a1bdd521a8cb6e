import { sql, type Kysely, type Selectable } from 'kysely';
import type { ActingFor, Agent, Credential, Intent, Scopes } from '@hangar/protocol';
import type { Database } from '../db/schema.js';

type AgentRow = Selectable<Database['agents']>;
type CredentialRow = Selectable<Database['credentials']>;

export function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    owner: row.owner,
    description: row.description,
    labels: JSON.parse(row.labels) as Record<string, string>,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function toCredential(row: CredentialRow): Credential {
  const [type, ...rest] = row.acting_for.split(':');
  return {
    id: row.id,
    agentId: row.agent_id,
    parentId: row.parent_id,
    kind: row.kind as Credential['kind'],
    audience: row.audience,
    actingFor: { type: type as ActingFor['type'], id: rest.join(':') },
    chain: JSON.parse(row.actor_chain) as Credential['chain'],
    scopes: JSON.parse(row.scopes) as Scopes,
    spendCapMicros: Number(row.spend_cap_micros),
    spentMicros: Number(row.spent_micros),
    intent: row.intent === null ? null : (JSON.parse(row.intent) as Intent),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** The revocation state of one credential of a chain, read on every request. */
export interface ChainLink {
  id: string;
  projectId: string;
  revokedAt: string | null;
  agentRevokedAt: string | null;
}

/** Agents, signing keys and credentials. */
export function createIdentityStore(db: Kysely<Database>) {
  return {
    async insertAgent(agent: Agent): Promise<void> {
      await db
        .insertInto('agents')
        .values({
          id: agent.id,
          project_id: agent.projectId,
          name: agent.name,
          owner: agent.owner,
          description: agent.description,
          labels: JSON.stringify(agent.labels),
          created_at: agent.createdAt,
          revoked_at: agent.revokedAt,
        })
        .execute();
    },

    async agentByName(projectId: string, name: string): Promise<Agent | undefined> {
      const row = await db.selectFrom('agents').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
      return row && toAgent(row);
    },

    async getAgent(projectId: string, id: string): Promise<Agent | undefined> {
      const row = await db.selectFrom('agents').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
      return row && toAgent(row);
    },

    async listAgents(projectId: string): Promise<Agent[]> {
      const rows = await db.selectFrom('agents').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
      return rows.map(toAgent);
    },

    async revokeAgent(projectId: string, id: string, at: string): Promise<void> {
      await db
        .updateTable('agents')
        .set({ revoked_at: at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async signingKeys(): Promise<Array<Selectable<Database['signing_keys']>>> {
      return db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
    },

    async signingKey(kid: string) {
      return db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    },

    async insertSigningKey(row: Selectable<Database['signing_keys']>): Promise<void> {
      await db.insertInto('signing_keys').values(row).execute();
    },

    /** Swaps a stored private key for another form of it (sealing); false when it changed meanwhile. */
    async replacePrivateKey(kid: string, was: string, now: string): Promise<boolean> {
      const r = await db.updateTable('signing_keys').set({ private_jwk: now }).where('kid', '=', kid).where('private_jwk', '=', was).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Retires every active key except `keep`: they sign nothing more but still verify. */
    async retireSigningKeysExcept(keep: string, at: string): Promise<void> {
      await db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '!=', keep).where('retired_at', 'is', null).execute();
    },

    async insertCredential(c: Credential & { projectId: string; ancestors: string[]; issuedBy: string }): Promise<void> {
      await db
        .insertInto('credentials')
        .values({
          id: c.id,
          project_id: c.projectId,
          agent_id: c.agentId,
          parent_id: c.parentId,
          ancestors: JSON.stringify(c.ancestors),
          kind: c.kind,
          audience: c.audience,
          acting_for: `${c.actingFor.type}:${c.actingFor.id}`,
          actor_chain: JSON.stringify(c.chain),
          scopes: JSON.stringify(c.scopes),
          spend_cap_micros: c.spendCapMicros,
          spent_micros: c.spentMicros,
          intent: c.intent === null ? null : JSON.stringify(c.intent),
          issued_by: c.issuedBy,
          issued_at: c.issuedAt,
          expires_at: c.expiresAt,
          revoked_at: c.revokedAt,
        })
        .execute();
    },

    async getCredential(projectId: string, id: string): Promise<Credential | undefined> {
      const row = await db.selectFrom('credentials').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
      return row && toCredential(row);
    },

    async credentialById(id: string): Promise<(Credential & { projectId: string; ancestors: string[] }) | undefined> {
      const row = await db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { ...toCredential(row), projectId: row.project_id, ancestors: JSON.parse(row.ancestors) as string[] };
    },

    async listCredentials(projectId: string, agentId: string, limit: number): Promise<Credential[]> {
      const rows = await db
        .selectFrom('credentials')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('agent_id', '=', agentId)
        .orderBy('issued_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toCredential);
    },

    /** The credentials of a chain with their agents' revocation: one indexed read, on every request. */
    async chainLinks(ids: string[]): Promise<ChainLink[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('credentials')
        .innerJoin('agents', 'agents.id', 'credentials.agent_id')
        .select(['credentials.id', 'credentials.project_id', 'credentials.revoked_at', 'agents.revoked_at as agent_revoked_at'])
        .where('credentials.id', 'in', ids)
        .execute();
      return rows.map((r) => ({ id: r.id, projectId: r.project_id, revokedAt: r.revoked_at, agentRevokedAt: r.agent_revoked_at }));
    },

    /** Spend (cap and spent) of these credentials. */
    async spend(ids: string[]): Promise<Array<{ id: string; capMicros: number; spentMicros: number }>> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('credentials').select(['id', 'spend_cap_micros', 'spent_micros']).where('id', 'in', ids).execute();
      return rows.map((r) => ({ id: r.id, capMicros: Number(r.spend_cap_micros), spentMicros: Number(r.spent_micros) }));
    },

    async addSpend(ids: string[], micros: number): Promise<void> {
      if (ids.length === 0 || micros <= 0) return;
      await db
        .updateTable('credentials')
        .set({ spent_micros: sql`spent_micros + ${micros}` })
        .where('id', 'in', ids)
        .execute();
    },

    /** Revokes one credential (its descendants fail too: every request checks the whole chain). */
    async revokeCredential(projectId: string, id: string, at: string): Promise<void> {
      await db
        .updateTable('credentials')
        .set({ revoked_at: at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;
