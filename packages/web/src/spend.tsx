import { useCallback, useMemo, useState } from 'react';
import type { HangarClient } from '@hangar/sdk';
import type { AggregateRow, Budget, OrganizationSpend, Whoami } from '@hangar/protocol';
import { useRequest } from './api.js';
import { CostChart, type ChartRow } from './cost-chart.js';
import { EmptyState } from './empty-state.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';
import { formatCost, formatCount, formatDateTime, formatMoney } from './format.js';

const WINDOWS = { '7d': 7, '30d': 30, '90d': 90 } as const;
type WindowName = keyof typeof WINDOWS;
const DAY = 86_400_000;

/**
 * Spend: what model calls cost per day (stacked by agent or model if asked), by agent and by model
 * over the window, and every budget with what it has used, what remains, its burn rate and where the
 * period is heading; for an admin key, the same span costs for every project of the organization. The
 * figures are the server's: span costs from the price table, budget pace from the budget service.
 */
export function SpendPage({ client, whoami }: { client: HangarClient; whoami: Whoami | null }) {
  // Anything at all: a span that cost something, ever, or a budget.
  const loadAny = useCallback(async () => {
    const [spent, budgets] = await Promise.all([
      client.traces.search(
        { from: '1970-01-01T00:00:00Z', to: '9999-12-31T00:00:00Z', minCostMicros: 1 },
        { limit: 1 },
      ),
      client.budgets.list(),
    ]);
    return spent.spans.length > 0 || budgets.budgets.length > 0;
  }, [client]);
  const [any, reloadAny] = useRequest(loadAny);

  if (any.status === 'loading') return <p className="muted">Loading…</p>;
  if (any.status === 'error') {
    return (
      <section className="page">
        <h1>Spend</h1>
        <ErrorMessage error={any.error} onRetry={reloadAny} />
      </section>
    );
  }
  if (!any.data) return <EmptyState pillar="spend" />;
  return <Spend client={client} whoami={whoami} />;
}

function Spend({ client, whoami }: { client: HangarClient; whoami: Whoami | null }) {
  const [windowName, setWindowName] = useState<WindowName>('30d');
  const [splitBy, setSplitBy] = useState<'' | 'agent' | 'model'>('');
  const [now, setNow] = useState(() => Date.now());
  // whole UTC days, so the chart's first bar is a full day; a minute of slack for clocks ahead of ours
  const window = useMemo(() => {
    const today = Math.floor(now / DAY) * DAY;
    return {
      from: new Date(today - (WINDOWS[windowName] - 1) * DAY).toISOString(),
      to: new Date(now + 60_000).toISOString(),
    };
  }, [windowName, now]);

  const loadDays = useCallback(
    () => client.traces.aggregates(window, 'day', { percentiles: false, ...(splitBy ? { splitBy } : {}) }),
    [client, window, splitBy],
  );
  const [days] = useRequest(loadDays);
  const loadBreakdown = useCallback(async () => {
    const [agents, models] = await Promise.all([
      client.traces.aggregates(window, 'agent', { percentiles: false }),
      client.traces.aggregates(window, 'model', { percentiles: false }),
    ]);
    return { agents: agents.groups, models: models.groups };
  }, [client, window]);
  const [breakdown] = useRequest(loadBreakdown);
  const loadBudgets = useCallback(() => client.budgets.list().then((r) => r.budgets), [client]);
  const [budgets, reloadBudgets] = useRequest(loadBudgets);

  function refresh() {
    setNow(Date.now());
    reloadBudgets();
  }

  return (
    <section className="page page-wide">
      <div className="page-head">
        <h1>Spend</h1>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <form className="filters" aria-label="Spend filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Time window">
          {(id) => (
            <select id={id} value={windowName} onChange={(e) => setWindowName(e.target.value as WindowName)}>
              {Object.keys(WINDOWS).map((w) => (
                <option key={w} value={w}>
                  Last {w}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Stack by">
          {(id) => (
            <select
              id={id}
              value={splitBy}
              onChange={(e) => setSplitBy(e.target.value as '' | 'agent' | 'model')}
            >
              <option value="">Nothing (total)</option>
              <option value="agent">Agent</option>
              <option value="model">Model</option>
            </select>
          )}
        </Field>
      </form>

      <section className="panel" aria-labelledby="spend-days">
        <h2 id="spend-days">Cost per day</h2>
        {days.status === 'ok' ? (
          <CostChart groups={days.data.groups} from={window.from} to={window.to} />
        ) : days.status === 'error' ? (
          <ErrorMessage error={days.error} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>

      <div className="two-columns">
        {(['agent', 'model'] as const).map((by) => (
          <section key={by} className="panel" aria-labelledby={`spend-by-${by}`}>
            <h2 id={`spend-by-${by}`}>By {by}</h2>
            {breakdown.status === 'ok' ? (
              <Breakdown by={by} rows={by === 'agent' ? breakdown.data.agents : breakdown.data.models} />
            ) : breakdown.status === 'error' ? (
              <ErrorMessage error={breakdown.error} />
            ) : (
              <p className="muted">Loading…</p>
            )}
          </section>
        ))}
      </div>

      {whoami?.key.role === 'admin' ? (
        <ByProject client={client} window={window} currentProjectId={whoami.project.id} />
      ) : null}

      <section className="panel" aria-labelledby="spend-budgets">
        <div className="panel-head">
          <h2 id="spend-budgets">Budgets</h2>
          <p className="muted small">
            This period of each budget: used is charged plus reserved; the burn rate is use per day since the
            period (or the budget) began, and the forecast is where the period ends at that pace.
          </p>
        </div>
        {budgets.status === 'loading' ? (
          <p className="muted">Loading budgets…</p>
        ) : budgets.status === 'error' ? (
          <ErrorMessage error={budgets.error} />
        ) : budgets.data.length === 0 ? (
          <p className="muted">No budgets yet. An admin creates them with POST /v1/budgets.</p>
        ) : (
          <BudgetTable budgets={budgets.data} />
        )}
      </section>
    </section>
  );
}

/**
 * Every project of the organization (an admin key's view): cost per day stacked by project, and each
 * project's cost, calls and tokens over the window — span costs, the figures of each project's own page.
 */
function ByProject({
  client,
  window,
  currentProjectId,
}: {
  client: HangarClient;
  window: { from: string; to: string };
  currentProjectId: string;
}) {
  const load = useCallback(() => client.organization.spend(window), [client, window]);
  const [spend] = useRequest(load);
  return (
    <section className="panel" aria-labelledby="spend-by-project">
      <div className="panel-head">
        <h2 id="spend-by-project">By project</h2>
        <p className="muted small">
          {spend.status === 'ok'
            ? `Every project of ${spend.data.organization.name || 'the organization'}`
            : 'Every project of the organization'}
          , shown to admin keys.
        </p>
      </div>
      {spend.status === 'ok' ? (
        <ProjectSpend spend={spend.data} window={window} currentProjectId={currentProjectId} />
      ) : spend.status === 'error' ? (
        <ErrorMessage error={spend.error} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  );
}

function ProjectSpend({
  spend,
  window,
  currentProjectId,
}: {
  spend: OrganizationSpend;
  window: { from: string; to: string };
  currentProjectId: string;
}) {
  // Project names need not be unique; a repeated one carries its id so its bars and row stay apart.
  const counts = new Map<string, number>();
  for (const p of spend.projects) counts.set(p.projectName, (counts.get(p.projectName) ?? 0) + 1);
  const labels = new Map(
    spend.projects.map((p) => [
      p.projectId,
      (counts.get(p.projectName) ?? 0) > 1 ? `${p.projectName} (${p.projectId})` : p.projectName,
    ]),
  );
  const labelOf = (id: string) => labels.get(id) ?? id;
  const rows: ChartRow[] = spend.days.map((d) => ({
    key: d.day,
    split: labelOf(d.projectId),
    calls: d.calls,
    costMicros: d.costMicros,
  }));
  return (
    <>
      <CostChart groups={rows} from={window.from} to={window.to} label="Cost per day by project" />
      <Breakdown
        by="project"
        all
        rows={spend.projects.map((p) => ({
          key: labelOf(p.projectId),
          note: p.projectId === currentProjectId ? 'this project' : undefined,
          calls: p.calls,
          totalTokens: p.totalTokens,
          costMicros: p.costMicros,
        }))}
      />
    </>
  );
}

type BreakdownRow = Pick<AggregateRow, 'key' | 'calls' | 'totalTokens' | 'costMicros'> & {
  note?: string | undefined;
};
const BREAKDOWN_HEADS = { agent: 'Agent', model: 'Model', project: 'Project' } as const;

/**
 * Cost per agent, model or project over the window, costliest first, with each one's share as a bar;
 * those without spans are left out unless `all` (every project is listed, even at $0).
 */
function Breakdown({
  by,
  rows,
  all = false,
}: {
  by: keyof typeof BREAKDOWN_HEADS;
  rows: BreakdownRow[];
  all?: boolean;
}) {
  const spent = all ? rows : rows.filter((r) => r.costMicros > 0 || r.calls > 0);
  if (spent.length === 0) return <p className="muted">Nothing in this window.</p>;
  const max = Math.max(...spent.map((r) => r.costMicros), 1);
  return (
    <table className="data" aria-label={`Cost by ${by}`}>
      <thead>
        <tr>
          <th scope="col">{BREAKDOWN_HEADS[by]}</th>
          <th scope="col" className="num">
            Calls
          </th>
          <th scope="col" className="num">
            Tokens
          </th>
          <th scope="col" className="num">
            Cost
          </th>
        </tr>
      </thead>
      <tbody>
        {spent.map((r) => (
          <tr key={r.key ?? ''}>
            <td>
              {r.key ?? <span className="muted">(none)</span>}
              {r.note ? <span className="muted small"> · {r.note}</span> : null}
              <div className="share" aria-hidden="true">
                <span style={{ width: `${(r.costMicros / max) * 100}%` }} />
              </div>
            </td>
            <td className="num">{formatCount(r.calls)}</td>
            <td className="num">{formatCount(r.totalTokens)}</td>
            <td className="num">{formatCost(r.costMicros)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BudgetTable({ budgets }: { budgets: Budget[] }) {
  return (
    <div className="table-scroll">
      <table className="data" aria-label="Budgets">
        <thead>
          <tr>
            <th scope="col">Budget</th>
            <th scope="col">Period</th>
            <th scope="col" className="num">
              Limit
            </th>
            <th scope="col" className="num">
              Used
            </th>
            <th scope="col" className="num">
              Remaining
            </th>
            <th scope="col" className="num">
              Burn rate
            </th>
            <th scope="col" className="num">
              Forecast
            </th>
            <th scope="col">Outlook</th>
          </tr>
        </thead>
        <tbody>
          {budgets.map((b) => {
            const c = b.current;
            // what happened, exactly; the pace and the forecast are estimates, rounded
            const money = (micros: number | null) => formatMoney(micros, b.currency);
            return (
              <tr
                key={b.id}
                className={c.forecastExceedsLimit || c.remainingMicros <= 0 ? 'warn-row' : undefined}
              >
                <td>
                  <strong>{b.name}</strong>
                  <div className="muted small">
                    {b.scope} <code>{b.scopeId}</code> · {b.mode}
                  </div>
                </td>
                <td>
                  {c.periodKey}
                  <div className="muted small">
                    {c.periodEnd ? `ends ${formatDateTime(c.periodEnd)}` : 'never resets'}
                    {b.period !== 'total' && b.timeZone !== 'UTC' ? ` (${b.timeZone})` : ''}
                  </div>
                </td>
                <td className="num">{money(b.limitMicros)}</td>
                <td className="num">{money(c.usedMicros)}</td>
                <td className="num">{money(c.remainingMicros)}</td>
                <td className="num">{formatCost(c.burnRateMicrosPerDay, b.currency)} / day</td>
                <td className="num">
                  {c.forecastMicros === null ? (
                    <span className="muted">—</span>
                  ) : (
                    formatCost(c.forecastMicros, b.currency)
                  )}
                </td>
                <td>
                  {c.remainingMicros <= 0 ? (
                    <span className="badge badge-danger">Exhausted</span>
                  ) : c.forecastExceedsLimit ? (
                    <span
                      className="badge badge-warn"
                      title="At this pace the period uses more than its limit"
                    >
                      Forecast over limit
                    </span>
                  ) : (
                    <span className="badge badge-ok">On track</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
