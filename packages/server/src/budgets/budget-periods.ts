import type { BudgetPeriod } from '@hangar/protocol';

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The period a moment falls in, calendar-aligned in the time zone: `total`, `2026-11-25` (daily) or
 * `2026-11` (monthly). A day starts at local midnight, whatever the zone's offset or DST that day.
 * @example periodKey('daily', 'Asia/Tokyo', new Date('2026-11-25T16:00:00Z')) // '2026-11-26'
 */
export function periodKey(period: BudgetPeriod, timeZone: string, at: Date): string {
  if (period === 'total') return 'total';
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return period === 'daily' ? `${parts.year}-${parts.month}-${parts.day}` : `${parts.year}-${parts.month}`;
}
