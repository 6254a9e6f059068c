/** A readable local date and time for an ISO timestamp. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Prices always with two decimals. */
export function formatPrice(price: number | string): string {
  return Number(price).toFixed(2);
}

const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "in 7 minutes", "3 minutes ago": the largest whole unit between `epochSeconds` and now. */
export function formatRelative(epochSeconds: number, nowMs: number = Date.now()): string {
  const delta = Math.round(epochSeconds - nowMs / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, seconds] of RELATIVE_UNITS) {
    if (Math.abs(delta) >= seconds || unit === 'second') return format.format(Math.round(delta / seconds), unit);
  }
  return format.format(0, 'second');
}

/** A JWT time claim (seconds since 1970) as a date and how far it is from now. */
export function formatClaimTime(epochSeconds: number, nowMs: number = Date.now()): string {
  return `${formatTime(new Date(epochSeconds * 1000).toISOString())} (${formatRelative(epochSeconds, nowMs)})`;
}
