import { describe, expect, it } from 'vitest';
import { parseJsonlUser } from './jsonl-source.js';
import { normalizeTotpSecret, toEpochMs } from './import.service.js';

describe('import sources', () => {
  it('reads JSON Lines users and names the problem of a bad line', () => {
    expect(
      parseJsonlUser(
        '{"username":"a","email":" a@b.co ","password_hash":"h","totp_secret":"S","role":"admin","email_verified":true,"created_at":"2020-01-01T00:00:00Z","extra":1}',
        3,
      ),
    ).toEqual({
      ref: 'line 3',
      username: 'a',
      email: 'a@b.co',
      passwordHash: 'h',
      totpSecret: 'S',
      role: 'admin',
      emailVerified: true,
      createdAt: '2020-01-01T00:00:00Z',
      emailFactor: false,
      mfaWithoutSecret: false,
    });
    expect(parseJsonlUser('{"username":', 1)).toEqual({ ref: 'line 1', problem: 'not valid JSON' });
    expect(parseJsonlUser('[1]', 2)).toEqual({ ref: 'line 2', problem: 'not a JSON object' });
    expect(parseJsonlUser('{"email":"a@b.co"}', 4)).toEqual({ ref: 'line 4', problem: 'username is required' });
    expect(parseJsonlUser('{"username":"a","email_verified":"yes"}', 5)).toMatchObject({
      ref: 'line 5',
      problem: expect.stringMatching(/^email_verified: /),
    });
  });

  it('normalises TOTP secrets and timestamps', () => {
    expect(normalizeTotpSecret('jbsw y3dp ehpk 3pxp====')).toBe('JBSWY3DPEHPK3PXP');
    expect(toEpochMs('2024-01-02 03:04:05.123456', 0)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 123));
    expect(toEpochMs(1_700_000_000, 0)).toBe(1_700_000_000_000);
    expect(toEpochMs(new Date(5), 0)).toBe(5);
    expect(toEpochMs('yesterday', 42)).toBe(42);
  });
});
