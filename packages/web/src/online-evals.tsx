import { useCallback, useState } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { DriftAlert, OnlineEvalRule, OnlineScorer } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { formatCost, formatPValue, formatScore, formatTime } from './format.js';

/** A scorer in a few words: `regex /https?:\/\//`, `latency ≤ 2000 ms`. */
function describeScorer(s: OnlineScorer): string {
  switch (s.type) {
    case 'regex':
      return `regex /${s.pattern}/${s.flags ?? ''}`;
    case 'includes':
      return `includes “${s.text}”${s.caseSensitive ? ' (case-sensitive)' : ''}`;
    case 'json_valid':
      return s.schema === undefined ? 'valid JSON' : 'valid JSON matching a schema';
    case 'max_latency':
      return `latency ≤ ${s.ms} ms`;
    case 'max_cost':
      return `cost ≤ ${formatCost(s.micros)}`;
    case 'llm_judge':
      return `LLM judge (${s.model})`;
  }
}

function describeFilter(f: OnlineEvalRule['filter']): string {
  const parts = Object.entries(f).flatMap(([k, v]) => (v ? [`${k}=${v}`] : []));
  return parts.length ? parts.join(', ') : 'all spans';
}

/** Online eval rules, and the drift alerts they raised with a way to acknowledge each. */
export function OnlineEvals({ client }: { client: HangarClient }) {
  const loadRules = useCallback(() => client.onlineEvals.list().then((r) => r.rules), [client]);
  const [rules] = useRequest(loadRules);
  const ruleNames = new Map(rules.status === 'ok' ? rules.data.map((r) => [r.id, r.name]) : []);

  return (
    <>
      <h1>Online evals</h1>
      <section className="panel flush" aria-labelledby="rules-heading">
        <h2 id="rules-heading" className="panel-title">
          Rules
        </h2>
        {rules.status === 'loading' ? (
          <p className="muted panel-title">Loading rules…</p>
        ) : rules.status === 'error' ? (
          <ErrorMessage error={rules.error} />
        ) : rules.data.length === 0 ? (
          <p className="muted panel-title">
            No rules yet. A rule scores sampled production spans in the background and raises a drift alert
            when recent scores fall; create one with <code>hangar.onlineEvals.create()</code>.
          </p>
        ) : (
          <div className="table-scroll">
            <table className="data" aria-label="Online eval rules">
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Scorer</th>
                  <th scope="col">Spans</th>
                  <th scope="col" className="num">
                    Sampled
                  </th>
                  <th scope="col">Drift check</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {rules.data.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{r.name}</th>
                    <td>{describeScorer(r.scorer)}</td>
                    <td>{describeFilter(r.filter)}</td>
                    <td className="num">{Math.round(r.sampleRate * 1000) / 10}%</td>
                    <td>
                      last {r.drift.windowHours} h vs the {r.drift.referenceHours} h before, α {r.drift.alpha}
                    </td>
                    <td>
                      {r.enabled ? (
                        <span className="status status-active">on</span>
                      ) : (
                        <span className="status status-revoked">off</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <DriftAlerts client={client} ruleNames={ruleNames} />
    </>
  );
}

function DriftAlerts({ client, ruleNames }: { client: HangarClient; ruleNames: Map<string, string> }) {
  const [unacknowledgedOnly, setUnacknowledgedOnly] = useState(false);
  const load = useCallback(
    () => client.onlineEvals.alerts({ limit: 100, ...(unacknowledgedOnly ? { unacknowledged: true } : {}) }),
    [client, unacknowledgedOnly],
  );
  const [alerts, reload] = useRequest(load);
  // Acknowledged here, shown at once while the list reloads.
  const [acknowledged, setAcknowledged] = useState<Map<string, DriftAlert>>(new Map());
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<HangarError | null>(null);

  async function acknowledge(id: string) {
    setBusy(id);
    setError(null);
    try {
      const alert = await client.onlineEvals.acknowledge(id);
      setAcknowledged((m) => new Map(m).set(id, alert));
      reload();
    } catch (e) {
      setError(toHangarError(e));
    } finally {
      setBusy(null);
    }
  }

  const list = alerts.status === 'ok' ? alerts.data.alerts.map((a) => acknowledged.get(a.id) ?? a) : [];
  return (
    <section className="panel flush" aria-labelledby="alerts-heading">
      <div className="panel-head panel-title">
        <h2 id="alerts-heading">Drift alerts</h2>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={unacknowledgedOnly}
            onChange={(e) => setUnacknowledgedOnly(e.target.checked)}
          />{' '}
          Unacknowledged only
        </label>
      </div>
      {error ? <ErrorMessage error={error} /> : null}
      {alerts.status === 'loading' ? (
        <p className="muted panel-title">Loading alerts…</p>
      ) : alerts.status === 'error' ? (
        <ErrorMessage error={alerts.error} />
      ) : list.length === 0 ? (
        <p className="muted panel-title">No drift alerts{unacknowledgedOnly ? ' waiting' : ''}.</p>
      ) : (
        <div className="table-scroll">
          <table className="data" aria-label="Drift alerts">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Metric</th>
                <th scope="col" className="num">
                  Before → recent
                </th>
                <th scope="col" className="num">
                  n
                </th>
                <th scope="col" className="num">
                  p
                </th>
                <th scope="col">Window</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <tr key={a.id} data-alert={a.id}>
                  <th scope="row">{ruleNames.get(a.ruleId) ?? a.ruleId}</th>
                  <td>{a.metric}</td>
                  <td className="num">
                    {formatScore(a.referenceMean)} →{' '}
                    <span className="delta-worse">{formatScore(a.recentMean)}</span>
                  </td>
                  <td className="num">
                    {a.referenceN} / {a.recentN}
                  </td>
                  <td className="num" title={a.test}>
                    {formatPValue(a.pValue)}
                  </td>
                  <td>
                    {formatTime(a.windowStart)} – {formatTime(a.windowEnd)}
                  </td>
                  <td>
                    {a.acknowledgedAt ? (
                      <span className="muted">Acknowledged {formatTime(a.acknowledgedAt)}</span>
                    ) : (
                      <button type="button" onClick={() => void acknowledge(a.id)} disabled={busy === a.id}>
                        Acknowledge
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
