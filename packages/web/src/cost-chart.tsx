import type { AggregateRow } from '@hangar/protocol';
import { formatCost } from './format.js';

const DAY = 86_400_000;
const WIDTH = 960;
const HEIGHT = 160;
const PAD = { top: 12, right: 8, bottom: 22, left: 64 };

/** Cost per UTC day over the window as bars (hand-written SVG); days without spans show as zero. */
export function CostChart({ groups, from, to }: { groups: AggregateRow[]; from: string; to: string }) {
  const byDay = new Map(groups.map((g) => [g.key, g]));
  const days: Array<{ day: string; cost: number; calls: number }> = [];
  for (let t = Date.parse(from.slice(0, 10)); t < Date.parse(to); t += DAY) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push({ day, cost: byDay.get(day)?.costMicros ?? 0, calls: byDay.get(day)?.calls ?? 0 });
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
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Cost per day, ${formatCost(total)} in total`}>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} className="axis" />
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top} y2={PAD.top} className="gridline" />
        <text x={PAD.left - 8} y={PAD.top + 4} textAnchor="end" className="tick">
          {formatCost(max === 1 && total === 0 ? 0 : max)}
        </text>
        <text x={PAD.left - 8} y={PAD.top + plotH} textAnchor="end" className="tick">
          $0
        </text>
        {days.map((d, i) => {
          const h = (d.cost / max) * plotH;
          const x = PAD.left + i * slot + (slot - barW) / 2;
          return (
            <g key={d.day}>
              <rect x={x} y={PAD.top + plotH - h} width={barW} height={h} rx={2} className="bar">
                <title>{`${d.day}: ${formatCost(d.cost)} in ${d.calls} spans`}</title>
              </rect>
              {i % labelEvery === 0 ? (
                <text x={x + barW / 2} y={HEIGHT - 6} textAnchor="middle" className="tick">
                  {d.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
