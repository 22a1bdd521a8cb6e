import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type DatasetRow = Selectable<Database['datasets']>;
export type DatasetVersionRow = Selectable<Database['dataset_versions']>;
export type CaseRow = Selectable<Database['dataset_cases']>;

const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Datasets and their versions. A case row is in every version from `version_from` until the version
 * that replaced or removed it (`version_to`): a change only ever closes open rows and adds new ones, so
 * what an old version contains never changes.
 */
export function createDatasetsStore(db: Kysely<Database>) {
  return {
    async insert(row: DatasetRow): Promise<void> {
      await db.insertInto('datasets').values(row).execute();
    },

    async get(projectId: string, id: string): Promise<DatasetRow | undefined> {
      return db.selectFrom('datasets').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async byName(projectId: string, name: string): Promise<DatasetRow | undefined> {
      return db.selectFrom('datasets').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    },

    async list(projectId: string): Promise<DatasetRow[]> {
      return db.selectFrom('datasets').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
    },

    /** Moves the dataset from `fromVersion` to the next; false when another change got there first. */
    async advance(projectId: string, id: string, fromVersion: number, caseCount: number, at: string): Promise<boolean> {
      const result = await db
        .updateTable('datasets')
        .set({ latest_version: fromVersion + 1, case_count: caseCount, updated_at: at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('latest_version', '=', fromVersion)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async insertVersion(row: DatasetVersionRow): Promise<void> {
      await db.insertInto('dataset_versions').values(row).execute();
    },

    async setVersionCount(datasetId: string, version: number, caseCount: number): Promise<void> {
      await db.updateTable('dataset_versions').set({ case_count: caseCount }).where('dataset_id', '=', datasetId).where('version', '=', version).execute();
    },

    async versions(datasetId: string): Promise<DatasetVersionRow[]> {
      return db.selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId).orderBy('version', 'desc').execute();
    },

    async version(datasetId: string, version: number): Promise<DatasetVersionRow | undefined> {
      return db.selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId).where('version', '=', version).executeTakeFirst();
    },

    /** Which of `caseIds` are in the dataset's latest state (open rows). */
    async openIds(datasetId: string, caseIds: string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (const part of chunks(caseIds)) {
        const rows = await db
          .selectFrom('dataset_cases')
          .select('case_id')
          .where('dataset_id', '=', datasetId)
          .where('version_to', 'is', null)
          .where('case_id', 'in', part)
          .execute();
        for (const r of rows) found.add(r.case_id);
      }
      return found;
    },

    /** Ends the open rows of these cases at `version` (they are not in it or any later one). */
    async close(datasetId: string, caseIds: string[], version: number): Promise<void> {
      for (const part of chunks(caseIds)) {
        await db
          .updateTable('dataset_cases')
          .set({ version_to: version })
          .where('dataset_id', '=', datasetId)
          .where('version_to', 'is', null)
          .where('case_id', 'in', part)
          .execute();
      }
    },

    async insertCases(rows: CaseRow[]): Promise<void> {
      for (const part of chunks(rows)) if (part.length) await db.insertInto('dataset_cases').values(part).execute();
    },

    async countOpen(datasetId: string): Promise<number> {
      const row = await db
        .selectFrom('dataset_cases')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('dataset_id', '=', datasetId)
        .where('version_to', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Which of `caseIds` are in one version. */
    async idsInVersion(datasetId: string, version: number, caseIds: string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (const part of chunks(caseIds)) {
        const rows = await db
          .selectFrom('dataset_cases')
          .select('case_id')
          .where('dataset_id', '=', datasetId)
          .where('version_from', '<=', version)
          .where((eb) => eb.or([eb('version_to', 'is', null), eb('version_to', '>', version)]))
          .where('case_id', 'in', part)
          .execute();
        for (const r of rows) found.add(r.case_id);
      }
      return found;
    },

    /** The cases of one version in id order, after `afterId`. */
    async cases(datasetId: string, version: number, afterId: string | null, limit: number): Promise<CaseRow[]> {
      let q = db
        .selectFrom('dataset_cases')
        .selectAll()
        .where('dataset_id', '=', datasetId)
        .where('version_from', '<=', version)
        .where((eb) => eb.or([eb('version_to', 'is', null), eb('version_to', '>', version)]));
      if (afterId !== null) q = q.where('case_id', '>', afterId);
      return q.orderBy('case_id').limit(limit).execute();
    },
  };
}
