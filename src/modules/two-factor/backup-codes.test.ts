import { describe, expect, it } from 'vitest';
import { BACKUP_CODE_COUNT, generateBackupCode, looksLikeBackupCode, normalizeBackupCode } from './backup-codes.js';

describe('backup codes', () => {
  it('come as ten per set', () => {
    expect(BACKUP_CODE_COUNT).toBe(10);
  });

  it('are formatted for humans as xxxxx-xxxxx with ten symbols', () => {
    for (let i = 0; i < 200; i++) {
      const code = generateBackupCode();
      expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
      expect(normalizeBackupCode(code)).toHaveLength(10);
    }
  });

  it('avoid the look-alike symbols l, 1, o and 0', () => {
    const symbols = new Set(Array.from({ length: 500 }, () => normalizeBackupCode(generateBackupCode())).join(''));
    for (const lookAlike of ['l', '1', 'o', '0']) expect(symbols.has(lookAlike)).toBe(false);
    // 32 symbols × 10 positions = 50 bits per code; 5000 draws see them all.
    expect(symbols.size).toBe(32);
  });

  it('do not repeat', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => generateBackupCode()));
    expect(codes.size).toBe(1000);
  });

  it('are accepted without the dash, in upper case and with stray spaces', () => {
    const expected = 'abcdefghjk';
    for (const input of [
      'abcde-fghjk',
      'abcdefghjk',
      'ABCDE-FGHJK',
      'AbCdEfGhJk',
      ' abcde fghjk ',
      'abcde - fghjk',
      'ab cde-fg hjk\t',
    ]) {
      expect(normalizeBackupCode(input)).toBe(expected);
      expect(looksLikeBackupCode(input)).toBe(true);
    }
  });

  it('reject what cannot be a backup code', () => {
    for (const input of ['', '123456', 'abcde-fghj', 'abcde-fghjkm', 'abcde_fghjk', 'abcde-fghj!']) {
      expect(looksLikeBackupCode(input)).toBe(false);
    }
  });
});
