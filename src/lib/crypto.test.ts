import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, hmacHex, randomDigits, randomToken, seal, unseal } from './crypto.js';

describe('crypto', () => {
  const key = randomBytes(32);

  it('seals and opens a secret, with a fresh IV every time', () => {
    const a = seal(key, 'JBSWY3DPEHPK3PXP', 'user:1');
    const b = seal(key, 'JBSWY3DPEHPK3PXP', 'user:1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(unseal(key, a, 'user:1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses to open with another key, other associated data, or a changed ciphertext', () => {
    const sealed = seal(key, 'secret', 'user:1');
    expect(() => unseal(randomBytes(32), sealed, 'user:1')).toThrow();
    expect(() => unseal(key, sealed, 'user:2')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => unseal(key, parts.join('.'), 'user:1')).toThrow();
    expect(() => unseal(key, 'garbage', 'user:1')).toThrow();
  });

  it('makes random tokens of the requested entropy and digit codes of the requested length', () => {
    expect(Buffer.from(randomToken(32), 'base64url')).toHaveLength(32);
    const codes = new Set(Array.from({ length: 200 }, () => randomDigits(6)));
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(codes.size).toBeGreaterThan(190);
  });

  it('compares in constant time and keys its hashes', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(hmacHex(key, '123456')).not.toBe(hmacHex(randomBytes(32), '123456'));
    expect(hmacHex(key, '123456')).toMatch(/^[0-9a-f]{64}$/);
  });
});
