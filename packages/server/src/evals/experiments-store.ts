import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type ExperimentRow = Selectable<Database['experiments']>;
export type ResultRow = Selectable<Database['trial_results']>;
export type ScoreRow = Selectable<Database['trial_scores']>;

/** Experiments, their trial results (one row per (case, trial)) and the scores of each trial. */
export function createExperimentsStore(db: Kysely<Database>) {
  return {
    async insert(row: ExperimentRow): Promise<void> {
      await db.insertInto('experiments').values(row).execute();
    },

    async get(projectId: string, id: string): Promise<ExperimentRow | undefined> {
      return db.selectFrom('experiments').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    /** The newest experiment of a series with this status. */
    async latestNamed(projectId: string, name: string, status: string): Promise<ExperimentRow | undefined> {
      return db
        .selectFrom('experiments')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .where('status', '=', status)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /** Newest first, before the id `beforeId`. */
    async list(projectId: string, filter: { name?: string; datasetId?: string; status?: string }, beforeId: string | null, limit: number): Promise<ExperimentRow[]> {
      let q = db.selectFrom('experiments').selectAll().where('project_id', '=', projectId);
      if (filter.name !== undefined) q = q.where('name', '=', filter.name);
      if (filter.datasetId !== undefined) q = q.where('dataset_id', '=', filter.datasetId);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      if (beforeId !== null) q = q.where('id', '<', beforeId);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },

    /** Results already stored for these (case, trial) pairs: their body hashes. */
    async existing(experimentId: string, keys: Array<{ caseId: string; trial: number }>): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      const caseIds = [...new Set(keys.map((k) => k.caseId))];
      for (let i = 0; i < caseIds.length; i += 500) {
        const rows = await db
          .selectFrom('trial_results')
          .select(['case_id', 'trial', 'body_sha256'])
          .where('experiment_id', '=', experimentId)
          .where('case_id', 'in', caseIds.slice(i, i + 500))
          .execute();
        for (const r of rows) out.set(`${r.case_id}\u0000${Number(r.trial)}`, r.body_sha256);
      }
      return out;
    },

    async insertResults(results: ResultRow[], scores: ScoreRow[]): Promise<void> {
      for (let i = 0; i < results.length; i += 200) await db.insertInto('trial_results').values(results.slice(i, i + 200)).execute();
      for (let i = 0; i < scores.length; i += 200) await db.insertInto('trial_scores').values(scores.slice(i, i + 200)).execute();
    },

    /** Adds to the running totals; the counters JSON is rewritten by the caller, under the row's own version. */
    async addTotals(id: string, seenTrialsDone: number, changes: { trialsDone: number; costMicros: number; counters: string }): Promise<boolean> {
      const result = await db
        .updateTable('experiments')
        .set({ trials_done: changes.trialsDone, cost_micros: changes.costMicros, counters: changes.counters })
        .where('id', '=', id)
        .where('trials_done', '=', seenTrialsDone)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async finish(id: string, status: string, at: string): Promise<boolean> {
      const result = await db
        .updateTable('experiments')
        .set({ status, finished_at: at })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Result rows in (case, trial) order after the given key. */
    async results(experimentId: string, after: { caseId: string; trial: number } | null, limit: number, caseId?: string): Promise<ResultRow[]> {
      let q = db.selectFrom('trial_results').selectAll().where('experiment_id', '=', experimentId);
      if (caseId !== undefined) q = q.where('case_id', '=', caseId);
      if (after) {
        q = q.where((eb) =>
          eb.or([eb('case_id', '>', after.caseId), eb.and([eb('case_id', '=', after.caseId), eb('trial', '>', after.trial)])]),
        );
      }
      return q.orderBy('case_id').orderBy('trial').limit(limit).execute();
    },

    /** Every score of an experiment (narrow rows: what statistics need). */
    async scores(experimentId: string): Promise<ScoreRow[]> {
      return db.selectFrom('trial_scores').selectAll().where('experiment_id', '=', experimentId).orderBy('name').orderBy('case_id').orderBy('trial').execute();
    },
  };
}
