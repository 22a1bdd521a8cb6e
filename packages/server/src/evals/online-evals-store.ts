import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type RuleRow = Selectable<Database['online_eval_rules']>;
export type SpanScoreRow = Selectable<Database['span_scores']>;
export type DriftAlertRow = Selectable<Database['drift_alerts']>;
export type CandidateSpan = Pick<
  Selectable<Database['spans']>,
  'trace_id' | 'span_id' | 'agent' | 'start_time' | 'attributes' | 'ingested_at'
>;

/** Online eval rules, the scores they give production spans, and drift alerts. */
export function createOnlineEvalsStore(db: Kysely<Database>) {
  return {
    async insertRule(row: RuleRow): Promise<void> {
      await db.insertInto('online_eval_rules').values(row).execute();
    },

    async getRule(projectId: string, id: string): Promise<RuleRow | undefined> {
      return db
        .selectFrom('online_eval_rules')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    },

    async listRules(projectId: string): Promise<RuleRow[]> {
      return db.selectFrom('online_eval_rules').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).orderBy('id').execute();
    },

    async updateRule(projectId: string, id: string, changes: Partial<RuleRow>): Promise<void> {
      await db.updateTable('online_eval_rules').set(changes).where('project_id', '=', projectId).where('id', '=', id).execute();
    },

    /** Enabled rules of every project whose lease has run out, oldest cursor first. */
    async dueRules(now: string, limit: number): Promise<RuleRow[]> {
      return db
        .selectFrom('online_eval_rules')
        .selectAll()
        .where('enabled', '=', 1)
        .where('deleted_at', 'is', null)
        .where('lease_until', '<=', now)
        .orderBy('cursor_at')
        .limit(limit)
        .execute();
    },

    /** Takes a rule for `leaseUntil` unless another process took it first; true when taken. */
    async claim(id: string, seenLease: string, leaseUntil: string): Promise<boolean> {
      const result = await db
        .updateTable('online_eval_rules')
        .set({ lease_until: leaseUntil })
        .where('id', '=', id)
        .where('lease_until', '=', seenLease)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async advance(id: string, cursor: { at: string; key: string }): Promise<void> {
      await db.updateTable('online_eval_rules').set({ cursor_at: cursor.at, cursor_key: cursor.key }).where('id', '=', id).execute();
    },

    /** Gives a rule back: due again at `at`. */
    async release(id: string, at: string): Promise<void> {
      await db.updateTable('online_eval_rules').set({ lease_until: at }).where('id', '=', id).execute();
    },

    /**
     * Spans of the project stored after the cursor and up to `upTo`, in ingest order, filtered on the
     * columns a rule can name.
     */
    async spansSince(
      projectId: string,
      cursor: { at: string; key: string },
      upTo: string,
      filter: { agent?: string; model?: string; kind?: string },
      limit: number,
    ): Promise<CandidateSpan[]> {
      const [trace = '', span = ''] = cursor.key.split('/');
      let q = db
        .selectFrom('spans')
        .select(['trace_id', 'span_id', 'agent', 'start_time', 'attributes', 'ingested_at'])
        .where('project_id', '=', projectId)
        .where('ingested_at', '<=', upTo)
        .where((eb) =>
          eb.or([
            eb('ingested_at', '>', cursor.at),
            eb.and([eb('ingested_at', '=', cursor.at), eb.or([eb('trace_id', '>', trace), eb.and([eb('trace_id', '=', trace), eb('span_id', '>', span)])])]),
          ]),
        );
      if (filter.agent !== undefined) q = q.where('agent', '=', filter.agent);
      if (filter.model !== undefined) q = q.where('model', '=', filter.model);
      if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
      return q.orderBy('ingested_at').orderBy('trace_id').orderBy('span_id').limit(limit).execute();
    },

    async insertScores(rows: SpanScoreRow[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('span_scores')
        .values(rows)
        .onConflict((oc) => oc.columns(['rule_id', 'trace_id', 'span_id']).doNothing())
        .execute();
    },

    async scoresOfSpan(projectId: string, traceId: string, spanId: string): Promise<SpanScoreRow[]> {
      return db
        .selectFrom('span_scores')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('trace_id', '=', traceId)
        .where('span_id', '=', spanId)
        .orderBy('rule_id')
        .execute();
    },

    /** Scores of a rule's spans that started in [from, to): what a drift window compares. */
    async scoresInWindow(ruleId: string, from: string, to: string): Promise<Array<{ value: number | null; pass: number | null }>> {
      return db
        .selectFrom('span_scores')
        .select(['value', 'pass'])
        .where('rule_id', '=', ruleId)
        .where('span_time', '>=', from)
        .where('span_time', '<', to)
        .where('error', 'is', null)
        .execute();
    },

    /** Records an alert; false when one exists for the rule's window bucket (another process fired it). */
    async insertAlert(row: DriftAlertRow): Promise<boolean> {
      const result = await db
        .insertInto('drift_alerts')
        .values(row)
        .onConflict((oc) => oc.columns(['rule_id', 'bucket']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async latestAlert(ruleId: string): Promise<DriftAlertRow | undefined> {
      return db.selectFrom('drift_alerts').selectAll().where('rule_id', '=', ruleId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    },

    async alerts(projectId: string, filter: { ruleId?: string; unacknowledged?: boolean }, beforeId: string | null, limit: number): Promise<DriftAlertRow[]> {
      let q = db.selectFrom('drift_alerts').selectAll().where('project_id', '=', projectId);
      if (filter.ruleId !== undefined) q = q.where('rule_id', '=', filter.ruleId);
      if (filter.unacknowledged) q = q.where('acknowledged_at', 'is', null);
      if (beforeId !== null) q = q.where('id', '<', beforeId);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },

    async getAlert(projectId: string, id: string): Promise<DriftAlertRow | undefined> {
      return db.selectFrom('drift_alerts').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async acknowledge(projectId: string, id: string, at: string): Promise<void> {
      await db.updateTable('drift_alerts').set({ acknowledged_at: at }).where('project_id', '=', projectId).where('id', '=', id).where('acknowledged_at', 'is', null).execute();
    },
  };
}
