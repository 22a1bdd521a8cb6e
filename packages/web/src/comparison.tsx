import { useCallback, useState } from 'react';
import type { HangarClient } from '@hangar/sdk';
import type { Comparison as ComparisonData, Verdict } from '@hangar/protocol';
import { useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { evalsHref } from './evals.js';
import { Field } from './field.js';
import { formatDelta, formatInterval, formatPValue, formatScore } from './format.js';
import { DeltaInterval } from './score-charts.js';

const VERDICT_LABEL: Record<Verdict, string> = {
  improved: 'improved',
  regressed: 'regressed',
  no_significant_change: 'no significant change',
};

export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  return <span className={`badge verdict-${verdict}`}>{VERDICT_LABEL[verdict]}</span>;
}

type CaseRow = ComparisonData['cases'][number];

/**
 * The cases sorted by `metric`'s delta, worst regression first; cases without a delta for it go last.
 */
export function sortByWorstDelta(cases: CaseRow[], metric: string): CaseRow[] {
  const key = (c: CaseRow) => c.delta[metric] ?? Number.POSITIVE_INFINITY;
  return [...cases].sort(
    (a, b) => key(a) - key(b) || a.caseId.localeCompare(b.caseId, 'en', { numeric: true }),
  );
}

/** A candidate against a baseline: the verdict, per-metric paired statistics and per-case deltas. */
export function Comparison({
  client,
  candidateId,
  baselineId,
}: {
  client: HangarClient;
  candidateId: string;
  baselineId: string;
}) {
  const load = useCallback(async () => {
    const [comparison, candidate, baseline] = await Promise.all([
      client.experiments.compare(candidateId, baselineId),
      client.experiments.get(candidateId),
      client.experiments.get(baselineId),
    ]);
    return { comparison, candidate, baseline };
  }, [client, candidateId, baselineId]);
  const [state] = useRequest(load);
  const back = (
    <a href={evalsHref.experiment(candidateId)} className="back-link">
      ← Experiment
    </a>
  );

  if (state.status === 'loading') return <p className="muted">Comparing…</p>;
  if (state.status === 'error') {
    return (
      <>
        {back}
        <h1>Comparison</h1>
        <ErrorMessage error={state.error} />
      </>
    );
  }
  const { comparison, candidate, baseline } = state.data;
  // One scale for every metric's interval, so their widths can be compared by eye.
  const extent = Math.max(
    0.05,
    ...comparison.metrics.flatMap((m) => [m.ciLow, m.ciHigh, m.meanDelta].map((v) => Math.abs(v ?? 0))),
  );

  return (
    <>
      {back}
      <div className="page-head">
        <h1>
          <a href={evalsHref.experiment(candidate.id)}>{candidate.name}</a> <span className="muted">vs</span>{' '}
          <a href={evalsHref.experiment(baseline.id)}>{baseline.name}</a>
        </h1>
        <VerdictBadge verdict={comparison.verdict} />
      </div>
      <p className="muted">
        Candidate {candidate.name} ({candidate.id}) against baseline {baseline.name} ({baseline.id}), paired
        by case on {comparison.datasetId ? `dataset version ${comparison.datasetVersion}` : 'inline data'}; α
        = {comparison.alpha}, p-values Holm-adjusted across metrics. Deltas are candidate − baseline.
      </p>

      <section className="panel flush" aria-labelledby="metrics-heading">
        <h2 id="metrics-heading" className="panel-title">
          Metrics
        </h2>
        <div className="table-scroll">
          <table className="data" aria-label="Metrics">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" className="num">
                  Baseline
                </th>
                <th scope="col" className="num">
                  Candidate
                </th>
                <th scope="col" className="num">
                  Δ
                </th>
                <th scope="col" className="num">
                  95% CI of Δ
                </th>
                <th scope="col">Δ around 0</th>
                <th scope="col" className="num">
                  p
                </th>
                <th scope="col" className="num">
                  <abbr title="Holm-adjusted across the metrics">Adj. p</abbr>
                </th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {comparison.metrics.map((m) => (
                <tr key={m.name} data-metric={m.name}>
                  <th scope="row" className="metric-name">
                    {m.name}
                    <div className="muted small">
                      {m.pairs} pairs · {m.test}
                      {m.power?.casesNeeded ? (
                        <>
                          <br />
                          {m.power.casesNeeded} cases detect Δ {formatScore(m.power.delta)} (80% power)
                        </>
                      ) : null}
                    </div>
                  </th>
                  <td className="num">{formatScore(m.baselineMean)}</td>
                  <td className="num">{formatScore(m.candidateMean)}</td>
                  <td className="num">{formatDelta(m.meanDelta)}</td>
                  <td className="num">{formatInterval(m.ciLow, m.ciHigh, formatDelta)}</td>
                  <td>
                    <DeltaInterval
                      delta={m.meanDelta}
                      low={m.ciLow}
                      high={m.ciHigh}
                      extent={extent}
                      label={m.name}
                    />
                  </td>
                  <td className="num">{formatPValue(m.pValue)}</td>
                  <td className="num">{formatPValue(m.adjustedPValue)}</td>
                  <td className="verdict-cell">
                    <VerdictBadge verdict={m.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <CaseDeltas comparison={comparison} />
    </>
  );
}

function CaseDeltas({ comparison }: { comparison: ComparisonData }) {
  const metrics = comparison.metrics.map((m) => m.name);
  const firstRegressed = comparison.metrics.find((m) => m.verdict === 'regressed')?.name;
  const [metric, setMetric] = useState(firstRegressed ?? metrics[0] ?? '');
  const rows = sortByWorstDelta(comparison.cases, metric);

  return (
    <section className="panel flush" aria-labelledby="cases-heading">
      <div className="panel-head panel-title">
        <h2 id="cases-heading">Per-case deltas</h2>
        {metrics.length > 1 ? (
          <Field label="Sort by the worst delta of">
            {(id) => (
              <select id={id} value={metric} onChange={(e) => setMetric(e.target.value)}>
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
      </div>
      <div className="table-scroll">
        <table className="data" aria-label="Per-case deltas">
          <thead>
            <tr>
              <th scope="col">Case</th>
              {metrics.map((m) => (
                <th key={m} scope="col" className="num">
                  {m}: baseline → candidate (Δ)
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.caseId}>
                <th scope="row">
                  <code>{c.caseId}</code>
                </th>
                {metrics.map((m) => {
                  const d = c.delta[m] ?? null;
                  return (
                    <td key={m} className="num">
                      {formatScore(c.baseline[m])} → {formatScore(c.candidate[m])}{' '}
                      <span
                        className={
                          d !== null && d < 0 ? 'delta-worse' : d !== null && d > 0 ? 'delta-better' : 'muted'
                        }
                      >
                        ({formatDelta(d)})
                      </span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
