import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type AgentActionRow = Selectable<Database['agent_actions']>;

/** Rows of actions agents execute themselves. Every state change is a compare-and-set on `status`. */
export function createAgentActionsStore(db: Kysely<Database>) {
  return {
    async insert(row: AgentActionRow): Promise<void> {
      await db.insertInto('agent_actions').values(row).execute();
    },

    async get(projectId: string, id: string): Promise<AgentActionRow | undefined> {
      return db.selectFrom('agent_actions').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async getByKey(projectId: string, idempotencyKey: string): Promise<AgentActionRow | undefined> {
      return db
        .selectFrom('agent_actions')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('idempotency_key', '=', idempotencyKey)
        .executeTakeFirst();
    },

    /** Moves a pending action to `reporting` with the result to finish it with; false when it was not pending. */
    async claim(projectId: string, id: string, claim: { resultHash: string; result: string; at: string }): Promise<boolean> {
      const r = await db
        .updateTable('agent_actions')
        .set({ status: 'reporting', result_hash: claim.resultHash, result: claim.result, updated_at: claim.at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Ends a claimed action: its final status and what the answer is; false when it was not `reporting`. */
    async finish(projectId: string, id: string, end: { status: string; result: string; at: string }): Promise<boolean> {
      const r = await db
        .updateTable('agent_actions')
        .set({ status: end.status, result: end.result, updated_at: end.at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'reporting')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /**
     * What the sweeper finishes: pending actions past their expiry, and actions claimed before `stale`
     * and never finished (the process that claimed them died).
     */
    async due(now: string, stale: string, limit: number): Promise<AgentActionRow[]> {
      const expired = await db
        .selectFrom('agent_actions')
        .selectAll()
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      const stuck = await db
        .selectFrom('agent_actions')
        .selectAll()
        .where('status', '=', 'reporting')
        .where('updated_at', '<=', stale)
        .limit(limit)
        .execute();
      return [...expired, ...stuck];
    },
  };
}
