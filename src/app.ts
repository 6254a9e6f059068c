import type { Config } from './config.js';
import { createDatabase, type DatabaseHandle } from './db/create-database.js';
import { migrateToLatest } from './db/migrate.js';
import { buildServer, type App, type ServerOptions } from './http/server.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createArgon2Hasher, type PasswordHasher } from './lib/password-hasher.js';
import { MfaChallengeSchema, TokensSchema, UserSchema } from './modules/accounts/accounts.schemas.js';
import { createAccountsRepository } from './modules/accounts/accounts.repository.js';
import { accountsRoutes } from './modules/accounts/accounts.routes.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createMetrics } from './modules/ops/metrics.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { createProductsRepository } from './modules/products/products.repository.js';
import { ProductSchema } from './modules/products/products.schemas.js';
import { productsRoutes } from './modules/products/products.routes.js';
import { createProductsService } from './modules/products/products.service.js';
import { createAuthenticate } from './modules/sessions/authenticate.js';
import { createSessionCache } from './modules/sessions/session-cache.js';
import { createSessionsRepository } from './modules/sessions/sessions.repository.js';
import { sessionsRoutes } from './modules/sessions/sessions.routes.js';
import { createSessionsService } from './modules/sessions/sessions.service.js';
import { createTokenService } from './modules/tokens/tokens.service.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';

export interface AppOverrides {
  clock?: Clock;
  hasher?: PasswordHasher;
  /** An already-open database; the app then leaves closing it to the caller. */
  database?: DatabaseHandle;
  /** Apply migrations at start (default true). */
  migrate?: boolean;
  processMetrics?: boolean;
  /** Where log lines go (default stdout). */
  logStream?: ServerOptions['logStream'];
}

export interface Twofold {
  app: App;
  database: DatabaseHandle;
  hasher: PasswordHasher;
}

/** The composition root: every dependency is built and wired here, and nowhere else. It never listens. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<Twofold> {
  const clock = overrides.clock ?? systemClock;
  const hasher = overrides.hasher ?? createArgon2Hasher(config.argon2);
  const database = overrides.database ?? createDatabase(config.databaseUrl);
  const { db, dialect } = database;
  if (overrides.migrate ?? true) await migrateToLatest(database);

  const metrics = createMetrics({ processMetrics: overrides.processMetrics ?? false });
  const tokens = createTokenService({ jwt: config.jwt, clock });
  const accounts = createAccountsService({ repository: createAccountsRepository(db, dialect), hasher, clock, requireEmail: config.requireEmail });
  const sessions = createSessionsService({
    repository: createSessionsRepository(db, dialect),
    tokens,
    cache: createSessionCache({ ttlMs: 5000, maxEntries: 100_000 }),
    clock,
    refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
    loadUser: (id) => accounts.getUser(id),
  });
  const products = createProductsService({ repository: createProductsRepository(db, dialect), clock, writeRoles: config.productWriteRoles });
  const authenticate = createAuthenticate({ tokens, sessions });

  const app = await buildServer(config, metrics, { logStream: overrides.logStream });
  // Schemas referenced by id ($ref) across modules are registered once, at the root.
  for (const schema of [UserSchema, TokensSchema, MfaChallengeSchema, ProductSchema]) app.addSchema(schema);
  const refreshTokenTtlSeconds = config.jwt.refreshTokenTtlSeconds;
  await app.register(opsRoutes, { metrics, pingDatabase: database.ping });
  await app.register(accountsRoutes, { accounts, sessions, authenticate, metrics, refreshTokenTtlSeconds });
  await app.register(sessionsRoutes, { sessions, authenticate, refreshTokenTtlSeconds });
  await app.register(tokensRoutes, { tokens, sessions });
  await app.register(productsRoutes, { products, authenticate });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (!overrides.database) app.addHook('onClose', async () => database.close());
  return { app, database, hasher };
}
