import { afterAll, beforeAll, inject } from 'vitest';

/**
 * Stryker's "perTest" coverage credits code run inside a test to that test, and code run outside
 * any test to "static". Our HTTP suites build their app and sign their user up in `beforeAll`, so
 * most of a module runs there: counted as static, and with `ignoreStatic` a mutant hit there and
 * also in some other file's test would be tried against that other test alone, and survive.
 *
 * This setup file (only loaded by test/mutation/vitest.config.ts, and inert outside Stryker's
 * initial run) credits what runs in a file's hooks to every test of that file instead. Import-time
 * code is still static: the accessor is installed in the first `beforeAll`, after the file loaded.
 */
const SENTINEL = 'twofold:hooks';

interface StrykerNamespace {
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

const read = inject as unknown as (key: string) => unknown;
const mode = read('mode');
const globalNamespace = read('globalNamespace');

if (mode === 'dry-run' && typeof globalNamespace === 'string') {
  const ns = ((globalThis as Record<string, unknown>)[globalNamespace] ??= {}) as StrykerNamespace;
  const testIds = new Set<string>();

  beforeAll(() => {
    let current = ns.currentTestId;
    Object.defineProperty(ns, 'currentTestId', {
      configurable: true,
      get: () => current ?? SENTINEL,
      set: (id: string | undefined) => {
        if (id !== undefined) testIds.add(id);
        current = id;
      },
    });
  });

  afterAll(() => {
    const coverage = ns.mutantCoverage;
    const hooks = coverage?.perTest[SENTINEL];
    if (!coverage || !hooks) return;
    delete coverage.perTest[SENTINEL];
    for (const id of testIds) {
      const perTest = (coverage.perTest[id] ??= {});
      for (const [mutant, hits] of Object.entries(hooks)) perTest[mutant] = (perTest[mutant] ?? 0) + hits;
    }
  });
}
