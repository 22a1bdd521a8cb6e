import type { BudgetPeriod } from '@hangar/protocol';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Where a period is heading at its pace so far: the burn rate is what was used per day over the time
 * the budget has existed in this period (`since` → `now`, counted as at least an hour), and the
 * forecast adds that pace until the period's end. Integer arithmetic (BigInt), rounded down.
 * @example burnRate({ usedMicros: 6_000_000, limitMicros: 20_000_000, since: midnight, now: midnight + 6 * HOUR, end: midnight + DAY })
 * // { burnRateMicrosPerDay: 24_000_000, forecastMicros: 24_000_000, forecastExceedsLimit: true }
 */
export function burnRate(input: { usedMicros: number; limitMicros: number; since: number; now: number; end: number | null }) {
  const elapsed = BigInt(Math.max(input.now - input.since, HOUR));
  const used = BigInt(input.usedMicros);
  const perDay = Number((used * BigInt(DAY)) / elapsed);
  const forecast = input.end === null ? null : input.usedMicros + Number((used * BigInt(Math.max(input.end - input.now, 0))) / elapsed);
  return { burnRateMicrosPerDay: perDay, forecastMicros: forecast, forecastExceedsLimit: forecast !== null && forecast > input.limitMicros };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(timeZone: string, at: Date): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
}

/**
 * The period a moment falls in, calendar-aligned in the time zone: `total`, `2026-11-25` (daily) or
 * `2026-11` (monthly). A day starts at local midnight, whatever the zone's offset or DST that day.
 * @example periodKey('daily', 'Asia/Tokyo', new Date('2026-11-25T16:00:00Z')) // '2026-11-26'
 */
export function periodKey(period: BudgetPeriod, timeZone: string, at: Date): string {
  if (period === 'total') return 'total';
  const parts = partsIn(timeZone, at);
  return period === 'daily' ? `${parts.year}-${parts.month}-${parts.day}` : `${parts.year}-${parts.month}`;
}

/** How far the zone's wall clock is ahead of UTC at `t`, in ms. */
function offsetAt(timeZone: string, t: number): number {
  const p = partsIn(timeZone, new Date(t));
  const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The instant the zone's clock shows midnight starting `year-month-day` (month 1–12; overflow rolls over). */
function localMidnight(timeZone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetAt(timeZone, wall);
  // Across a DST change the offset at the answer differs from the one at the guess. Where midnight
  // does not exist (clocks jump from 23:59 to 01:00), the day starts at the first instant that is in it.
  const second = wall - offsetAt(timeZone, first);
  const day0 = new Date(wall).toISOString().slice(0, 10);
  const candidates = [first, second].filter((t) => periodKey('daily', timeZone, new Date(t)) === day0);
  return candidates.length ? Math.min(...candidates) : first;
}

/**
 * When the period containing `at` starts and ends (end exclusive), as epoch ms in the time zone's
 * calendar; null for `total`, which never ends.
 * @example periodBounds('daily', 'Europe/Paris', new Date('2026-11-25T10:00:00Z'))
 * // { start: Date.parse('2026-11-24T23:00:00Z'), end: Date.parse('2026-11-25T23:00:00Z') }
 */
export function periodBounds(period: BudgetPeriod, timeZone: string, at: Date): { start: number; end: number } | null {
  if (period === 'total') return null;
  const p = partsIn(timeZone, at);
  const [y, m, d] = [+p.year!, +p.month!, +p.day!];
  return period === 'daily'
    ? { start: localMidnight(timeZone, y, m, d), end: localMidnight(timeZone, y, m, d + 1) }
    : { start: localMidnight(timeZone, y, m, 1), end: localMidnight(timeZone, y, m + 1, 1) };
}
