import type {
  AddSpansToDatasetRequest,
  CasePage,
  Comparison,
  ChangeDatasetRequest,
  CreateDatasetRequest,
  CreateExperimentRequest,
  CreateOnlineEvalRuleRequest,
  CreatedExperiment,
  Dataset,
  DatasetChange,
  DatasetVersion,
  DriftAlert,
  DriftAlertList,
  Experiment,
  ExperimentList,
  ExperimentStatus,
  OnlineEvalRuleWithSecret,
  PostResultsResponse,
  ResultPage,
  SpanScore,
  TrialResult,
  UpdateOnlineEvalRuleRequest,
} from '@hangar/protocol';
import { enc, type Call, type Send } from './call.js';


/**
 * Datasets, experiments and online evals: the evals part of the client. Datasets and experiments are
 * named by id or by name (`name@latest` for the newest completed experiment of a series).
 */
export function evalsMethods(call: Call, send: Send) {
  return {
    /**
     * Datasets of cases; every change makes a new immutable version.
     * @example
     * const ds = await hangar.datasets.create({ name: 'support-qa', cases: [{ input: 'Where is my order?', expected: 'tracking link' }] });
     * await hangar.datasets.change(ds.id, { upsert: [{ id: 'c1', input: '…' }], remove: ['c2'] });
     */
    datasets: {
      create: (request: CreateDatasetRequest) => call<Dataset>('POST', '/v1/datasets', request),
      list: () => call<{ datasets: Dataset[] }>('GET', '/v1/datasets'),
      get: (idOrName: string) => call<Dataset>('GET', `/v1/datasets/${enc(idOrName)}`),
      /** Upserts and removes cases as one new version. */
      change: (idOrName: string, request: ChangeDatasetRequest) => call<DatasetChange>('POST', `/v1/datasets/${enc(idOrName)}/versions`, request),
      versions: (idOrName: string) => call<{ versions: DatasetVersion[] }>('GET', `/v1/datasets/${enc(idOrName)}/versions`),
      /** A page of a version's cases (the latest version unless given). */
      cases: (idOrName: string, page: { version?: number; cursor?: string; limit?: number } = {}) =>
        call<CasePage>('GET', `/v1/datasets/${enc(idOrName)}/cases`, undefined, page),
      /** Every case of a version, following the pages. */
      async allCases(idOrName: string, version?: number): Promise<{ version: number; cases: CasePage['cases'] }> {
        const cases: CasePage['cases'] = [];
        let cursor: string | undefined;
        let at = version;
        for (;;) {
          const page = await call<CasePage>('GET', `/v1/datasets/${enc(idOrName)}/cases`, undefined, { version: at, cursor, limit: 1000 });
          cases.push(...page.cases);
          at = page.version;
          if (!page.nextCursor) return { version: page.version, cases };
          cursor = page.nextCursor;
        }
      },
      /** Imports a JSONL or CSV file's text as one new version; a bad line fails with `details.line`. */
      import: (idOrName: string, content: string, format: 'jsonl' | 'csv', options: { note?: string } = {}) =>
        send('POST', `/v1/datasets/${enc(idOrName)}/import`, { text: content, contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson' }, options).then(
          (res) => res.json() as Promise<DatasetChange>,
        ),
      /** A version's cases as JSONL or CSV text. */
      export: (idOrName: string, options: { version?: number; format?: 'jsonl' | 'csv' } = {}) =>
        send('GET', `/v1/datasets/${enc(idOrName)}/export`, undefined, options).then((res) => res.text()),
      /** Production spans as cases: input messages → input, output → expected. */
      addSpans: (idOrName: string, request: AddSpansToDatasetRequest) => call<DatasetChange>('POST', `/v1/datasets/${enc(idOrName)}/spans`, request),
    },
    /**
     * Experiments: trials of a task over a dataset version, posted in batches and compared.
     * @example
     * const exp = await hangar.experiments.create({ name: 'prompt-v2', datasetId: 'support-qa', trials: 3 });
     * await hangar.experiments.postResults(exp.id, [{ caseId, trial: 0, output, durationMs: 812, scores: [{ name: 'exact', value: 1 }] }]);
     * await hangar.experiments.finish(exp.id);
     * const diff = await hangar.experiments.compare(exp.id, 'prompt-v1@latest');
     */
    experiments: {
      /** With `budgetMicros`, the answer carries a credential (shown once) to send the trials' model calls with. */
      create: (request: CreateExperimentRequest) => call<CreatedExperiment>('POST', '/v1/experiments', request),
      list: (filter: { name?: string; datasetId?: string; status?: ExperimentStatus; cursor?: string; limit?: number } = {}) =>
        call<ExperimentList>('GET', '/v1/experiments', undefined, filter),
      /** By id or `name@latest`, with score summaries. */
      get: (idOrRef: string) => call<Experiment>('GET', `/v1/experiments/${enc(idOrRef)}`),
      /** Idempotent per (caseId, trial): re-posting a stored result is harmless; a different one is `idempotency_conflict`. */
      postResults: (id: string, results: TrialResult[]) => call<PostResultsResponse>('POST', `/v1/experiments/${enc(id)}/results`, { results }),
      results: (idOrRef: string, page: { caseId?: string; cursor?: string; limit?: number } = {}) =>
        call<ResultPage>('GET', `/v1/experiments/${enc(idOrRef)}/results`, undefined, page),
      finish: (id: string, status: Exclude<ExperimentStatus, 'running'> = 'completed') =>
        call<Experiment>('POST', `/v1/experiments/${enc(id)}/finish`, { status }),
      /** The candidate against a baseline (an id or `name@latest`) on the same dataset version; `conflict` otherwise. */
      compare: (candidate: string, baseline: string, options: { alpha?: number } = {}) =>
        call<Comparison>('GET', `/v1/experiments/${enc(candidate)}/compare`, undefined, { baseline, alpha: options.alpha }),
    },
    /**
     * Online evals: server-side scorers on sampled production spans, and drift alerts.
     * @example
     * await hangar.onlineEvals.create({ name: 'cites a source', scorer: { type: 'regex', pattern: 'https?://' }, sampleRate: 0.1, webhookUrl: 'https://ops.example.com/hooks' });
     * const { alerts } = await hangar.onlineEvals.alerts({ unacknowledged: true });
     */
    onlineEvals: {
      /** The answer carries `webhookSecret`, which signs the rule's drift webhooks. */
      create: (request: CreateOnlineEvalRuleRequest) => call<OnlineEvalRuleWithSecret>('POST', '/v1/online-evals', request),
      list: () => call<{ rules: OnlineEvalRuleWithSecret[] }>('GET', '/v1/online-evals'),
      get: (id: string) => call<OnlineEvalRuleWithSecret>('GET', `/v1/online-evals/${enc(id)}`),
      update: (id: string, request: UpdateOnlineEvalRuleRequest) => call<OnlineEvalRuleWithSecret>('PATCH', `/v1/online-evals/${enc(id)}`, request),
      delete: (id: string) => send('DELETE', `/v1/online-evals/${enc(id)}`, undefined).then(() => undefined),
      /** The scores rules gave one span. */
      spanScores: (traceId: string, spanId: string) =>
        call<{ scores: SpanScore[] }>('GET', `/v1/traces/${enc(traceId)}/spans/${enc(spanId)}/scores`),
      alerts: (filter: { ruleId?: string; unacknowledged?: boolean; cursor?: string; limit?: number } = {}) =>
        call<DriftAlertList>('GET', '/v1/drift-alerts', undefined, {
          ...filter,
          unacknowledged: filter.unacknowledged === undefined ? undefined : String(filter.unacknowledged),
        }),
      acknowledge: (id: string) => call<DriftAlert>('POST', `/v1/drift-alerts/${enc(id)}/acknowledge`),
    },
  };
}
