import type { Kysely } from 'kysely';
import type { OrganizationSpend, ProjectDaySpend, ProjectSpend } from '@hangar/protocol';
import type { Database } from '../db/schema.js';
import { spanWindow } from '../traces/trace-query-service.js';
import { createSpendStore } from './spend-store.js';

export interface SpendOptions {
  db: Kysely<Database>;
}

/**
 * Spend across projects: what the spans of every project of an organization cost, per project and per
 * UTC day. Span costs, as on a project's Spend page (GET /v1/spans/aggregates), so the figures agree.
 */
export function createSpend({ db }: SpendOptions) {
  const store = createSpendStore(db);

  return {
    /** Every project of the organization with its totals over [from, to), and its totals per day. */
    async organization(organizationId: string, window: { from: string; to: string }): Promise<OrganizationSpend> {
      const { from, to } = spanWindow(window);
      // Spans first, then the projects: a span's project exists before the span does, so every row
      // read finds its project, even when a project is created between the two reads.
      const rows = await store.byProjectAndDay(organizationId, from, to);
      const [organization, projects] = await Promise.all([store.organization(organizationId), store.projects(organizationId)]);

      const days = rows.map(
        (r): ProjectDaySpend => ({
          day: r.day,
          projectId: r.project_id,
          calls: r.calls,
          costMicros: r.cost_micros,
          tokensInput: r.tokens_input,
          tokensOutput: r.tokens_output,
          totalTokens: r.tokens_input + r.tokens_output,
        }),
      );
      days.sort((a, b) => a.day.localeCompare(b.day) || b.costMicros - a.costMicros || a.projectId.localeCompare(b.projectId));

      const totals = new Map<string, ProjectSpend>(
        projects.map((p) => [
          p.id,
          { projectId: p.id, projectName: p.name, calls: 0, costMicros: 0, tokensInput: 0, tokensOutput: 0, totalTokens: 0 },
        ]),
      );
      for (const d of days) {
        const t = totals.get(d.projectId);
        if (!t) continue;
        t.calls += d.calls;
        t.costMicros += d.costMicros;
        t.tokensInput += d.tokensInput;
        t.tokensOutput += d.tokensOutput;
        t.totalTokens += d.totalTokens;
      }
      const byProject = [...totals.values()].sort(
        (a, b) =>
          b.costMicros - a.costMicros ||
          b.calls - a.calls ||
          a.projectName.localeCompare(b.projectName) ||
          a.projectId.localeCompare(b.projectId),
      );
      return {
        organization: { id: organizationId, name: organization?.name ?? '' },
        from,
        to,
        projects: byProject,
        days,
      };
    },
  };
}

export type Spend = ReturnType<typeof createSpend>;
