/** Largest price a DECIMAL(10,2) holds, the column type of the original apps. */
export const MAX_PRICE_CENTS = 9_999_999_999;

/**
 * A JSON price to integer cents without floating-point arithmetic: the number's shortest
 * decimal form (what JSON carried) is read digit by digit. Null when it has more than two
 * decimals, is negative, or is out of range.
 */
export function priceToCents(price: number): number | null {
  if (!Number.isFinite(price) || price < 0) return null;
  return decimalToCents(String(price));
}

/**
 * Decimal text (a DECIMAL(10,2) column as the driver returns it: `19.99`, `5`, `0.50`, `3.100`)
 * to integer cents, digit by digit. Trailing zeros past the cents are accepted; any other third
 * decimal, a sign, an exponent or an out-of-range value gives null.
 */
export function decimalToCents(text: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2})0*)?$/.exec(text.trim());
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) && cents <= MAX_PRICE_CENTS ? cents : null;
}

/** Integer cents to the JSON number with the same two decimals (a correctly rounded division). */
export function centsToPrice(cents: number): number {
  return cents / 100;
}
