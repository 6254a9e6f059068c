import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_COOKIE_MAX_AGE_SECONDS,
  DEVICE_COOKIE_PREFIX,
  createDeviceCookies,
  lockoutClient,
} from '../../src/modules/lockout/device-cookie.js';

/**
 * The device cookie's reading rules, one by one (OWASP "Slow Down Online Guessing Attacks with
 * Device Cookies": a cookie that is forged, for another account or out of date is no cookie).
 * Cookies are re-signed here with the same key so that each rule is the only thing a case breaks.
 */
const KEY = Buffer.alloc(32, 7);
const devices = createDeviceCookies(KEY);
const NOW = 1_800_000_000_000;
const NONCE = 'A'.repeat(24);
const sign = (payload: string): string =>
  `${payload}.${createHmac('sha256', KEY).update(`v1.${payload}`, 'utf8').digest('base64url')}`;
const read = (value: string | undefined, userId = 42, nowMs = NOW): ReturnType<typeof devices.read> =>
  devices.read({ [devices.nameFor(userId)]: value }, userId, nowMs);

describe('device cookies', () => {
  it('issues a named, signed cookie that reads back as the account, its nonce and issue time', () => {
    const cookie = devices.issue(42, NOW);
    expect(cookie.name).toMatch(new RegExp(`^${DEVICE_COOKIE_PREFIX}[0-9a-f]{24}$`));
    expect(cookie.name).toBe(devices.nameFor(42));
    expect(cookie.maxAgeSeconds).toBe(DEVICE_COOKIE_MAX_AGE_SECONDS);
    expect(DEVICE_COOKIE_MAX_AGE_SECONDS).toBe(365 * 86_400);
    const [id, issued, nonce] = cookie.value.split('.');
    expect([id, issued]).toEqual(['42', String(NOW)]);
    expect(read(cookie.value)).toEqual({ userId: 42, nonce, issuedAtMs: NOW });
    expect(devices.issue(42, NOW).value).not.toBe(cookie.value);
  });

  it("names each account's cookie differently, and a cookie under another account's name is not read", () => {
    expect(devices.nameFor(1)).not.toBe(devices.nameFor(2));
    expect(createDeviceCookies(Buffer.alloc(32, 8)).nameFor(1)).not.toBe(devices.nameFor(1));
    const cookie = devices.issue(42, NOW);
    expect(devices.read({ [devices.nameFor(43)]: cookie.value }, 42, NOW)).toBeUndefined();
    expect(devices.read(undefined, 42, NOW)).toBeUndefined();
    expect(devices.read({}, 42, NOW)).toBeUndefined();
  });

  it("refuses a cookie signed for one account and presented for another, even under that account's name", () => {
    expect(read(sign(`43.${NOW}.${NONCE}`), 42)).toBeUndefined();
    expect(read(sign(`042.${NOW}.${NONCE}`), 42)).toBeUndefined();
  });

  it('refuses a wrong signature, a wrong key and a changed part', () => {
    const good = sign(`42.${NOW}.${NONCE}`);
    expect(read(good)).toBeDefined();
    expect(read(`${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(createDeviceCookies(Buffer.alloc(32, 8)).read({ [devices.nameFor(42)]: good }, 42, NOW)).toBeUndefined();
    const [, , , signature] = good.split('.');
    expect(read(`42.${NOW + 1}.${NONCE}.${signature}`)).toBeUndefined();
    // The signature covers a versioned payload: a MAC of the bare payload is not accepted.
    const bare = createHmac('sha256', KEY).update(`42.${NOW}.${NONCE}`, 'utf8').digest('base64url');
    expect(read(`42.${NOW}.${NONCE}.${bare}`)).toBeUndefined();
  });

  it('refuses anything but four dot-separated parts, and overlong values', () => {
    expect(read(`42.${NOW}.${NONCE}`)).toBeUndefined();
    expect(read(sign(`42.${NOW}.${NONCE}.x`))).toBeUndefined();
    expect(read('')).toBeUndefined();
    expect(read(`${sign(`42.${NOW}.${NONCE}`)}${'x'.repeat(200)}`)).toBeUndefined();
  });

  it('accepts issue times of 1 to 16 digits and nonces of 16 to 64 URL-safe characters, nothing else', () => {
    expect(read(sign(`42.${NOW}.${'a'.repeat(16)}`))).toBeDefined();
    expect(read(sign(`42.${NOW}.${'a-_9'.repeat(16)}`))).toBeDefined();
    expect(read(sign(`42.${NOW}.${'a'.repeat(15)}`))).toBeUndefined();
    expect(read(sign(`42.${NOW}.${'a'.repeat(65)}`))).toBeUndefined();
    expect(read(sign(`42.${NOW}.${'a'.repeat(20)}+`))).toBeUndefined();
    expect(read(sign(`42.${NOW}.+${'a'.repeat(20)}`))).toBeUndefined();
    expect(read(sign(`42.${NOW}.${'a'.repeat(20)} `))).toBeUndefined();
    expect(read(sign(`42.0.${NONCE}`), 42, 1000)).toEqual({ userId: 42, nonce: NONCE, issuedAtMs: 0 });
    expect(read(sign(`42..${NONCE}`), 42, 1000)).toBeUndefined();
    expect(read(sign(`42.-5.${NONCE}`), 42, 1000)).toBeUndefined();
    expect(read(sign(`42.${NOW}x.${NONCE}`))).toBeUndefined();
    expect(read(sign(`42.x${NOW}.${NONCE}`))).toBeUndefined();
    expect(read(sign(`42.1e3.${NONCE}`), 42, 1000)).toBeUndefined();
    expect(read(sign(`42.${'0'.repeat(16)}.${NONCE}`), 42, 1000)).toBeDefined();
    expect(read(sign(`42.${'0'.repeat(17)}.${NONCE}`), 42, 1000)).toBeUndefined();
  });

  it('is valid from five minutes before its issue time (clock skew) until a year after it, inclusive', () => {
    const cookie = sign(`42.${NOW}.${NONCE}`);
    const skew = 5 * 60 * 1000;
    const year = DEVICE_COOKIE_MAX_AGE_SECONDS * 1000;
    expect(read(cookie, 42, NOW - skew)).toBeDefined();
    expect(read(cookie, 42, NOW - skew - 1)).toBeUndefined();
    expect(read(cookie, 42, NOW + year)).toBeDefined();
    expect(read(cookie, 42, NOW + year + 1)).toBeUndefined();
  });

  it('lockoutClient takes the user agent, the address and the cookies of a request', () => {
    const cookies = { a: 'b' };
    const request = { headers: { 'user-agent': 'UA' }, ip: '192.0.2.1', cookies } as unknown as Parameters<
      typeof lockoutClient
    >[0];
    expect(lockoutClient(request)).toEqual({ userAgent: 'UA', ip: '192.0.2.1', cookies });
    const bare = { headers: {}, ip: '192.0.2.2', cookies: {} } as unknown as Parameters<typeof lockoutClient>[0];
    expect(lockoutClient(bare).userAgent).toBeNull();
  });
});
