import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Span totals of one project on one UTC day. */
export interface ProjectDayRow {
  project_id: string;
  day: string;
  calls: number;
  cost_micros: number;
  tokens_input: number;
  tokens_output: number;
}

/** Read-only queries for spend across the projects of an organization. */
export function createSpendStore(db: Kysely<Database>) {
  return {
    async organization(id: string): Promise<{ id: string; name: string } | undefined> {
      return db.selectFrom('organizations').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    },

    async projects(organizationId: string): Promise<Array<{ id: string; name: string }>> {
      return db
        .selectFrom('projects')
        .select(['id', 'name'])
        .where('organization_id', '=', organizationId)
        .orderBy('id')
        .execute();
    },

    /**
     * Spans per project and UTC day in [from, to) for the projects of the organization: the same sums
     * over the same rows as a project's `GET /v1/spans/aggregates?groupBy=day`, so the numbers agree.
     * The subquery keeps each project's spans on the (project_id, start_time) index.
     */
    async byProjectAndDay(organizationId: string, from: string, to: string): Promise<ProjectDayRow[]> {
      const day = sql<string>`substr(s.start_time, 1, 10)`;
      const rows = await db
        .selectFrom('spans as s')
        .select([
          's.project_id',
          day.as('day'),
          sql<number>`count(*)`.as('calls'),
          sql<number>`coalesce(sum(s.cost_micros), 0)`.as('cost_micros'),
          sql<number>`coalesce(sum(s.tokens_input), 0)`.as('tokens_input'),
          sql<number>`coalesce(sum(s.tokens_output), 0)`.as('tokens_output'),
        ])
        .where('s.project_id', 'in', (eb) =>
          eb.selectFrom('projects').select('projects.id').where('projects.organization_id', '=', organizationId),
        )
        .where('s.start_time', '>=', from)
        .where('s.start_time', '<', to)
        .groupBy(['s.project_id', day])
        .execute();
      return rows.map((r) => ({
        project_id: r.project_id,
        day: r.day,
        calls: Number(r.calls),
        cost_micros: Number(r.cost_micros),
        tokens_input: Number(r.tokens_input),
        tokens_output: Number(r.tokens_output),
      }));
    },
  };
}

export type SpendStore = ReturnType<typeof createSpendStore>;
