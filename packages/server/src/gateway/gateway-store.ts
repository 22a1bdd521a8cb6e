import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type ProviderRow = Selectable<Database['gateway_providers']>;
export type RouteRow = Selectable<Database['gateway_routes']>;
export type AnswerRow = Selectable<Database['gateway_answers']>;

/** Providers, routes, and the index from canonical request to the journal event that answered it. */
export function createGatewayStore(db: Kysely<Database>) {
  return {
    async providers(projectId: string): Promise<ProviderRow[]> {
      return db
        .selectFrom('gateway_providers')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('name')
        .execute();
    },

    async provider(projectId: string, name: string): Promise<ProviderRow | undefined> {
      return db
        .selectFrom('gateway_providers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
    },

    async upsertProvider(row: ProviderRow): Promise<void> {
      await db
        .insertInto('gateway_providers')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['project_id', 'name']).doUpdateSet({
            type: row.type,
            base_url: row.base_url,
            key_ciphertext: row.key_ciphertext,
            config: row.config,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },

    async deleteProvider(projectId: string, name: string): Promise<boolean> {
      const r = await db
        .deleteFrom('gateway_providers')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async routes(projectId: string): Promise<RouteRow[]> {
      return db
        .selectFrom('gateway_routes')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('name')
        .execute();
    },

    async upsertRoute(row: RouteRow): Promise<void> {
      await db
        .insertInto('gateway_routes')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['project_id', 'name']).doUpdateSet({ config: row.config, updated_at: row.updated_at }),
        )
        .execute();
    },

    async deleteRoute(projectId: string, name: string): Promise<boolean> {
      const r = await db
        .deleteFrom('gateway_routes')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async insertAnswer(row: AnswerRow): Promise<void> {
      await db.insertInto('gateway_answers').values(row).execute();
    },

    /** The newest answer to a request, recorded at or after `since` (any time when null). */
    async latestAnswer(
      projectId: string,
      requestSha256: string,
      since: string | null,
    ): Promise<AnswerRow | undefined> {
      let q = db
        .selectFrom('gateway_answers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('request_sha256', '=', requestSha256);
      if (since !== null) q = q.where('created_at', '>=', since);
      return q.orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    },
  };
}
