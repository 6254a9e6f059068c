import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

const dialects = await testDialects();
const WRONG = 'definitely not the password';

/**
 * An attacker locks one spelling of a name, then tries another spelling. If the two spellings share
 * a budget for an existing account but not for a missing one (or the other way round), the status of
 * that last try tells whether the account exists (OWASP Authentication Cheat Sheet, account enumeration).
 */
describe.each(dialects)('lockout answers reveal no account through another spelling on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const attempt = (username: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: WRONG } });

  /** Five wrong passwords to `locked`, then one to `probe`: the statuses of the whole sequence. */
  async function lockThenProbe(locked: string, probe: string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(locked)).statusCode);
    statuses.push((await attempt(probe)).statusCode);
    return statuses;
  }

  it('locking the full-width spelling of an address answers the same for the plain address whether or not it has an account', async () => {
    const known = uniqueName('k');
    const unknown = uniqueName('u');
    expect((await register(t.app, known, undefined, `${known}@example.com`)).statusCode).toBe(201);
    // U+FF4B FULLWIDTH LATIN SMALL LETTER K / U+FF55 FULLWIDTH LATIN SMALL LETTER U: names no account.
    const knownSeen = await lockThenProbe(`\uff4b${known.slice(1)}@example.com`, `${known}@example.com`);
    const unknownSeen = await lockThenProbe(`\uff55${unknown.slice(1)}@example.com`, `${unknown}@example.com`);
    // Five wrong guesses on the look-alike, then the plain spelling is not locked by them (its own budget).
    expect(knownSeen).toEqual([401, 401, 401, 401, 401, 401]);
    expect(unknownSeen).toEqual(knownSeen);
  });

  it('locking a spelling the database collation folds (trailing space, accent) answers the same for the plain name whether or not it has an account', async () => {
    for (const variant of [(name: string) => `${name} `, (name: string) => `${name.slice(0, -1)}\u00e9`]) {
      // Names ending in "e", so the accent variant folds to them under an accent-insensitive collation.
      const known = `${uniqueName('k')}e`;
      const unknown = `${uniqueName('u')}e`;
      expect((await register(t.app, known)).statusCode).toBe(201);
      const knownSeen = await lockThenProbe(variant(known), known);
      const unknownSeen = await lockThenProbe(variant(unknown), unknown);
      expect(knownSeen).toEqual([401, 401, 401, 401, 401, 401]);
      expect(unknownSeen).toEqual(knownSeen);
    }
  });
});
