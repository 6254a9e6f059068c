import { describe, expect, it } from 'vitest';

// Apart from databases.ts: scripts (scripts/openapi.ts) build the app through test/support/app.ts
// outside Vitest, where importing 'vitest' throws.

/**
 * For a file whose suites all need something this run did not select (a database server, Redis):
 * one test says what did not run and why. Vitest fails a file that defines no test at all, and a
 * silent empty file would hide the gap; under CI=true the test fails, since CI runs everything.
 */
export function describeNotSelected(title: string, reason: string): void {
  describe(title, () => {
    it(`does not run here: ${reason}`, () => {
      expect(process.env.CI, `CI=true runs everything, but ${reason}`).not.toBe('true');
      console.warn(`NOT RUN: ${title}: ${reason}`);
    });
  });
}
