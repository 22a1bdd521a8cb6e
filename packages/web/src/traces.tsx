import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { SpanStatus, TraceFilter, TraceSummary } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { CostChart } from './cost-chart.js';
import { EmptyState } from './empty-state.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';
import { formatCost, formatCount, formatDuration, formatTime } from './format.js';
import { TraceView } from './trace-view.js';

/** The time windows the list offers, newest data last. */
const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
type WindowName = keyof typeof WINDOWS;
const STATUSES: SpanStatus[] = ['error', 'ok', 'unset'];

/** What the Traces page shows, kept in the hash (`#/traces?window=7d&model=gpt-4o`, `#/traces/<id>`). */
interface TracesLocation {
  traceId: string | null;
  spanId: string | null;
  filters: Filters;
}

interface Filters {
  window: WindowName;
  agent: string;
  model: string;
  status: SpanStatus | '';
  /** In dollars, as typed. */
  minCost: string;
}

const DEFAULT_FILTERS: Filters = { window: '24h', agent: '', model: '', status: '', minCost: '' };

function parseLocation(hash: string): TracesLocation {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(search);
  const segments = path.split('/');
  const window = params.get('window');
  const status = params.get('status');
  return {
    traceId: segments[0] === 'traces' && segments[1] ? segments[1] : null,
    spanId: params.get('span'),
    filters: {
      window: window && window in WINDOWS ? (window as WindowName) : DEFAULT_FILTERS.window,
      agent: params.get('agent') ?? '',
      model: params.get('model') ?? '',
      status: STATUSES.includes(status as SpanStatus) ? (status as SpanStatus) : '',
      minCost: params.get('minCost') ?? '',
    },
  };
}

function filtersHash(filters: Filters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v && !(k === 'window' && v === DEFAULT_FILTERS.window)) params.set(k, v);
  const search = params.toString();
  return `#/traces${search ? `?${search}` : ''}`;
}

/** The hash of a trace (and optionally one of its spans), keeping the list's filters for the way back. */
export function traceHash(traceId: string, spanId?: string | null, filters?: Filters): string {
  const params = new URLSearchParams(filters ? filtersHash(filters).split('?')[1] : '');
  if (spanId) params.set('span', spanId);
  const search = params.toString();
  return `#/traces/${traceId}${search ? `?${search}` : ''}`;
}

function useTracesLocation(): TracesLocation {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return useMemo(() => parseLocation(hash), [hash]);
}

/** The filters as the API takes them; `now` fixes the window's end so reloads are consistent. */
function toTraceFilter(filters: Filters, now: number): TraceFilter {
  const minCost = Number(filters.minCost);
  return {
    // a minute of slack for clocks that run ahead of the browser's
    from: new Date(now - WINDOWS[filters.window]).toISOString(),
    to: new Date(now + 60_000).toISOString(),
    ...(filters.agent ? { agent: filters.agent } : {}),
    ...(filters.model ? { model: filters.model } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.minCost && Number.isFinite(minCost) && minCost > 0 ? { minCostMicros: Math.round(minCost * 1_000_000) } : {}),
  };
}

/**
 * The Traces page: the honest empty state until the project has a span; then the trace list with its
 * filters and cost chart, or one trace.
 */
export function Traces({ client }: { client: HangarClient }) {
  const location = useTracesLocation();
  // All time, one span: whether this project has ever received anything.
  const loadAny = useCallback(
    () => client.traces.search({ from: '1970-01-01T00:00:00Z', to: '9999-12-31T00:00:00Z' }, { limit: 1 }),
    [client],
  );
  const [any, reloadAny] = useRequest(loadAny);

  if (any.status === 'loading') return <p className="muted">Loading…</p>;
  if (any.status === 'error') {
    return (
      <section className="page">
        <h1>Traces</h1>
        <ErrorMessage error={any.error} onRetry={reloadAny} />
      </section>
    );
  }
  if (any.data.spans.length === 0) return <EmptyState pillar="traces" />;
  if (location.traceId) {
    return (
      <TraceView
        key={location.traceId}
        client={client}
        traceId={location.traceId}
        spanId={location.spanId}
        backHref={filtersHash(location.filters)}
        spanHref={(spanId) => traceHash(location.traceId!, spanId, location.filters)}
      />
    );
  }
  return <TraceList client={client} filters={location.filters} />;
}

function TraceList({ client, filters }: { client: HangarClient; filters: Filters }) {
  const [now, setNow] = useState(() => Date.now());
  const query = useMemo(() => toTraceFilter(filters, now), [filters, now]);
  const windowOnly = useMemo(() => ({ from: query.from, to: query.to }), [query.from, query.to]);

  const loadOptions = useCallback(async () => {
    const [models, agents] = await Promise.all([
      client.traces.aggregates(windowOnly, 'model', { percentiles: false }),
      client.traces.aggregates(windowOnly, 'agent', { percentiles: false }),
    ]);
    const keys = (groups: typeof models.groups) => groups.flatMap((g) => (g.key === null ? [] : [g.key])).sort();
    return { models: keys(models.groups), agents: keys(agents.groups) };
  }, [client, windowOnly]);
  const [options] = useRequest(loadOptions);

  const loadDays = useCallback(() => client.traces.aggregates(query, 'day', { percentiles: false }), [client, query]);
  const [days] = useRequest(loadDays);

  const loadFirst = useCallback(() => client.traces.list(query, { limit: 50 }), [client, query]);
  const [first, reload] = useRequest(loadFirst);
  const [more, setMore] = useState<{ traces: TraceSummary[]; nextCursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<HangarError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore(null), [first]);

  const traces = first.status === 'ok' ? [...first.data.traces, ...(more?.traces ?? [])] : [];
  const nextCursor = more ? more.nextCursor : first.status === 'ok' ? first.data.nextCursor : null;

  async function loadMore() {
    if (!nextCursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await client.traces.list(query, { limit: 50, cursor: nextCursor });
      setMore({ traces: [...(more?.traces ?? []), ...page.traces], nextCursor: page.nextCursor });
    } catch (e) {
      setMoreError(toHangarError(e));
    } finally {
      setLoadingMore(false);
    }
  }

  function refresh() {
    setNow(Date.now());
    reload();
  }

  return (
    <section className="page page-wide">
      <div className="page-head">
        <h1>Traces</h1>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <FilterBar
        filters={filters}
        models={options.status === 'ok' ? options.data.models : []}
        agents={options.status === 'ok' ? options.data.agents : []}
      />
      <section className="panel" aria-labelledby="cost-heading">
        <h2 id="cost-heading">Cost over time</h2>
        {days.status === 'ok' ? (
          <CostChart groups={days.data.groups} from={query.from} to={query.to} />
        ) : days.status === 'error' ? (
          <ErrorMessage error={days.error} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
      {first.status === 'loading' ? (
        <p className="muted">Loading traces…</p>
      ) : first.status === 'error' ? (
        <ErrorMessage error={first.error} onRetry={reload} />
      ) : traces.length === 0 ? (
        <div className="notice" role="note">
          <p>No traces match these filters in the last {filters.window}.</p>
          <p className="muted small">Widen the time window or clear a filter.</p>
        </div>
      ) : (
        <TraceTable traces={traces} filters={filters} />
      )}
      {moreError ? <ErrorMessage error={moreError} /> : null}
      {nextCursor ? (
        <div className="actions">
          <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
            Load more traces
          </button>
        </div>
      ) : null}
    </section>
  );
}

function FilterBar({ filters, models, agents }: { filters: Filters; models: string[]; agents: string[] }) {
  const [minCost, setMinCost] = useState(filters.minCost);
  useEffect(() => setMinCost(filters.minCost), [filters.minCost]);
  // Changes apply to the address as it is now, not as last rendered: a second change made before the
  // page has caught up with the first (a quick user, a slow machine) keeps the first.
  const go = (changes: Partial<Filters>) => {
    window.location.hash = filtersHash({ ...parseLocation(window.location.hash).filters, ...changes });
  };
  // A filter value from the address that the window has no data for stays selectable.
  const withCurrent = (list: string[], current: string) => (current && !list.includes(current) ? [current, ...list] : list);

  function submitCost(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    go({ minCost: minCost.trim() });
  }

  return (
    <form className="filters" aria-label="Trace filters" onSubmit={submitCost}>
      <Field label="Time window">
        {(id) => (
          <select id={id} value={filters.window} onChange={(e) => go({ window: e.target.value as WindowName })}>
            {Object.keys(WINDOWS).map((w) => (
              <option key={w} value={w}>
                Last {w}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Agent">
        {(id) => (
          <select id={id} value={filters.agent} onChange={(e) => go({ agent: e.target.value })}>
            <option value="">All agents</option>
            {withCurrent(agents, filters.agent).map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Model">
        {(id) => (
          <select id={id} value={filters.model} onChange={(e) => go({ model: e.target.value })}>
            <option value="">All models</option>
            {withCurrent(models, filters.model).map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Status">
        {(id) => (
          <select id={id} value={filters.status} onChange={(e) => go({ status: e.target.value as SpanStatus | '' })}>
            <option value="">Any status</option>
            <option value="error">Has an error</option>
            <option value="ok">Has an ok span</option>
          </select>
        )}
      </Field>
      <Field label="Min span cost (USD)">
        {(id) => (
          <input
            id={id}
            inputMode="decimal"
            value={minCost}
            onChange={(e) => setMinCost(e.target.value)}
            onBlur={() => minCost.trim() !== filters.minCost && go({ minCost: minCost.trim() })}
            placeholder="e.g. 0.01"
            pattern="[0-9]*[.]?[0-9]*"
            title="Dollars, e.g. 0.01"
          />
        )}
      </Field>
      <button type="submit" className="visually-hidden" tabIndex={-1}>
        Apply
      </button>
      {filters.agent || filters.model || filters.status || filters.minCost ? (
        <button type="button" className="ghost" onClick={() => go({ agent: '', model: '', status: '', minCost: '' })}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function TraceTable({ traces, filters }: { traces: TraceSummary[]; filters: Filters }) {
  return (
    <div className="table-scroll panel flush">
      <table className="data traces-table">
        <thead>
          <tr>
            <th scope="col">Trace</th>
            <th scope="col">Agent</th>
            <th scope="col">Models</th>
            <th scope="col">Started</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col" className="num">
              Spans
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
          {traces.map((t) => (
            <tr key={t.traceId} className={t.errorCount ? 'has-error' : undefined}>
              <td>
                <a href={traceHash(t.traceId, null, filters)}>{t.rootName}</a>
                {t.errorCount ? (
                  <span className="badge status-error-badge" title={`${t.errorCount} span(s) failed`}>
                    {t.errorCount} {t.errorCount === 1 ? 'error' : 'errors'}
                  </span>
                ) : null}
              </td>
              <td>{t.agent ?? <span className="muted">—</span>}</td>
              <td className="models">{t.models.length ? t.models.join(', ') : <span className="muted">—</span>}</td>
              <td>{formatTime(t.startTime)}</td>
              <td className="num">{formatDuration(t.durationMs)}</td>
              <td className="num">{t.spanCount}</td>
              <td className="num">{formatCount(t.totalTokens)}</td>
              <td className="num">{formatCost(t.costMicros)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
