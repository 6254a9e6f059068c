import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * The tests Stryker runs against mutants of the security modules (stryker.config.mjs): the suites
 * that exercise sessions, tokens, two-factor, lockout and login. Left out on purpose: the
 * fast-check fuzzer (a random input per run would make a mutant's verdict change between runs)
 * and suites about other modules, which only slow the initial run down. Included although they
 * are about more: compat (the one-step TOTP login), ops (login metrics), mail-flood (the code mail quota),
 * multi-instance and redis-outage (the session revocations published on Redis).
 */
// Spread, not mergeConfig: that would append this include list to the main one.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    root: new URL('../..', import.meta.url).pathname,
    setupFiles: ['test/mutation/hook-coverage.ts'],
    include: [
      'src/modules/two-factor/**/*.test.ts',
      'test/unit/**/*.test.ts',
      'test/db/sessions.repository.test.ts',
      'test/db/lockout.repository.test.ts',
      'test/db/two-factor.repository.test.ts',
      'test/db/setup-grants.test.ts',
      'test/http/auth-flow.test.ts',
      'test/http/login-flow.security.test.ts',
      'test/http/compat.test.ts',
      'test/http/ops.test.ts',
      'test/http/login-metrics.test.ts',
      'test/http/login-audit.test.ts',
      'test/http/tokens.security.test.ts',
      'test/http/refresh-rotation.security.test.ts',
      'test/http/session-ends.security.test.ts',
      'test/http/session-binding.security.test.ts',
      'test/http/recent-auth.security.test.ts',
      'test/http/reauth-audit.test.ts',
      'test/http/bearer-and-cookies.security.test.ts',
      // The browser session cookie (sessions/session-cookie.ts): set, cleared, forged.
      'test/http/forward-auth.test.ts',
      'test/http/forward-auth.security.test.ts',
      'test/http/forward-auth-sign-in-paths.test.ts',
      'test/http/two-factor.test.ts',
      'test/http/two-factor.security.test.ts',
      'test/http/two-factor-email.test.ts',
      'test/http/two-factor-codes.test.ts',
      'test/http/two-factor-real-clients.test.ts',
      'test/http/mail-flood.security.test.ts',
      'test/http/concurrent-factor-changes.test.ts',
      'test/http/lockout.security.test.ts',
      'test/http/lockout-enumeration.security.test.ts',
      'test/http/lockout-audit.test.ts',
      'test/http/lockout-keys.security.test.ts',
      'test/http/require-2fa.test.ts',
      'test/http/require-2fa.security.test.ts',
      'test/http/authenticators.test.ts',
      'test/http/authenticators.security.test.ts',
      // Every passkey suite: the ceremonies, the second step, re-authentication, the attacks, disable beside passkeys.
      'test/http/passkeys*.test.ts',
      'test/multi-instance.test.ts',
      'test/redis-outage.test.ts',
    ],
  },
});
