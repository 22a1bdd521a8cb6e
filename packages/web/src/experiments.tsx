import { Fragment, useCallback, useState, type FormEvent } from 'react';
import type { HangarClient } from '@hangar/sdk';
import type { Dataset, Experiment, ScoreSummary, StoredTrialResult } from '@hangar/protocol';
import { usePagedRequest, useRequest, type PagedRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { evalsHref } from './evals.js';
import { Field } from './field.js';
import { formatCost, formatDuration, formatInterval, formatScore, formatTime } from './format.js';
import { ScoreHistogram } from './score-charts.js';
import { traceHash } from './traces.js';

/** Trials read for one experiment page; beyond this the page says so instead of hanging. */
const MAX_TRIALS_SHOWN = 5000;

/** `support-qa@3`, linking to that version of the dataset. */
function DatasetRef({ experiment, datasets }: { experiment: Experiment; datasets: Map<string, Dataset> }) {
  if (!experiment.datasetId) return <span className="muted">inline data</span>;
  const name = datasets.get(experiment.datasetId)?.name ?? experiment.datasetId;
  return (
    <a href={evalsHref.dataset(experiment.datasetId, experiment.datasetVersion ?? undefined)}>
      {name}@{experiment.datasetVersion}
    </a>
  );
}

function StatusBadge({ status }: { status: Experiment['status'] }) {
  return <span className={`badge experiment-${status}`}>{status}</span>;
}

const trialsTotal = (e: Experiment) => e.casesTotal * e.trials;

/** `exact 0.82 [0.75, 0.88]` for each score. */
function HeadlineScores({ scores }: { scores: ScoreSummary[] }) {
  if (scores.length === 0) return <span className="muted">no scores yet</span>;
  return (
    <ul className="headline-scores">
      {scores.map((s) => (
        <li key={s.name}>
          <span className="muted">{s.name}</span> <strong>{formatScore(s.mean)}</strong>{' '}
          <span className="muted small">{formatInterval(s.ciLow, s.ciHigh)}</span>
        </li>
      ))}
    </ul>
  );
}

function useDatasets(client: HangarClient) {
  const load = useCallback(
    () => client.datasets.list().then((r) => new Map(r.datasets.map((d) => [d.id, d]))),
    [client],
  );
  const [state] = useRequest(load);
  return state.status === 'ok' ? state.data : new Map<string, Dataset>();
}

/** Experiments, newest first, with their running score means. */
export function ExperimentsList({ client }: { client: HangarClient }) {
  const datasets = useDatasets(client);
  const loadPage = useCallback(
    (cursor: string | undefined) =>
      client.experiments
        .list({ limit: 50, cursor })
        .then((p) => ({ items: p.experiments, nextCursor: p.nextCursor })),
    [client],
  );
  const { state: first, items: experiments, reload, ...paging } = usePagedRequest(loadPage);

  return (
    <>
      <div className="page-head">
        <h1>Experiments</h1>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {first.status === 'loading' ? (
        <p className="muted">Loading experiments…</p>
      ) : first.status === 'error' ? (
        <ErrorMessage error={first.error} />
      ) : experiments.length === 0 ? (
        <div className="empty-state">
          <p className="empty-lead">No experiments yet.</p>
          <p className="muted">
            Run <code>Eval()</code> from the SDK or <code>hangar eval</code> over a dataset; each experiment
            appears here with its trials, scores and cost as results arrive.
          </p>
        </div>
      ) : (
        <div className="table-scroll panel flush">
          <table className="data evals-table" aria-label="Experiments">
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Dataset</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Trials
                </th>
                <th scope="col" className="num">
                  Cost
                </th>
                <th scope="col">Scores (mean, 95% CI)</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {experiments.map((e) => (
                <tr key={e.id}>
                  <td>
                    <a href={evalsHref.experiment(e.id)}>{e.name}</a>
                  </td>
                  <td>
                    <DatasetRef experiment={e} datasets={datasets} />
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="num">
                    {e.trialsDone} / {trialsTotal(e)}
                  </td>
                  <td className="num">{formatCost(e.costMicros)}</td>
                  <td>
                    <HeadlineScores scores={e.scores} />
                  </td>
                  <td>{formatTime(e.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore {...paging} label="Load more experiments" />
    </>
  );
}

/** Every trial of an experiment, following the pages up to {@link MAX_TRIALS_SHOWN}. */
async function loadTrials(
  client: HangarClient,
  id: string,
): Promise<{ results: StoredTrialResult[]; truncated: boolean }> {
  const results: StoredTrialResult[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await client.experiments.results(id, { cursor, limit: 1000 });
    results.push(...page.results);
    if (!page.nextCursor) return { results, truncated: false };
    if (results.length >= MAX_TRIALS_SHOWN) return { results, truncated: true };
    cursor = page.nextCursor;
  }
}

/** One experiment: its facts, score summaries with histograms, and every trial by case. */
export function ExperimentPage({ client, id }: { client: HangarClient; id: string }) {
  const datasets = useDatasets(client);
  const loadExperiment = useCallback(() => client.experiments.get(id), [client, id]);
  const [experiment, reload] = useRequest(loadExperiment);
  const loadResults = useCallback(() => loadTrials(client, id), [client, id]);
  const [trials, reloadTrials] = useRequest(loadResults);

  if (experiment.status === 'loading') return <p className="muted">Loading experiment…</p>;
  if (experiment.status === 'error') {
    return (
      <>
        <a href={evalsHref.experiments()} className="back-link">
          ← Experiments
        </a>
        <ErrorMessage error={experiment.error} />
      </>
    );
  }
  const e = experiment.data;
  const results = trials.status === 'ok' ? trials.data.results : [];

  return (
    <>
      <a href={evalsHref.experiments()} className="back-link">
        ← Experiments
      </a>
      <div className="page-head">
        <h1>{e.name}</h1>
        <StatusBadge status={e.status} />
        <button
          type="button"
          onClick={() => {
            reload();
            reloadTrials();
          }}
        >
          Refresh
        </button>
      </div>
      <dl className="stats">
        <div>
          <dt>Dataset</dt>
          <dd>
            <DatasetRef experiment={e} datasets={datasets} />
          </dd>
        </div>
        <div>
          <dt>Trials</dt>
          <dd>
            {e.trialsDone} / {trialsTotal(e)} ({e.trials} per case)
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>
            {formatCost(e.costMicros)}
            {e.budgetMicros !== null ? <span className="muted"> of {formatCost(e.budgetMicros)}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(e.createdAt)}</dd>
        </div>
        {e.finishedAt ? (
          <div>
            <dt>Finished</dt>
            <dd>{formatTime(e.finishedAt)}</dd>
          </div>
        ) : null}
      </dl>

      <CompareWith client={client} experiment={e} />

      <section className="panel" aria-labelledby="scores-heading">
        <h2 id="scores-heading">Scores</h2>
        <ScoreSummaries experiment={e} />
        {trials.status === 'ok' && e.scores.length > 0 ? (
          <div className="histograms">
            {e.scores.map((s) => (
              <ScoreHistogram
                key={s.name}
                name={s.name}
                values={results.flatMap((r) =>
                  r.scores
                    .filter((x) => x.name === s.name && typeof x.value === 'number')
                    .map((x) => x.value as number),
                )}
              />
            ))}
          </div>
        ) : null}
      </section>

      <section className="panel flush" aria-labelledby="trials-heading">
        <h2 id="trials-heading" className="panel-title">
          Cases and trials
        </h2>
        {trials.status === 'loading' ? (
          <p className="muted panel-title">Loading trials…</p>
        ) : trials.status === 'error' ? (
          <ErrorMessage error={trials.error} />
        ) : results.length === 0 ? (
          <p className="muted panel-title">No trial results yet.</p>
        ) : (
          <>
            {trials.data.truncated ? (
              <p className="muted panel-title">Showing the first {results.length} trials.</p>
            ) : null}
            <TrialsTable results={results} scoreNames={e.scores.map((s) => s.name)} />
          </>
        )}
      </section>
    </>
  );
}

function ScoreSummaries({ experiment }: { experiment: Experiment }) {
  if (experiment.scores.length === 0) return <p className="muted">No scores yet.</p>;
  const ks = Array.from({ length: experiment.trials }, (_, i) => String(i + 1)).filter((k) =>
    experiment.scores.some((s) => s.passAtK?.[k] !== undefined),
  );
  return (
    <div className="table-scroll">
      <table className="data" aria-label="Score summaries">
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col" className="num">
              Mean
            </th>
            <th scope="col" className="num">
              95% CI
            </th>
            <th scope="col" className="num">
              Pass rate
            </th>
            {ks.map((k) => (
              <th
                key={k}
                scope="col"
                className="num"
                title={`Chance that at least one of ${k} trials passes`}
              >
                pass@{k}
              </th>
            ))}
            {ks.length > 1 ? (
              <th scope="col" className="num" title={`Chance that all ${ks.at(-1)} trials pass`}>
                pass^{ks.at(-1)}
              </th>
            ) : null}
            <th scope="col" className="num">
              n
            </th>
            <th scope="col" className="num">
              Errors
            </th>
          </tr>
        </thead>
        <tbody>
          {experiment.scores.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              <td className="num">{formatScore(s.mean)}</td>
              <td className="num">{formatInterval(s.ciLow, s.ciHigh)}</td>
              <td className="num">{s.passRate === null ? '—' : `${(s.passRate * 100).toFixed(1)}%`}</td>
              {ks.map((k) => (
                <td key={k} className="num">
                  {formatScore(s.passAtK?.[k])}
                </td>
              ))}
              {ks.length > 1 ? <td className="num">{formatScore(s.passHatK?.[ks.at(-1)!])}</td> : null}
              <td className="num">{s.n}</td>
              <td className="num">{s.errors ? <span className="status-error">{s.errors}</span> : 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** JSON as one short line for a table cell; the whole value sits behind a disclosure. */
export function JsonCell({ value }: { value: unknown }) {
  if (value === undefined || value === null) return <span className="muted">—</span>;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length <= 80) return <span className="json-cell">{text}</span>;
  return (
    <details className="json-cell">
      <summary>{text.slice(0, 80)}…</summary>
      <pre>{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

/** One row per trial, grouped by case: each score, the output or error, time, cost and the trace. */
function TrialsTable({ results, scoreNames }: { results: StoredTrialResult[]; scoreNames: string[] }) {
  const byCase = new Map<string, StoredTrialResult[]>();
  for (const r of results) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r]);
  return (
    <div className="table-scroll">
      <table className="data trials-table" aria-label="Trials">
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col" className="num">
              Trial
            </th>
            {scoreNames.map((n) => (
              <th key={n} scope="col" className="num">
                {n}
              </th>
            ))}
            <th scope="col">Output</th>
            <th scope="col" className="num">
              Time
            </th>
            <th scope="col" className="num">
              Cost
            </th>
            <th scope="col">Trace</th>
          </tr>
        </thead>
        <tbody>
          {[...byCase]
            .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
            .map(([caseId, rows]) => (
              <Fragment key={caseId}>
                {rows.map((r, i) => (
                  <tr key={r.trial} className={r.error ? 'has-error' : undefined} data-case={caseId}>
                    {i === 0 ? (
                      <th scope="rowgroup" rowSpan={rows.length} className="case-id">
                        <code>{caseId}</code>
                      </th>
                    ) : null}
                    <td className="num">{r.trial}</td>
                    {scoreNames.map((n) => {
                      const s = r.scores.find((x) => x.name === n);
                      return (
                        <td key={n} className="num" title={s?.error ?? undefined}>
                          {!s ? (
                            <span className="muted">—</span>
                          ) : s.error ? (
                            <span className="status-error">error</span>
                          ) : (
                            <span
                              className={s.pass === false ? 'score-fail' : s.pass ? 'score-pass' : undefined}
                            >
                              {formatScore(s.value)}
                            </span>
                          )}
                        </td>
                      );
                    })}
                    <td>
                      {r.error ? (
                        <span className="status-error">{r.error}</span>
                      ) : (
                        <JsonCell value={r.output} />
                      )}
                    </td>
                    <td className="num">{formatDuration(r.durationMs)}</td>
                    <td className="num">{formatCost(r.costMicros)}</td>
                    <td>
                      {r.traceId ? (
                        <a href={traceHash(r.traceId)} aria-label={`Trace of ${caseId} trial ${r.trial}`}>
                          trace
                        </a>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </Fragment>
            ))}
        </tbody>
      </table>
    </div>
  );
}

/** Picks a baseline on the same dataset version and opens the comparison. */
function CompareWith({ client, experiment }: { client: HangarClient; experiment: Experiment }) {
  const load = useCallback(
    () =>
      experiment.datasetId
        ? client.experiments
            .list({ datasetId: experiment.datasetId, limit: 200 })
            .then((r) =>
              r.experiments.filter(
                (x) => x.id !== experiment.id && x.datasetVersion === experiment.datasetVersion,
              ),
            )
        : Promise.resolve([]),
    [client, experiment.id, experiment.datasetId, experiment.datasetVersion],
  );
  const [candidates] = useRequest(load);
  const [baseline, setBaseline] = useState('');
  if (candidates.status !== 'ok' || candidates.data.length === 0) return null;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (baseline) window.location.hash = evalsHref.compare(experiment.id, baseline);
  }

  return (
    <form className="filters" aria-label="Compare" onSubmit={submit}>
      <Field label="Compare with…">
        {(fieldId) => (
          <select id={fieldId} value={baseline} onChange={(e) => setBaseline(e.target.value)}>
            <option value="">Pick a baseline</option>
            {candidates.data.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name} · {formatTime(x.createdAt)} · {x.status}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" className="primary" disabled={!baseline}>
        Compare
      </button>
    </form>
  );
}

/** The error of the last "load more", and the button for the next page when there is one. */
export function LoadMore({
  loadMore,
  loadingMore,
  moreError,
  label,
}: Pick<PagedRequest<unknown>, 'loadMore' | 'loadingMore' | 'moreError'> & { label: string }) {
  return (
    <>
      {moreError ? <ErrorMessage error={moreError} /> : null}
      {loadMore ? (
        <div className="actions">
          <button type="button" onClick={loadMore} disabled={loadingMore}>
            {label}
          </button>
        </div>
      ) : null}
    </>
  );
}
