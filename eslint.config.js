import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The direction of dependencies between the modules of src/modules (docs/architecture.md, "Module
 * dependencies"): a module may import modules of lower layers only, never one of its own layer or
 * above, type-only imports included. With a direction there can be no cycle between modules.
 */
const MODULE_LAYERS = [
  ['audit', 'mail', 'ops', 'tokens', 'web'],
  ['accounts', 'products'],
  ['lockout', 'rate-limit'],
  ['two-factor'],
  ['sessions'],
  ['recovery', 'login', 'admin'],
  ['email-proof', 'import'],
];

const moduleZones = MODULE_LAYERS.flatMap((layer, rank) =>
  layer.map((name) => {
    const below = MODULE_LAYERS.slice(0, rank).flat();
    return {
      target: `src/modules/${name}`,
      from: MODULE_LAYERS.slice(rank)
        .flat()
        .filter((other) => other !== name)
        .map((other) => `src/modules/${other}`),
      message: `The module ${name} may import ${below.length ? below.join(', ') : 'no other module'} (docs/architecture.md, "Module dependencies"); pass anything else in from src/app.ts or src/services.ts.`,
    };
  }),
);

const compositionRoots = ['src/app.ts', 'src/services.ts', 'src/main.ts'];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'bench/results/',
      'web/dist/',
      'coverage/',
      'test/e2e/artifacts/',
      'reports/',
      '.stryker-tmp/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Prettier owns the layout (.prettierrc.json, checked by `npm run lint`); ESLint's stylistic rules stay off.
  prettier,
  {
    // Prettier wraps code at 120 columns but leaves strings and comments whole: a comment must be
    // wrapped by hand; a long message or test title may run on.
    rules: {
      'max-len': [
        'error',
        {
          code: 120,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
          ignorePattern: '^\\s*(it|test|describe)(\\.\\w+)*\\(',
        },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/explicit-function-return-type': [
        'error',
        { allowExpressions: true, allowTypedFunctionExpressions: true, allowHigherOrderFunctions: true },
      ],
    },
  },
  {
    // Migrations are frozen in time: they see the database as it was then, not today's types.
    files: ['src/db/migrations/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**', '**/*.test.ts', 'bench/**', 'web/vite.config.ts'],
    rules: { '@typescript-eslint/explicit-function-return-type': 'off' },
  },
  {
    // Import cycles: none between files (import-x/no-cycle sees value imports only), none between
    // modules and none from the shared layers up into the modules (no-restricted-paths, which sees
    // type-only imports too).
    files: ['src/**/*.ts', 'web/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // NodeNext: the server's sources import './x.js' for './x.ts'; the web UI imports without extension.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.vue', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // An import the resolver cannot follow would slip past both rules: it is an error.
      'import-x/no-unresolved': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            ...moduleZones,
            {
              target: 'src/lib',
              from: ['src/db', 'src/http', 'src/modules', 'src/config.ts', ...compositionRoots],
              message: 'src/lib is domain-free: it imports nothing else of src.',
            },
            { target: 'src/db', from: ['src/config.ts', 'src/http', 'src/modules', ...compositionRoots] },
            { target: 'src/config.ts', from: ['src/db', 'src/http', 'src/modules', ...compositionRoots] },
            // The server counts requests: src/http/server.ts takes the metrics of ops, the one exception.
            { target: 'src/http', from: 'src/modules', except: ['./ops/metrics.ts'] },
            { target: 'src/http', from: compositionRoots },
            {
              target: 'src/modules',
              from: compositionRoots,
              message: 'Only the composition roots wire modules together.',
            },
          ],
        },
      ],
    },
  },
);
