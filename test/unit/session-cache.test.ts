import { describe, expect, it } from 'vitest';
import { createSessionCache } from '../../src/modules/sessions/session-cache.js';

/**
 * The per-instance session cache, rule by rule: an entry answers only for the user the database
 * named as the session's owner (OWASP ASVS V3.2, a session is bound to its user), only for its few
 * seconds, and a revocation on this instance takes effect at once.
 */
const TTL = 5_000;
const NOW = 1_800_000_000_000;
const live = { active: true, role: 'user' };

function cache(maxEntries = 100): ReturnType<typeof createSessionCache> {
  return createSessionCache({ ttlMs: TTL, maxEntries });
}

describe('session cache', () => {
  it('knows nothing of a session it was never told about', () => {
    expect(cache().get(1, 10, NOW)).toBeUndefined();
  });

  it('answers with the stored state and role for the owner, up to and including the TTL', () => {
    const c = cache();
    c.set(1, 10, { active: true, role: 'admin' }, NOW);
    expect(c.get(1, 10, NOW)).toEqual({ active: true, role: 'admin' });
    expect(c.get(1, 10, NOW + TTL)).toEqual({ active: true, role: 'admin' });
    expect(c.get(1, 10, NOW + TTL + 1)).toBeUndefined();
  });

  it('refuses a token of another user naming the session, even while the entry is fresh', () => {
    const c = cache();
    c.set(1, 10, live, NOW);
    expect(c.get(1, 11, NOW)).toEqual({ active: false, role: '' });
  });

  it('keeps an inactive session inactive after its TTL (an ended session never comes back)', () => {
    const c = cache();
    c.set(1, 10, { active: false, role: '' }, NOW);
    expect(c.get(1, 10, NOW + TTL * 10)).toEqual({ active: false, role: '' });
  });

  it('revoke ends one session at once and leaves the others of the same user', () => {
    const c = cache();
    c.set(1, 10, live, NOW);
    c.set(2, 10, live, NOW);
    c.revoke(1);
    c.revoke(99);
    expect(c.get(1, 10, NOW)).toEqual({ active: false, role: '' });
    expect(c.get(2, 10, NOW)).toEqual(live);
  });

  it('revokeUser ends every session of that user but the one kept, and no other user’s', () => {
    const c = cache();
    c.set(1, 10, live, NOW);
    c.set(2, 10, live, NOW);
    c.set(3, 10, live, NOW);
    c.set(4, 11, live, NOW);
    c.revokeUser(10, 2);
    expect(c.get(1, 10, NOW)?.active).toBe(false);
    expect(c.get(2, 10, NOW)).toEqual(live);
    expect(c.get(3, 10, NOW)?.active).toBe(false);
    expect(c.get(4, 11, NOW)).toEqual(live);
    c.revokeUser(10);
    expect(c.get(2, 10, NOW)?.active).toBe(false);
  });

  it('forgetUser drops the user’s live entries (re-read next time) but keeps ended ones ended', () => {
    const c = cache();
    c.set(1, 10, live, NOW);
    c.set(2, 10, { active: false, role: '' }, NOW);
    c.set(3, 11, live, NOW);
    c.forgetUser(10);
    expect(c.get(1, 10, NOW)).toBeUndefined();
    expect(c.get(2, 10, NOW)).toEqual({ active: false, role: '' });
    expect(c.get(3, 11, NOW)).toEqual(live);
  });

  it('is bounded: reaching maxEntries starts over rather than growing', () => {
    const c = cache(2);
    c.set(1, 10, live, NOW);
    c.set(2, 10, live, NOW);
    expect(c.get(1, 10, NOW)).toEqual(live);
    c.set(3, 10, live, NOW);
    expect(c.get(1, 10, NOW)).toBeUndefined();
    expect(c.get(2, 10, NOW)).toBeUndefined();
    expect(c.get(3, 10, NOW)).toEqual(live);
  });

  it('replaces an entry that is set again (a role change read from the database)', () => {
    const c = cache(1);
    c.set(1, 10, live, NOW);
    c.set(1, 10, { active: true, role: 'admin' }, NOW + 1);
    expect(c.get(1, 10, NOW + 1)).toEqual({ active: true, role: 'admin' });
  });
});
