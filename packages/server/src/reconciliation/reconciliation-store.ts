import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface ProviderSumsRow {
  provider: string;
  calls: number;
  hangar: number | null;
  reported_calls: number;
  provider_cost: number | null;
  hangar_of_reported: number | null;
}

export interface CostDifferenceRow {
  trace_id: string;
  span_id: string;
  provider: string;
  cost_micros: number | null;
  provider_cost_micros: number;
}

/** What reconciliation reads from the gateway's spans: Hangar's priced costs beside the providers' own. */
export function createReconciliationStore(db: Kysely<Database>) {
  const gatewayCalls = (projectId: string, from: string, to: string) =>
    db
      .selectFrom('spans')
      .where('project_id', '=', projectId)
      .where('source', '=', 'gateway')
      .where('provider', 'is not', null)
      .where('start_time', '>=', from)
      .where('start_time', '<', to);

  return {
    /** Per provider: calls, Hangar's cost, and the provider-reported cost over the calls that carried one. */
    async providerSums(projectId: string, from: string, to: string): Promise<ProviderSumsRow[]> {
      const rows = await gatewayCalls(projectId, from, to)
        .select((eb) => [
          eb.ref('provider').$castTo<string>().as('provider'),
          eb.fn.countAll<number>().as('calls'),
          eb.fn.sum<number | null>('cost_micros').as('hangar'),
          eb.fn.count<number>('provider_cost_micros').as('reported_calls'),
          eb.fn.sum<number | null>('provider_cost_micros').as('provider_cost'),
          eb.fn
            .sum<number | null>(eb.case().when('provider_cost_micros', 'is not', null).then(eb.ref('cost_micros')).end())
            .as('hangar_of_reported'),
        ])
        .groupBy('provider')
        .orderBy('provider')
        .execute();
      return rows;
    },

    /** Calls whose provider-reported cost differs from Hangar's (or Hangar could not price). */
    async costDifferences(projectId: string, from: string, to: string, limit: number): Promise<CostDifferenceRow[]> {
      const rows = await gatewayCalls(projectId, from, to)
        .where('provider_cost_micros', 'is not', null)
        .where((eb) => eb.or([eb('cost_micros', 'is', null), eb('cost_micros', '!=', eb.ref('provider_cost_micros'))]))
        .select(['trace_id', 'span_id', 'provider', 'cost_micros', 'provider_cost_micros'])
        .orderBy('start_time')
        .limit(limit)
        .execute();
      return rows as CostDifferenceRow[];
    },
  };
}
