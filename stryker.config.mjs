// Mutation testing of the security modules: `npm run test:mutation` (docs/testing.md, "Mutation testing").
// MUTATION_MODULES narrows the run, e.g. `MUTATION_MODULES=tokens,lockout npm run test:mutation`.
import process from 'node:process';

const ALL_MODULES = ['sessions', 'tokens', 'two-factor', 'lockout', 'login', 'passkeys'];
const modules =
  process.env.MUTATION_MODULES?.split(',')
    .map((m) => m.trim())
    .filter(Boolean) ?? ALL_MODULES;
for (const m of modules) if (!ALL_MODULES.includes(m)) throw new Error(`MUTATION_MODULES: unknown module ${m}`);
const name = modules.length === ALL_MODULES.length ? 'all' : modules.join('+');

// The HTTP suites run on every reachable database; mutants are judged on SQLite alone (the SQL each
// module sends is the same builder call on all three, and SQLite keeps a mutant's run short).
process.env.TEST_DATABASES = 'sqlite';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: true },
  // Each mutant runs only the tests that reached it in the initial run.
  coverageAnalysis: 'perTest',
  // Mutants of module-level code (schemas, constants) would need every test for each one.
  ignoreStatic: true,
  mutate: [
    ...modules.map((m) => `src/modules/${m}/**/*.ts`),
    '!src/**/*.test.ts',
    // Route files are request/response schemas plus a line or two of glue to the service; their
    // schema literals give survivors that say nothing about the security logic.
    '!src/**/*.routes.ts',
  ],
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false },
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${name}.json`,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
