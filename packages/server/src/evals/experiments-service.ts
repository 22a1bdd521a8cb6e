import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type {
  Comparison,
  CreateExperimentRequest,
  CreatedExperiment,
  Experiment,
  ExperimentStatus,
  PostResultsResponse,
  ResultPage,
  ScoreSummary,
  StoredTrialResult,
  TrialResult,
} from '@hangar/protocol';
import type { Budgets } from '../budgets/budgets-service.js';
import type { Database } from '../db/schema.js';
import { isRetryableConflict } from '../db/dialects/errors.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { Identity } from '../identity/identity-service.js';
import type { Journal } from '../journal/journal-service.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId, nowIso } from '../util/ids.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { createDatasetsStore } from './datasets-store.js';
import { EVALS_STREAM, type Datasets } from './datasets-service.js';
import { compareScores, summarizeScoreRows } from './evals-stats.js';
import { createExperimentsStore, type ExperimentRow, type ResultRow, type ScoreRow } from './experiments-store.js';

export interface ExperimentsOptions {
  db: Kysely<Database>;
  journal: Journal;
  datasets: Datasets;
  identity: Identity;
  budgets: Budgets;
  logger?: Logger;
}

/** Running sums of one score across an experiment, kept on the row so listing never reads results. */
interface Counter {
  n: number;
  sum: number;
  sumSq: number;
  errors: number;
  passN: number;
  passes: number;
}
type Counters = Record<string, Counter>;

const Z95 = 1.959963984540054;
const CREDENTIAL_TTL_SECONDS = 86_400;

/** Summaries from the running sums: mean with a normal CI over trials, pass rate (no clustering, no pass@k). */
function summariesFromCounters(counters: Counters): ScoreSummary[] {
  return Object.entries(counters)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => {
      const mean = c.n ? c.sum / c.n : null;
      const variance = c.n > 1 && mean !== null ? Math.max(0, (c.sumSq - c.n * mean * mean) / (c.n - 1)) : null;
      const se = variance === null ? null : Math.sqrt(variance / c.n);
      return {
        name,
        n: c.n,
        errors: c.errors,
        mean,
        standardError: se,
        ciLow: mean === null || se === null ? null : mean - Z95 * se,
        ciHigh: mean === null || se === null ? null : mean + Z95 * se,
        passRate: c.passN ? c.passes / c.passN : null,
      };
    });
}

function toExperiment(r: ExperimentRow, scores: ScoreSummary[]): Experiment {
  return {
    id: r.id,
    name: r.name,
    datasetId: r.dataset_id,
    datasetVersion: r.dataset_version === null ? null : Number(r.dataset_version),
    status: r.status as ExperimentStatus,
    trials: Number(r.trials),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    agentId: r.agent_id,
    budgetMicros: r.budget_micros === null ? null : Number(r.budget_micros),
    casesTotal: Number(r.cases_total),
    trialsDone: Number(r.trials_done),
    costMicros: Number(r.cost_micros),
    scores,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

function toStoredResult(r: ResultRow): StoredTrialResult {
  const body = JSON.parse(r.body) as TrialResult;
  return { ...body, experimentId: r.experiment_id, costMicros: Number(r.cost_micros), createdAt: r.created_at } as StoredTrialResult;
}

/** An agent name from an experiment name: `eval-` and the name's letters, digits, dots, dashes, underscores. */
export function evalAgentName(experimentName: string): string {
  const slug = experimentName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 90);
  return `eval-${slug || 'experiment'}`;
}

/** Experiments: trials of a task over a dataset version, their scored results, summaries and comparisons. */
export function createExperiments({ db, journal, datasets, identity, budgets, logger }: ExperimentsOptions) {
  /** An experiment by id, or `name@latest`: the newest completed one of that name. */
  async function find(projectId: string, ref: string): Promise<ExperimentRow> {
    const store = createExperimentsStore(db);
    const latest = /^(.+)@latest$/.exec(ref);
    const row = latest ? await store.latestNamed(projectId, latest[1]!, 'completed') : await store.get(projectId, ref);
    if (!row) throw new ApiError('not_found', latest ? `No completed experiment named ${latest[1]} in this project.` : `No experiment ${ref} in this project.`);
    return row;
  }

  async function ensureAgent(auth: AuthContext, name: string) {
    const existing = (await identity.listAgents(auth.project.id)).find((a) => a.name === name);
    if (existing) {
      if (existing.revokedAt) throw new ApiError('conflict', `The agent ${name} that runs this experiment's budget was revoked; choose another experiment name.`);
      return existing;
    }
    try {
      return await identity.createAgent(auth, { name, owner: 'hangar evals', description: 'Runs the model calls of experiments with a budget' });
    } catch (err) {
      // another experiment of the same name made it meanwhile
      if (err instanceof ApiError && err.code === 'conflict') {
        const made = (await identity.listAgents(auth.project.id)).find((a) => a.name === name);
        if (made) return made;
      }
      throw err;
    }
  }

  /** Full summaries (clustered CIs, pass@k) from every score of the experiment: one narrow read. */
  async function summaries(row: ExperimentRow): Promise<ScoreSummary[]> {
    return summarizeScoreRows(await createExperimentsStore(db).scores(row.id));
  }

  return {
    find,

    async create(auth: AuthContext, input: CreateExperimentRequest): Promise<CreatedExperiment> {
      const projectId = auth.project.id;
      let datasetId: string | null = null;
      let datasetVersion: number | null = null;
      let casesTotal = input.casesTotal ?? 0;
      if (input.datasetId !== undefined) {
        const dataset = await datasets.find(projectId, input.datasetId);
        const latest = Number(dataset.latest_version);
        if (latest === 0) throw new ApiError('conflict', `Dataset ${dataset.name} has no cases yet: add some, then run an experiment on it.`);
        datasetVersion = input.datasetVersion ?? latest;
        if (datasetVersion > latest) throw new ApiError('not_found', `Dataset ${dataset.name} has no version ${datasetVersion} (latest is ${latest}).`);
        datasetId = dataset.id;
        casesTotal = Number((await createDatasetsStore(db).version(dataset.id, datasetVersion))!.case_count);
      } else if (input.datasetVersion !== undefined) {
        throw new ApiError('validation_failed', 'datasetVersion needs a datasetId.', { details: { issues: [{ path: 'json.datasetVersion', message: 'needs datasetId' }] } });
      }

      const id = newId('exp');
      let credential: CreatedExperiment['credential'] = null;
      let agentId: string | null = null;
      let credentialId: string | null = null;
      if (input.budgetMicros !== undefined) {
        const agent = await ensureAgent(auth, evalAgentName(input.name));
        // The spend cap follows delegation (a sub-agent can never spend more than remains); the hard
        // credential budget reserves each call's worst case, so concurrent trials cannot overspend either.
        const issued = await identity.issueCredential(auth, agent.id, {
          actingFor: { type: 'service', id: `experiment:${id}` },
          scopes: { models: ['*'], tools: ['*'], actions: ['model.call', 'tool.call'] },
          spendCapMicros: input.budgetMicros,
          ttlSeconds: CREDENTIAL_TTL_SECONDS,
        });
        await budgets.create(projectId, {
          name: `experiment ${input.name} (${id})`,
          scope: 'credential',
          scopeId: issued.credential.id,
          period: 'total',
          limitMicros: input.budgetMicros,
          mode: 'hard',
        });
        agentId = agent.id;
        credentialId = issued.credential.id;
        credential = { token: issued.token, id: issued.credential.id, expiresAt: issued.credential.expiresAt };
      }

      const row: ExperimentRow = {
        id,
        project_id: projectId,
        name: input.name,
        dataset_id: datasetId,
        dataset_version: datasetVersion,
        status: 'running',
        trials: input.trials ?? 1,
        metadata: JSON.stringify(input.metadata ?? {}),
        agent_id: agentId,
        credential_id: credentialId,
        budget_micros: input.budgetMicros ?? null,
        cases_total: casesTotal,
        trials_done: 0,
        cost_micros: 0,
        counters: '{}',
        created_at: nowIso(),
        finished_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await createExperimentsStore(trx).insert(row);
        await journal.append(
          {
            projectId,
            stream: EVALS_STREAM,
            actor: journalActorOf(auth),
            events: [{ type: 'experiment.created', payload: { experimentId: id, name: row.name, datasetId, datasetVersion, trials: row.trials, casesTotal, budgetMicros: row.budget_micros, agentId, credentialId } }],
          },
          trx,
        );
      });
      return { ...toExperiment(row, []), credential };
    },

    async get(projectId: string, ref: string): Promise<Experiment> {
      const row = await find(projectId, ref);
      return toExperiment(row, await summaries(row));
    },

    async list(projectId: string, filter: { name?: string; datasetId?: string; status?: string }, page: { cursor?: string; limit: number }) {
      let datasetId = filter.datasetId;
      if (datasetId !== undefined) datasetId = (await datasets.find(projectId, datasetId)).id;
      const before = page.cursor === undefined ? null : String(decodeCursor(page.cursor, 1)[0]);
      const rows = await createExperimentsStore(db).list(projectId, { ...filter, datasetId }, before, page.limit + 1);
      const shown = rows.slice(0, page.limit);
      return {
        experiments: shown.map((r) => toExperiment(r, summariesFromCounters(JSON.parse(r.counters) as Counters))),
        nextCursor: rows.length > page.limit ? encodeCursor([shown.at(-1)!.id]) : null,
      };
    },

    /**
     * Stores a batch of trial results. Idempotent per (caseId, trial): the same body again is counted as
     * `unchanged`; a different body for a stored pair refuses the whole batch with idempotency_conflict.
     */
    async postResults(auth: AuthContext, ref: string, results: TrialResult[]): Promise<PostResultsResponse> {
      const projectId = auth.project.id;
      const exp = await find(projectId, ref);
      const trials = Number(exp.trials);
      const batch = new Map<string, { result: TrialResult; sha: string }>();
      for (const [i, result] of results.entries()) {
        if (result.trial >= trials) {
          throw new ApiError('validation_failed', `results.${i}.trial: ${result.trial} is not below the experiment's ${trials} trials.`, { details: { issues: [{ path: `json.results.${i}.trial`, message: `must be below ${trials}` }] } });
        }
        const key = `${result.caseId}\u0000${result.trial}`;
        const sha = sha256Hex(canonicalJson(result));
        const before = batch.get(key);
        if (before && before.sha !== sha) {
          throw new ApiError('validation_failed', `results.${i}: case ${result.caseId} trial ${result.trial} appears twice with different bodies.`, { details: { issues: [{ path: `json.results.${i}`, message: 'duplicate (caseId, trial)' }] } });
        }
        batch.set(key, { result, sha });
      }
      if (exp.dataset_id !== null) {
        const ids = [...new Set(results.map((r) => r.caseId))];
        const known = await createDatasetsStore(db).idsInVersion(exp.dataset_id, Number(exp.dataset_version), ids);
        const unknown = ids.filter((id) => !known.has(id));
        if (unknown.length) {
          throw new ApiError('validation_failed', `No case ${unknown.slice(0, 5).join(', ')} in version ${exp.dataset_version} of the experiment's dataset.`, {
            details: { issues: unknown.slice(0, 20).map((id) => ({ path: 'json.results', message: `unknown caseId ${id}` })) },
          });
        }
      }

      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction().execute(async (trx) => {
            const store = createExperimentsStore(trx);
            const fresh = (await store.get(projectId, exp.id))!;
            const existing = await store.existing(exp.id, [...batch.values()].map((b) => b.result));
            const toStore: Array<{ result: TrialResult; sha: string }> = [];
            let unchanged = 0;
            for (const b of batch.values()) {
              const stored = existing.get(`${b.result.caseId}\u0000${b.result.trial}`);
              if (stored === undefined) toStore.push(b);
              else if (stored === b.sha) unchanged++;
              else {
                throw new ApiError('idempotency_conflict', `Case ${b.result.caseId} trial ${b.result.trial} already has a different result; results are first-wins.`, {
                  details: { caseId: b.result.caseId, trial: b.result.trial },
                });
              }
            }
            if (toStore.length && fresh.status !== 'running') {
              throw new ApiError('conflict', `Experiment ${fresh.name} is ${fresh.status}: it takes no new results.`);
            }
            if (toStore.length === 0) return { stored: 0, unchanged, trialsDone: Number(fresh.trials_done) };
            const at = nowIso();
            const counters = JSON.parse(fresh.counters) as Counters;
            let cost = 0;
            const scoreRows: ScoreRow[] = [];
            for (const { result } of toStore) {
              cost += result.costMicros ?? 0;
              for (const s of result.scores) {
                const errored = s.error !== undefined && s.error !== null;
                const value = errored ? null : s.value;
                scoreRows.push({ experiment_id: exp.id, case_id: result.caseId, trial: result.trial, name: s.name, value, pass: s.pass === undefined || s.pass === null ? null : s.pass ? 1 : 0, errored: errored ? 1 : 0 });
                const c = (counters[s.name] ??= { n: 0, sum: 0, sumSq: 0, errors: 0, passN: 0, passes: 0 });
                if (errored) c.errors++;
                else if (value !== null) {
                  c.n++;
                  c.sum += value;
                  c.sumSq += value * value;
                }
                if (!errored && s.pass !== undefined && s.pass !== null) {
                  c.passN++;
                  if (s.pass) c.passes++;
                }
              }
            }
            const seen = new Set<string>();
            const uniqueScores = scoreRows.filter((r) => {
              const k = `${r.case_id}\u0000${r.trial}\u0000${r.name}`;
              if (seen.has(k)) return false;
              seen.add(k);
              return true;
            });
            await store.insertResults(
              toStore.map(({ result, sha }) => ({ experiment_id: exp.id, case_id: result.caseId, trial: result.trial, body: JSON.stringify(result), body_sha256: sha, cost_micros: result.costMicros ?? 0, created_at: at })),
              uniqueScores,
            );
            const trialsDone = Number(fresh.trials_done) + toStore.length;
            const ok = await store.addTotals(exp.id, Number(fresh.trials_done), { trialsDone, costMicros: Number(fresh.cost_micros) + cost, counters: JSON.stringify(counters) });
            if (!ok) throw Object.assign(new Error('experiment totals moved'), { code: '40001' });
            return { stored: toStore.length, unchanged, trialsDone };
          });
        } catch (err) {
          // another batch for the same experiment committed first: read again and redo
          if (attempt < 10 && !(err instanceof ApiError) && isRetryableConflict(err)) continue;
          throw err;
        }
      }
    },

    async results(projectId: string, ref: string, page: { cursor?: string; limit: number; caseId?: string }): Promise<ResultPage> {
      const exp = await find(projectId, ref);
      const after = page.cursor === undefined ? null : decodeCursor(page.cursor, 2);
      const rows = await createExperimentsStore(db).results(exp.id, after ? { caseId: String(after[0]), trial: Number(after[1]) } : null, page.limit + 1, page.caseId);
      const shown = rows.slice(0, page.limit);
      const last = shown.at(-1);
      return { results: shown.map(toStoredResult), nextCursor: rows.length > page.limit && last ? encodeCursor([last.case_id, Number(last.trial)]) : null };
    },

    /** Ends a running experiment (completed, failed or stopped) and revokes its budget credential. */
    async finish(auth: AuthContext, ref: string, status: Exclude<ExperimentStatus, 'running'>): Promise<Experiment> {
      const exp = await find(auth.project.id, ref);
      if (exp.status !== 'running') {
        if (exp.status === status) return toExperiment(exp, await summaries(exp));
        throw new ApiError('conflict', `Experiment ${exp.name} is already ${exp.status}.`);
      }
      const at = nowIso();
      const scores = await summaries(exp);
      await db.transaction().execute(async (trx) => {
        if (!(await createExperimentsStore(trx).finish(exp.id, status, at))) throw new ApiError('conflict', `Experiment ${exp.name} was finished meanwhile.`);
        await journal.append(
          {
            projectId: auth.project.id,
            stream: EVALS_STREAM,
            actor: journalActorOf(auth),
            events: [{ type: 'experiment.finished', payload: { experimentId: exp.id, name: exp.name, status, trialsDone: Number(exp.trials_done), costMicros: Number(exp.cost_micros), scores: scores.map((s) => ({ name: s.name, mean: s.mean, n: s.n, errors: s.errors })) } }],
          },
          trx,
        );
      });
      if (exp.credential_id) {
        await identity.revokeCredential(auth, exp.credential_id).catch((err: unknown) => logger?.warn({ err, experimentId: exp.id }, 'experiment credential could not be revoked'));
      }
      return toExperiment({ ...exp, status, finished_at: at }, scores);
    },

    /** Candidate vs baseline on the same dataset version, per metric, with paired tests. */
    async compare(projectId: string, candidateRef: string, baselineRef: string, alpha: number): Promise<Comparison> {
      const candidate = await find(projectId, candidateRef);
      const baseline = await find(projectId, baselineRef);
      if (candidate.dataset_id !== baseline.dataset_id || Number(candidate.dataset_version) !== Number(baseline.dataset_version)) {
        const where = (e: ExperimentRow) => (e.dataset_id ? `${e.dataset_id} v${e.dataset_version}` : 'inline data');
        throw new ApiError('conflict', `Experiments ran on different data (baseline ${baseline.id}: ${where(baseline)}; candidate ${candidate.id}: ${where(candidate)}): only runs on the same dataset version pair case by case.`, {
          details: { baseline: { id: baseline.id, datasetId: baseline.dataset_id, datasetVersion: baseline.dataset_version }, candidate: { id: candidate.id, datasetId: candidate.dataset_id, datasetVersion: candidate.dataset_version } },
        });
      }
      const store = createExperimentsStore(db);
      const result = compareScores(await store.scores(baseline.id), await store.scores(candidate.id), alpha);
      return {
        baselineId: baseline.id,
        candidateId: candidate.id,
        datasetId: candidate.dataset_id,
        datasetVersion: candidate.dataset_version === null ? null : Number(candidate.dataset_version),
        ...result,
      };
    },
  };
}

export type Experiments = ReturnType<typeof createExperiments>;
