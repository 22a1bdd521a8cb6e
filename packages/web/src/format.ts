/** Formatting shared by the screens. Money arrives in integer micro-units (1 USD = 1,000,000). */

/**
 * `$0.0042`, `$1.25`, `$1,204.50`: enough digits to tell small model calls apart, rounded (for costs
 * and estimates; {@link formatMoney} is exact). Another currency than USD comes after the number.
 */
export function formatCost(micros: number | null, currency = 'USD'): string {
  if (micros === null) return '—';
  const amount = micros / 1_000_000;
  if (amount === 0) return currency === 'USD' ? '$0' : `0 ${currency}`;
  const size = Math.abs(amount);
  const digits = size >= 100 ? 2 : size >= 1 ? 3 : size >= 0.01 ? 4 : 6;
  const text = Math.abs(amount).toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: digits,
  });
  const sign = amount < 0 ? '−' : '';
  return currency === 'USD' ? `${sign}$${text}` : `${sign}${text} ${currency}`;
}

/** `850 ms`, `2.41 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A time in the browser's zone, to the second: `Mar 1, 10:00:02`. */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString('en-US', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

export function formatCount(n: number | null): string {
  return n === null ? '—' : n.toLocaleString('en-US');
}

/**
 * An exact amount from integer micro-units, for the ledger: every significant digit (at least two
 * decimals), digits grouped, a minus sign for negative balances; `$` for USD, the code after others.
 * Integer arithmetic only, so `$0.000001` and `$9,007,199,254.740991` both come out exact.
 * @example formatMoney(-1_500_000, 'USD') // '−$1.50'; formatMoney(2_000_123, 'EUR') // '2.000123 EUR'
 */
export function formatMoney(micros: number | null, currency = 'USD'): string {
  if (micros === null) return '—';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / 1_000_000).toLocaleString('en-US');
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  const amount = `${whole}.${fraction}`;
  const sign = micros < 0 ? '−' : '';
  return currency === 'USD' ? `${sign}$${amount}` : `${sign}${amount} ${currency}`;
}

/** A day and time in the browser's zone, to the minute: `Nov 25, 14:05`. */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString('en-US', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}

/** A score or a mean: `0.812`, `—` when there is none. */
export function formatScore(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : Number(n.toFixed(3)).toString();
}

/** A signed delta: `+0.120`, `−0.305`. */
export function formatDelta(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const s = Math.abs(n).toFixed(3);
  return n > 0 ? `+${s}` : n < 0 ? `−${s}` : s;
}

/** `[0.71, 0.88]`, or `—` without both ends. */
export function formatInterval(
  low: number | null | undefined,
  high: number | null | undefined,
  format = formatScore,
): string {
  return low === null || low === undefined || high === null || high === undefined
    ? '—'
    : `[${format(low)}, ${format(high)}]`;
}

/** `0.032`, `< 0.001`. */
export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return '—';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}
