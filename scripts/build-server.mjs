/**
 * Bundles the server (src/main.ts and everything it imports) into one file, dist/main.js.
 * Node then reads and compiles one file at start instead of about 1,300 (Kysely, TypeBox, Ajv, …):
 * the largest part of the cold start. Packages that load files of their own or native code at run
 * time stay outside, loaded from node_modules as usual. Types are checked by `npm run typecheck`.
 */
import { build } from 'esbuild';

const external = [
  // native addons
  'better-sqlite3',
  '@node-rs/argon2',
  // loaded only when configured (src/lib/lazy.ts)
  'pg',
  'mysql2',
  'ioredis',
  'nodemailer',
  'qrcode',
  'bcryptjs',
  // serve files from their own package folders, or start worker threads from their own files
  '@fastify/static',
  '@fastify/swagger-ui',
  'pino',
];

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS packages inside the bundle call require() for Node's own modules and the externals.
  banner: {
    js: "import { createRequire as __twofoldCreateRequire } from 'node:module';\nconst require = __twofoldCreateRequire(import.meta.url);",
  },
});
