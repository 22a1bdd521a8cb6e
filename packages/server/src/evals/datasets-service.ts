import type { Kysely } from 'kysely';
import type {
  AddSpansToDatasetRequest,
  CaseInput,
  CasePage,
  ChangeDatasetRequest,
  CreateDatasetRequest,
  Dataset,
  DatasetCase,
  DatasetChange,
  DatasetVersion,
} from '@hangar/protocol';
import type { Database } from '../db/schema.js';
import { isRetryableConflict } from '../db/dialects/errors.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { Journal } from '../journal/journal-service.js';
import type { TraceQueryService } from '../traces/trace-query-service.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId, nowIso } from '../util/ids.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { createDatasetsStore, type CaseRow, type DatasetRow, type DatasetVersionRow } from './datasets-store.js';

/** The journal stream of a project's evals: dataset versions, experiments created and finished, rules. */
export const EVALS_STREAM = 'evals';

export interface DatasetsOptions {
  db: Kysely<Database>;
  journal: Journal;
  traceQuery: TraceQueryService;
}

/** A case's id: its own, or one derived from its input's canonical JSON (stable across versions). */
export function caseIdOf(c: CaseInput): string {
  return c.id ?? `c_${sha256Hex(canonicalJson(c.input)).slice(0, 24)}`;
}

function toDataset(r: DatasetRow): Dataset {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    latestVersion: Number(r.latest_version),
    caseCount: Number(r.case_count),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toVersion(r: DatasetVersionRow): DatasetVersion {
  return { datasetId: r.dataset_id, version: Number(r.version), caseCount: Number(r.case_count), note: r.note, createdAt: r.created_at };
}

export function toCase(r: CaseRow): DatasetCase {
  return {
    id: r.case_id,
    input: JSON.parse(r.input) as unknown,
    expected: r.expected === null ? null : (JSON.parse(r.expected) as unknown),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    tags: JSON.parse(r.tags) as string[],
    source: r.source,
  };
}

interface Change {
  upsert: Array<CaseInput & { source?: string | null }>;
  remove: string[];
  note: string | null;
}

/** Datasets of cases, each change a new immutable version. */
export function createDatasets({ db, journal, traceQuery }: DatasetsOptions) {
  async function find(projectId: string, idOrName: string, store = createDatasetsStore(db)): Promise<DatasetRow> {
    const row = idOrName.startsWith('ds_') ? await store.get(projectId, idOrName) : await store.byName(projectId, idOrName);
    if (!row) throw new ApiError('not_found', `No dataset ${idOrName} in this project.`);
    return row;
  }

  function validateChange(change: Change): void {
    const seen = new Set<string>();
    for (const c of change.upsert) {
      const id = caseIdOf(c);
      if (seen.has(id)) throw new ApiError('validation_failed', `Case ${id} appears twice in one change.`, { details: { issues: [{ path: 'upsert', message: `duplicate case id ${id}` }] } });
      seen.add(id);
    }
    for (const id of change.remove) {
      if (seen.has(id)) throw new ApiError('validation_failed', `Case ${id} is both upserted and removed.`, { details: { issues: [{ path: 'remove', message: `case ${id} is also upserted` }] } });
    }
    if (change.upsert.length === 0 && change.remove.length === 0) {
      throw new ApiError('validation_failed', 'A change must upsert or remove at least one case.', { details: { issues: [{ path: 'body', message: 'empty change' }] } });
    }
  }

  /** Applies a change as the next version, in the caller's transaction. */
  async function applyIn(trx: Kysely<Database>, auth: AuthContext, dataset: DatasetRow, change: Change): Promise<DatasetChange> {
    const store = createDatasetsStore(trx);
    const from = Number(dataset.latest_version);
    const version = from + 1;
    const at = nowIso();
    if (change.remove.length) {
      const present = await store.openIds(dataset.id, change.remove);
      const missing = change.remove.filter((id) => !present.has(id));
      if (missing.length) {
        throw new ApiError('validation_failed', `Cannot remove cases that are not in version ${from}: ${missing.slice(0, 5).join(', ')}.`, {
          details: { issues: missing.slice(0, 20).map((id) => ({ path: 'remove', message: `no case ${id}` })) },
        });
      }
    }
    await store.insertVersion({ dataset_id: dataset.id, version, case_count: 0, note: change.note, created_at: at });
    const upsertIds = change.upsert.map(caseIdOf);
    await store.close(dataset.id, [...upsertIds, ...change.remove], version);
    await store.insertCases(
      change.upsert.map((c, i) => ({
        dataset_id: dataset.id,
        case_id: upsertIds[i]!,
        version_from: version,
        version_to: null,
        input: JSON.stringify(c.input ?? null),
        expected: c.expected === undefined ? null : JSON.stringify(c.expected),
        metadata: JSON.stringify(c.metadata ?? {}),
        tags: JSON.stringify(c.tags ?? []),
        source: c.source ?? null,
      })),
    );
    const count = await store.countOpen(dataset.id);
    await store.setVersionCount(dataset.id, version, count);
    if (!(await store.advance(dataset.project_id, dataset.id, from, count, at))) {
      throw new ApiError('conflict', `Dataset ${dataset.name} changed while this change was applied; retry it.`);
    }
    await journal.append(
      {
        projectId: dataset.project_id,
        stream: EVALS_STREAM,
        actor: journalActorOf(auth),
        events: [{ type: 'dataset.version', payload: { datasetId: dataset.id, name: dataset.name, version, caseCount: count, upserted: upsertIds.length, removed: change.remove.length, note: change.note } }],
      },
      trx,
    );
    return {
      dataset: toDataset({ ...dataset, latest_version: version, case_count: count, updated_at: at }),
      version: { datasetId: dataset.id, version, caseCount: count, note: change.note, createdAt: at },
    };
  }

  async function change(auth: AuthContext, idOrName: string, input: Change): Promise<DatasetChange> {
    validateChange(input);
    try {
      return await db.transaction().execute(async (trx) => applyIn(trx, auth, await find(auth.project.id, idOrName, createDatasetsStore(trx)), input));
    } catch (err) {
      if (isRetryableConflict(err)) throw new ApiError('conflict', `Dataset ${idOrName} changed while this change was applied; retry it.`, { cause: err });
      throw err;
    }
  }

  async function versionOf(dataset: DatasetRow, version: number | undefined): Promise<number> {
    const latest = Number(dataset.latest_version);
    if (version === undefined) return latest;
    if (version < 1 || version > latest) throw new ApiError('not_found', `Dataset ${dataset.name} has no version ${version} (latest is ${latest}).`);
    return version;
  }

  async function allCases(dataset: DatasetRow, version: number): Promise<DatasetCase[]> {
    const store = createDatasetsStore(db);
    const out: DatasetCase[] = [];
    let after: string | null = null;
    for (;;) {
      const rows = await store.cases(dataset.id, version, after, 1000);
      out.push(...rows.map(toCase));
      if (rows.length < 1000) return out;
      after = rows.at(-1)!.case_id;
    }
  }

  return {
    async create(auth: AuthContext, input: CreateDatasetRequest): Promise<Dataset> {
      const at = nowIso();
      const row: DatasetRow = {
        id: newId('ds'),
        project_id: auth.project.id,
        name: input.name,
        description: input.description ?? null,
        latest_version: 0,
        case_count: 0,
        created_at: at,
        updated_at: at,
      };
      const cases = input.cases ?? [];
      if (cases.length) validateChange({ upsert: cases, remove: [], note: null });
      try {
        return await db.transaction().execute(async (trx) => {
          const store = createDatasetsStore(trx);
          if (await store.byName(auth.project.id, input.name)) throw new ApiError('conflict', `A dataset named ${input.name} exists in this project.`);
          await store.insert(row);
          await journal.append(
            { projectId: auth.project.id, stream: EVALS_STREAM, actor: journalActorOf(auth), events: [{ type: 'dataset.created', payload: { datasetId: row.id, name: row.name } }] },
            trx,
          );
          if (!cases.length) return toDataset(row);
          return (await applyIn(trx, auth, row, { upsert: cases, remove: [], note: 'created' })).dataset;
        });
      } catch (err) {
        if (isRetryableConflict(err)) throw new ApiError('conflict', `A dataset named ${input.name} exists in this project.`, { cause: err });
        throw err;
      }
    },

    async list(projectId: string): Promise<Dataset[]> {
      return (await createDatasetsStore(db).list(projectId)).map(toDataset);
    },

    async get(projectId: string, idOrName: string): Promise<Dataset> {
      return toDataset(await find(projectId, idOrName));
    },

    /** The dataset row (for experiments): by id or name. */
    find,

    change(auth: AuthContext, idOrName: string, input: ChangeDatasetRequest): Promise<DatasetChange> {
      return change(auth, idOrName, { upsert: input.upsert ?? [], remove: input.remove ?? [], note: input.note ?? null });
    },

    /** Upserts the cases of an imported file as one new version. */
    importCases(auth: AuthContext, idOrName: string, cases: CaseInput[], note: string | null): Promise<DatasetChange> {
      return change(auth, idOrName, { upsert: cases, remove: [], note: note ?? `import of ${cases.length} cases` });
    },

    async versions(projectId: string, idOrName: string): Promise<DatasetVersion[]> {
      const dataset = await find(projectId, idOrName);
      return (await createDatasetsStore(db).versions(dataset.id)).map(toVersion);
    },

    async cases(projectId: string, idOrName: string, page: { version?: number; cursor?: string; limit: number }): Promise<CasePage> {
      const dataset = await find(projectId, idOrName);
      const version = await versionOf(dataset, page.version);
      const after = page.cursor === undefined ? null : String(decodeCursor(page.cursor, 1)[0]);
      const rows = await createDatasetsStore(db).cases(dataset.id, version, after, page.limit + 1);
      const shown = rows.slice(0, page.limit);
      return {
        cases: shown.map(toCase),
        version,
        nextCursor: rows.length > page.limit ? encodeCursor([shown.at(-1)!.case_id]) : null,
      };
    },

    /** Every case of a version (for export and for experiments), in id order. */
    async allCases(projectId: string, idOrName: string, version?: number): Promise<{ dataset: Dataset; version: number; cases: DatasetCase[] }> {
      const dataset = await find(projectId, idOrName);
      const v = await versionOf(dataset, version);
      return { dataset: toDataset(dataset), version: v, cases: await allCases(dataset, v) };
    },

    /** Production spans as cases: input messages → input, output → expected; refuses unknown spans, writing nothing. */
    async addSpans(auth: AuthContext, idOrName: string, input: AddSpansToDatasetRequest): Promise<DatasetChange> {
      const upsert: Change['upsert'] = [];
      for (const { traceId, spanId } of input.spans) {
        const span = await traceQuery.span(auth.project.id, traceId, spanId);
        if (!span) throw new ApiError('not_found', `No span ${traceId}/${spanId} in this project.`, { details: { traceId, spanId } });
        const source = `span:${traceId}/${spanId}`;
        upsert.push({
          id: source,
          input: span.input,
          ...(span.output === null ? {} : { expected: span.output }),
          metadata: { spanName: span.name, kind: span.kind, model: span.model, agent: span.agent, startTime: span.startTime },
          tags: input.tags ?? [],
          source,
        });
      }
      return change(auth, idOrName, { upsert, remove: [], note: input.note ?? `added ${upsert.length} spans` });
    },
  };
}

export type Datasets = ReturnType<typeof createDatasets>;
