import { randomInt } from 'node:crypto';

export const BACKUP_CODE_COUNT = 10;
// 32 symbols without the look-alikes l/1 and o/0: 10 symbols × 5 bits = 50 bits per code.
const SYMBOLS = 'abcdefghijkmnpqrstuvwxyz23456789';

/** `xxxxx-xxxxx` from the CSPRNG. */
export function generateBackupCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += SYMBOLS[randomInt(SYMBOLS.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** Accepted with or without the dash, in any case, with stray spaces. */
export function normalizeBackupCode(input: string): string {
  return input.replace(/[\s-]/g, '').toLowerCase();
}

export function looksLikeBackupCode(input: string): boolean {
  return /^[a-z0-9]{10}$/.test(normalizeBackupCode(input));
}
