import type { Config } from './config.js';
import { createDatabase, type DatabaseHandle } from './db/create-database.js';
import { migrateToLatest } from './db/migrate.js';
import { buildServer, type App, type ServerOptions } from './http/server.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createArgon2Hasher, type PasswordHasher } from './lib/password-hasher.js';
import { MfaChallengeSchema, TokensSchema, UserSchema } from './modules/accounts/accounts.schemas.js';
import { createAdminRepository } from './modules/admin/admin.repository.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { createAdminService } from './modules/admin/admin.service.js';
import { createAuditRepository } from './modules/audit/audit.repository.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { connectRedis } from './lib/redis.js';
import { createDatabaseCounterStore, createFallbackCounterStore, createRedisCounterStore } from './modules/rate-limit/counter-store.js';
import { createMailQuota } from './modules/rate-limit/mail-quota.js';
import { installRateLimits } from './modules/rate-limit/rate-limit.js';
import { createBroadcastingSessionCache } from './modules/sessions/revocation-bus.js';
import { webRoutes } from './modules/web/web.routes.js';
import { createLockoutRepository } from './modules/lockout/lockout.repository.js';
import { createLockoutService } from './modules/lockout/lockout.service.js';
import { createDeviceCookies } from './modules/lockout/device-cookie.js';
import { createLoginService } from './modules/login/login.service.js';
import { loginRoutes } from './modules/login/login.routes.js';
import { createMailer } from './modules/mail/mailer.js';
import { createTwoFactorRepository } from './modules/two-factor/two-factor.repository.js';
import { twoFactorRoutes } from './modules/two-factor/two-factor.routes.js';
import { createTwoFactorService } from './modules/two-factor/two-factor.service.js';
import { deriveKey } from './lib/crypto.js';
import { createAccountsRepository } from './modules/accounts/accounts.repository.js';
import { accountsRoutes } from './modules/accounts/accounts.routes.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createMetrics } from './modules/ops/metrics.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { createProductsRepository } from './modules/products/products.repository.js';
import { ProductSchema } from './modules/products/products.schemas.js';
import { productsRoutes } from './modules/products/products.routes.js';
import { createProductsService } from './modules/products/products.service.js';
import { createEmailProofRepository } from './modules/email-proof/email-proof.repository.js';
import { emailProofRoutes } from './modules/email-proof/email-proof.routes.js';
import { createEmailProofService } from './modules/email-proof/email-proof.service.js';
import { createRecoveryRepository } from './modules/recovery/recovery.repository.js';
import { recoveryRoutes } from './modules/recovery/recovery.routes.js';
import { createRecoveryService } from './modules/recovery/recovery.service.js';
import { createAuthenticate } from './modules/sessions/authenticate.js';
import { createRequireRecentAuth } from './modules/sessions/recent-auth.js';
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
  /** The built web UI (default web/dist/). */
  webRoot?: string;
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
  const app = await buildServer(config, metrics, { logStream: overrides.logStream });
  const audit = createAuditService({ repository: createAuditRepository(db), clock, log: app.log });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, log: app.log, allowLogDelivery: config.nodeEnv !== 'production' });
  const twoFactorRepository = createTwoFactorRepository(db, dialect);
  // Counts in the same store as the per-IP limits (`counters`, built below; read at the first mail).
  const mailQuota = createMailQuota({ store: { name: 'counters', hit: (...args) => counters.hit(...args) }, clock, key: deriveKey(config.encryptionKey, 'mail-quota') });
  const twoFactor = createTwoFactorService({
    repository: twoFactorRepository,
    mailer,
    mailQuota,
    audit,
    clock,
    encryptionKey: config.encryptionKey,
    codeHashKey: deriveKey(config.encryptionKey, 'code-hash'),
    totpIssuer: config.totpIssuer,
  });
  const tokens = createTokenService({ jwt: config.jwt, clock });
  // Redis (optional) shares rate-limit counters and session revocations between instances.
  const redis = config.redisUrl ? connectRedis(config.redisUrl, app.log) : undefined;
  const localSessionCache = createSessionCache({ ttlMs: 5000, maxEntries: 100_000 });
  const databaseCounters = createDatabaseCounterStore(db);
  const counters = redis ? createFallbackCounterStore(createRedisCounterStore(redis.client), databaseCounters, app.log) : databaseCounters;
  const accounts = createAccountsService({
    repository: createAccountsRepository(db, dialect),
    hasher,
    clock,
    requireEmail: config.requireEmail,
    mfaMethodsOf: (userId) => twoFactor.methodsOf(userId),
  });
  const sessions = createSessionsService({
    repository: createSessionsRepository(db, dialect),
    tokens,
    cache: redis ? createBroadcastingSessionCache(localSessionCache, redis, app.log) : localSessionCache,
    clock,
    refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    clientKey: deriveKey(config.encryptionKey, 'refresh-client'),
    onRefreshTokenReuse: ({ userId, sessionId }) => void audit.record({ type: 'refresh_token.reused', userId, detail: { session_id: sessionId } }),
  });
  const products = createProductsService({ repository: createProductsRepository(db, dialect), clock, writeRoles: config.productWriteRoles });
  const authenticate = createAuthenticate({ tokens, sessions });
  const requireRecentAuth = createRequireRecentAuth({ clock, maxAgeSeconds: config.reauthMaxAgeSeconds });
  const recoveryRepository = createRecoveryRepository(db, dialect);
  const recovery = createRecoveryService({
    repository: recoveryRepository,
    accounts,
    passwords: createAccountsRepository(db, dialect),
    hasher,
    sessions,
    mailer,
    mailQuota,
    audit,
    clock,
    publicUrl: config.publicUrl,
    issuer: config.totpIssuer,
    log: app.log,
  });
  const emailProof = createEmailProofService({
    repository: createEmailProofRepository(db, dialect),
    accounts: recoveryRepository,
    mailer,
    mailQuota,
    audit,
    clock,
    hashKey: deriveKey(config.encryptionKey, 'email-proof'),
    issuer: config.totpIssuer,
    forAnyone: config.emailCodesForAnyone,
    log: app.log,
  });
  const admin = createAdminService({ repository: createAdminRepository(db), accounts, twoFactor, sessions, audit, clock });
  const lockout = createLockoutService({
    repository: createLockoutRepository(db, config.lockout),
    clock,
    audit,
    devices: createDeviceCookies(deriveKey(config.encryptionKey, 'device-cookie')),
    keyHashKey: deriveKey(config.encryptionKey, 'lockout-key'),
  });
  const login = createLoginService({ accounts, lockout, twoFactor, flows: twoFactorRepository, sessions, audit, metrics, clock });

  // Schemas referenced by id ($ref) across modules are registered once, at the root.
  for (const schema of [UserSchema, TokensSchema, MfaChallengeSchema, ProductSchema]) app.addSchema(schema);
  const refreshTokenTtlSeconds = config.jwt.refreshTokenTtlSeconds;
  installRateLimits(app, { store: counters, clock, perMinute: config.rateLimits });
  await app.register(opsRoutes, { metrics, pingDatabase: database.ping, redisStatus: redis && (() => (redis.status() === 'ok' ? 'ok' : 'down: rate limits count in the database, revocations reach other instances within 5 s')),
    metricsAccess: { token: config.metricsToken, production: config.nodeEnv === 'production' } });
  await app.register(accountsRoutes, { lockout, accounts, sessions, authenticate, requireRecentAuth, audit, recovery });
  await app.register(recoveryRoutes, { recovery });
  await app.register(emailProofRoutes, { emailProof });
  await app.register(loginRoutes, { login, authenticate, refreshTokenTtlSeconds });
  await app.register(twoFactorRoutes, { twoFactor, lockout, accounts, audit, authenticate, requireRecentAuth });
  await app.register(adminRoutes, { admin, twoFactor, authenticate });
  await app.register(sessionsRoutes, { sessions, authenticate, refreshTokenTtlSeconds });
  await app.register(tokensRoutes, { tokens, sessions });
  await app.register(productsRoutes, { products, authenticate, audit });
  await app.register(webRoutes, { root: overrides.webRoot, sourceMaps: config.nodeEnv !== 'production' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onClose', async () => {
    mailer.close();
    await redis?.close();
  });
  if (!overrides.database) app.addHook('onClose', async () => database.close());
  return { app, database, hasher };
}
