import type { AggregateRow } from '@hangar/protocol';
import { formatCost } from './format.js';

const DAY = 86_400_000;
const WIDTH = 960;
const HEIGHT = 160;
const PAD = { top: 12, right: 8, bottom: 22, left: 64 };
/** Series past this many (by cost in the window) are drawn together as “other”. */
const MAX_SERIES = 6;

/** What the chart reads of a row: its day (`key`), its series (`split`), its cost and calls. */
export type ChartRow = Pick<AggregateRow, 'key' | 'split' | 'calls' | 'costMicros'>;

interface Series {
  name: string;
  cost: number;
}

/** The series of split rows, costliest first; the ones past MAX_SERIES become one “other”. */
function seriesOf(groups: ChartRow[]): { names: string[]; nameOf: (row: ChartRow) => string } {
  const totals = new Map<string, number>();
  for (const g of groups) {
    const name = g.split ?? '(none)';
    totals.set(name, (totals.get(name) ?? 0) + g.costMicros);
  }
  const ranked = [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name]) => name);
  const shown = ranked.length > MAX_SERIES + 1 ? ranked.slice(0, MAX_SERIES) : ranked;
  const names = shown.length < ranked.length ? [...shown, 'other'] : shown;
  return {
    names,
    nameOf: (row) => (shown.includes(row.split ?? '(none)') ? (row.split ?? '(none)') : 'other'),
  };
}

/**
 * Cost per UTC day over the window as bars (hand-written SVG); days without spans show as zero. Rows
 * split by a second dimension (`split`, from `splitBy`) stack, one colour per agent, model or project, with a legend.
 */
export function CostChart({
  groups,
  from,
  to,
  label = 'Cost per day',
}: {
  groups: ChartRow[];
  from: string;
  to: string;
  label?: string;
}) {
  const split = groups.some((g) => g.split !== undefined);
  const { names, nameOf } = split ? seriesOf(groups) : { names: ['cost'], nameOf: () => 'cost' };
  const byDay = new Map<string, { calls: number; series: Map<string, number> }>();
  for (const g of groups) {
    const day = byDay.get(g.key ?? '') ?? { calls: 0, series: new Map<string, number>() };
    day.calls += g.calls;
    day.series.set(nameOf(g), (day.series.get(nameOf(g)) ?? 0) + g.costMicros);
    byDay.set(g.key ?? '', day);
  }
  const days: Array<{ day: string; cost: number; calls: number; series: Series[] }> = [];
  for (let t = Date.parse(from.slice(0, 10)); t < Date.parse(to); t += DAY) {
    const day = new Date(t).toISOString().slice(0, 10);
    const found = byDay.get(day);
    const series = names.map((name) => ({ name, cost: found?.series.get(name) ?? 0 }));
    days.push({ day, cost: series.reduce((sum, s) => sum + s.cost, 0), calls: found?.calls ?? 0, series });
  }
  const total = days.reduce((sum, d) => sum + d.cost, 0);
  const max = Math.max(...days.map((d) => d.cost), 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const labelEvery = Math.ceil(days.length / 10);

  return (
    <figure className="cost-chart">
      <figcaption className="muted small">
        {formatCost(total)} over {days.length} {days.length === 1 ? 'day' : 'days'} (UTC)
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${label}, ${formatCost(total)} in total`}
      >
        <line
          x1={PAD.left}
          x2={WIDTH - PAD.right}
          y1={PAD.top + plotH}
          y2={PAD.top + plotH}
          className="axis"
        />
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top} y2={PAD.top} className="gridline" />
        <text x={PAD.left - 8} y={PAD.top + 4} textAnchor="end" className="tick">
          {formatCost(max === 1 && total === 0 ? 0 : max)}
        </text>
        <text x={PAD.left - 8} y={PAD.top + plotH} textAnchor="end" className="tick">
          $0
        </text>
        {days.map((d, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let top = PAD.top + plotH;
          return (
            <g key={d.day}>
              {d.series.map((s, n) => {
                const h = (s.cost / max) * plotH;
                top -= h;
                return (
                  <rect
                    key={s.name}
                    x={x}
                    y={top}
                    width={barW}
                    height={h}
                    rx={split ? 0 : 2}
                    className={split ? `bar series-${n}` : 'bar'}
                  >
                    <title>
                      {split
                        ? `${d.day} · ${s.name}: ${formatCost(s.cost)} (day: ${formatCost(d.cost)})`
                        : `${d.day}: ${formatCost(d.cost)} in ${d.calls} spans`}
                    </title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 ? (
                <text x={x + barW / 2} y={HEIGHT - 6} textAnchor="middle" className="tick">
                  {d.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      {split ? (
        <ul className="legend" aria-label="Legend">
          {names.map((name, n) => (
            <li key={name}>
              <span className={`swatch series-${n}`} aria-hidden="true" />
              {name}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}
