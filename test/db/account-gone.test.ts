import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createManualClock } from '../../src/lib/clock.js';
import { AppError } from '../../src/lib/errors.js';
import { createServices, type Services } from '../../src/services.js';
import { TEST_SECRETS, fastHasher } from '../support/app.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { createMigratedDatabase } from './migrated-database.js';

/**
 * Where a sign-in writes a row naming its account, an account deleted meanwhile (no users row any
 * more; the HTTP race is self-service-deletion-races.security.test.ts) is answered as unknown:
 * 401 invalid_credentials from the write itself, whoever calls it, never a foreign-key fault.
 */

const dialects = await testDialects();
const GONE = 2_000_000_000;

describe.each(dialects)('writing for an account deleted meanwhile on %s', (dialect) => {
  let database: TestDatabase;
  let services: Services;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    const config = loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, DATABASE_URL: database.url });
    services = await createServices(config, {
      database: database.handle,
      migrate: false,
      redis: false,
      hasher: fastHasher,
      clock: createManualClock(new Date('2026-01-15T12:00:00Z')),
    });
  });
  afterAll(async () => {
    await services?.close();
    await database?.drop();
  });

  async function refusal(write: Promise<unknown>): Promise<string> {
    const error = await write.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    return error instanceof AppError ? `${error.status} ${error.code}` : `not an AppError: ${String(error)}`;
  }

  it('opening a session', async () => {
    const user = {
      id: GONE,
      username: 'gone',
      email: null,
      role: 'user',
      email_verified: false,
      mfa_enabled: false,
      mfa_methods: [],
      created_at: new Date().toISOString(),
    };
    expect(
      await refusal(
        services.sessions.open(user, ['pwd'], { ip: '192.0.2.1', userAgent: 'x' }, { clearFailures: true }),
      ),
    ).toBe('401 invalid_credentials');
  });

  it('opening a login challenge (the mfa_token)', async () => {
    expect(await refusal(services.twoFactor.startLoginChallenge(GONE, ['totp']))).toBe('401 invalid_credentials');
  });

  it('opening a set-up grant (REQUIRE_2FA)', async () => {
    expect(await refusal(services.twoFactor.openSetupGrant(GONE, 'grant-of-no-one'))).toBe('401 invalid_credentials');
  });
});
