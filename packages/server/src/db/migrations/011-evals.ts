import type { Kysely } from 'kysely';

// Evals: datasets whose versions are immutable (a case row is valid from one version until the one that
// replaced or removed it), experiments with per-trial results and scores, online eval rules, the scores
// they give production spans, and drift alerts. Spans learn when they were ingested, so the online-eval
// worker can read what arrived since its cursor.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('spans').addColumn('ingested_at', 'text').execute();
  await db.schema.createIndex('spans_ingested').on('spans').columns(['project_id', 'ingested_at']).execute();

  await db.schema
    .createTable('datasets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .addColumn('case_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('datasets_project_name', ['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('dataset_versions')
    .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('case_count', 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('dataset_versions_pk', ['dataset_id', 'version'])
    .execute();

  await db.schema
    .createTable('dataset_cases')
    .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.id'))
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('version_from', 'integer', (c) => c.notNull())
    .addColumn('version_to', 'integer')
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('expected', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addPrimaryKeyConstraint('dataset_cases_pk', ['dataset_id', 'case_id', 'version_from'])
    .execute();

  await db.schema
    .createTable('experiments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('dataset_id', 'text')
    .addColumn('dataset_version', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trials', 'integer', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text')
    .addColumn('credential_id', 'text')
    .addColumn('budget_micros', 'bigint')
    .addColumn('cases_total', 'integer', (c) => c.notNull())
    .addColumn('trials_done', 'integer', (c) => c.notNull())
    .addColumn('cost_micros', 'bigint', (c) => c.notNull())
    .addColumn('counters', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('experiments_project_name').on('experiments').columns(['project_id', 'name', 'id']).execute();
  await db.schema.createIndex('experiments_project_id').on('experiments').columns(['project_id', 'id']).execute();

  await db.schema
    .createTable('trial_results')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id'))
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('trial', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('body_sha256', 'text', (c) => c.notNull())
    .addColumn('cost_micros', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('trial_results_pk', ['experiment_id', 'case_id', 'trial'])
    .execute();

  await db.schema
    .createTable('trial_scores')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id'))
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('trial', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('pass', 'integer')
    .addColumn('errored', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('trial_scores_pk', ['experiment_id', 'name', 'case_id', 'trial'])
    .execute();

  await db.schema
    .createTable('online_eval_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scorer', 'text', (c) => c.notNull())
    .addColumn('sample_rate', 'double precision', (c) => c.notNull())
    .addColumn('filter', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('drift', 'text', (c) => c.notNull())
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_secret', 'text')
    .addColumn('cursor_at', 'text', (c) => c.notNull())
    .addColumn('cursor_key', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('online_eval_rules_project').on('online_eval_rules').columns(['project_id', 'id']).execute();

  await db.schema
    .createTable('span_scores')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('trace_id', 'text', (c) => c.notNull())
    .addColumn('span_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('pass', 'integer')
    .addColumn('error', 'text')
    .addColumn('span_time', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('span_scores_pk', ['rule_id', 'trace_id', 'span_id'])
    .execute();
  await db.schema.createIndex('span_scores_span').on('span_scores').columns(['project_id', 'trace_id', 'span_id']).execute();
  await db.schema.createIndex('span_scores_rule_time').on('span_scores').columns(['rule_id', 'span_time']).execute();

  await db.schema
    .createTable('drift_alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('reference_mean', 'double precision', (c) => c.notNull())
    .addColumn('recent_mean', 'double precision', (c) => c.notNull())
    .addColumn('reference_n', 'integer', (c) => c.notNull())
    .addColumn('recent_n', 'integer', (c) => c.notNull())
    .addColumn('test', 'text', (c) => c.notNull())
    .addColumn('p_value', 'double precision', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('window_end', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addUniqueConstraint('drift_alerts_rule_bucket', ['rule_id', 'bucket'])
    .execute();
  await db.schema.createIndex('drift_alerts_project').on('drift_alerts').columns(['project_id', 'id']).execute();
}
