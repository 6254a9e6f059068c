import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientKey } from './client-key.js';

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });

/** Every spelling Node or a proxy might report: full, without leading zeros, with the longest zero run as `::`. */
function spellings(g: number[]): string[] {
  const full = g.map((x) => x.toString(16).padStart(4, '0')).join(':');
  const short = g.map((x) => x.toString(16)).join(':');
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
  }
  const compressed =
    best.length >= 2
      ? `${g
          .slice(0, best.start)
          .map((x) => x.toString(16))
          .join(':')}::${g
          .slice(best.start + best.length)
          .map((x) => x.toString(16))
          .join(':')}`
      : short;
  return [full, full.toUpperCase(), short, compressed];
}

/** ::ffff:0:0/96, IPv4-mapped: keyed as IPv4 instead (tested below). */
const isMapped = (g: number[]) => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

describe('clientKey (per-IP limit key)', () => {
  it('keys every spelling of an IPv6 address on its /64, and only on it', () => {
    fc.assert(
      fc.property(groups, groups, (a, b) => {
        const keys = new Set(spellings(a).map(clientKey));
        expect(keys.size).toBe(1);
        if (isMapped(a) || isMapped(b)) return;
        const samePrefix = a.slice(0, 4).every((x, i) => x === b[i]);
        expect(clientKey(spellings(b)[2] ?? '') === [...keys][0]).toBe(samePrefix);
      }),
    );
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::FFFF:c000:0207')).toBe('192.0.2.7');
    expect(clientKey('0:0:0:0:0:ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('examples: one /64 shares a key, the next /64 does not, a zone index is ignored', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('fe80::1%eth0')).toBe(clientKey('fe80::2'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.7')).toBe('64:ff9b:0:0::/64');
  });
});
