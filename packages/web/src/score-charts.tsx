import { formatDelta, formatInterval, formatScore } from './format.js';

// Small hand-written SVG charts for evals, in the manner of cost-chart.tsx.

const H_WIDTH = 220;
const H_HEIGHT = 72;
const H_PAD = { top: 6, right: 4, bottom: 16, left: 4 };

/** Counts of `values` in `bins` equal bins over [low, high]; the top edge falls in the last bin. */
export function histogram(values: number[], low: number, high: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = (high - low) / bins || 1;
  for (const v of values) {
    const i = Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width)));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

/**
 * The distribution of one score over an experiment's trials: ten bins over 0..1 (widened to the
 * values when a score falls outside it).
 */
export function ScoreHistogram({ name, values }: { name: string; values: number[] }) {
  const low = Math.min(0, ...values);
  const high = Math.max(1, ...values);
  const bins = 10;
  const counts = histogram(values, low, high, bins);
  const max = Math.max(...counts, 1);
  const plotW = H_WIDTH - H_PAD.left - H_PAD.right;
  const plotH = H_HEIGHT - H_PAD.top - H_PAD.bottom;
  const slot = plotW / bins;
  const step = (high - low) / bins;
  return (
    <figure className="score-histogram">
      <figcaption className="small">
        <strong>{name}</strong> <span className="muted">· {values.length} values</span>
      </figcaption>
      <svg viewBox={`0 0 ${H_WIDTH} ${H_HEIGHT}`} role="img" aria-label={`Distribution of ${name}`}>
        <line
          x1={H_PAD.left}
          x2={H_WIDTH - H_PAD.right}
          y1={H_PAD.top + plotH}
          y2={H_PAD.top + plotH}
          className="axis"
        />
        {counts.map((c, i) => {
          const h = (c / max) * plotH;
          return (
            <rect
              key={i}
              x={H_PAD.left + i * slot + 1}
              y={H_PAD.top + plotH - h}
              width={slot - 2}
              height={h}
              className="bar"
            >
              <title>{`${formatScore(low + i * step)}–${formatScore(low + (i + 1) * step)}: ${c}`}</title>
            </rect>
          );
        })}
        <text x={H_PAD.left} y={H_HEIGHT - 3} className="tick">
          {formatScore(low)}
        </text>
        <text x={H_WIDTH - H_PAD.right} y={H_HEIGHT - 3} textAnchor="end" className="tick">
          {formatScore(high)}
        </text>
      </svg>
    </figure>
  );
}

const I_WIDTH = 240;
const I_HEIGHT = 30;
const I_PAD = 10;

/**
 * A delta's confidence interval drawn around 0 on a symmetric scale `[-extent, extent]`: an interval
 * that crosses the 0 line is no significant change; one wholly left of it is a regression.
 */
export function DeltaInterval({
  delta,
  low,
  high,
  extent,
  label,
}: {
  delta: number | null;
  low: number | null;
  high: number | null;
  extent: number;
  label: string;
}) {
  if (delta === null || low === null || high === null) return <span className="muted">—</span>;
  const x = (v: number) => I_PAD + ((v + extent) / (2 * extent)) * (I_WIDTH - 2 * I_PAD);
  const tone = high < 0 ? 'worse' : low > 0 ? 'better' : 'neutral';
  const mid = I_HEIGHT / 2;
  return (
    <svg
      className={`delta-interval ${tone}`}
      viewBox={`0 0 ${I_WIDTH} ${I_HEIGHT}`}
      role="img"
      aria-label={`${label}: delta ${formatDelta(delta)}, 95% CI ${formatInterval(low, high, formatDelta)}`}
    >
      <line x1={I_PAD} x2={I_WIDTH - I_PAD} y1={mid} y2={mid} className="axis" />
      <line x1={x(0)} x2={x(0)} y1={3} y2={I_HEIGHT - 3} className="zero" />
      <line x1={x(low)} x2={x(high)} y1={mid} y2={mid} className="ci" />
      <line x1={x(low)} x2={x(low)} y1={mid - 5} y2={mid + 5} className="ci" />
      <line x1={x(high)} x2={x(high)} y1={mid - 5} y2={mid + 5} className="ci" />
      <circle cx={x(delta)} cy={mid} r={4} className="point" />
    </svg>
  );
}
