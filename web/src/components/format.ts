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
