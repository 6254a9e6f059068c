import type { ServiceOverrides, Services } from './services-types.js';
import type { Config } from './config.js';
import { createDatabase } from './db/create-database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock } from './lib/clock.js';
import { deriveKey } from './lib/crypto.js';
import { createArgon2Hasher } from './lib/password-hasher.js';
import { connectRedis } from './lib/redis.js';
import { createStderrLogger } from './lib/stderr-logger.js';
import { createAccountsRepository, createPasswordWriter } from './modules/accounts/accounts.repository.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createRegistrationService } from './modules/accounts/registration.service.js';
import { createAdminRepository } from './modules/admin/admin.repository.js';
import { createAdminService } from './modules/admin/admin.service.js';
import { createAuditRepository } from './modules/audit/audit.repository.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createEmailProofRepository } from './modules/email-proof/email-proof.repository.js';
import { createEmailProofService } from './modules/email-proof/email-proof.service.js';
import { createForwardAuthService } from './modules/forward-auth/forward-auth.service.js';
import { createDeviceCookies } from './modules/lockout/device-cookie.js';
import { createLockoutRepository } from './modules/lockout/lockout.repository.js';
import { createLockoutService } from './modules/lockout/lockout.service.js';
import { createLoginRepository } from './modules/login/login.repository.js';
import { createLoginService } from './modules/login/login.service.js';
import { createMailer } from './modules/mail/mailer.js';
import { createMetrics } from './modules/ops/metrics.js';
import { createClientsRepository } from './modules/oidc/clients.repository.js';
import { createClientsService } from './modules/oidc/clients.service.js';
import { endProviderSessions } from './modules/oidc/provider-sessions.js';
import { createPasskeysRepository } from './modules/passkeys/passkeys.repository.js';
import { createPasskeysService } from './modules/passkeys/passkeys.service.js';
import { createPrivacyRepository } from './modules/privacy/privacy.repository.js';
import { createPrivacyService } from './modules/privacy/privacy.service.js';
import { createProductsRepository } from './modules/products/products.repository.js';
import { createProductsService } from './modules/products/products.service.js';
import {
  createDatabaseCounterStore,
  createFallbackCounterStore,
  createRedisCounterStore,
} from './modules/rate-limit/counter-store.js';
import { createMailQuota } from './modules/rate-limit/mail-quota.js';
import { createEmailChangeRepository } from './modules/recovery/email-change.repository.js';
import { createEmailChangeService } from './modules/recovery/email-change.service.js';
import { createRecoveryRepository, deletePasswordResetLinks } from './modules/recovery/recovery.repository.js';
import { createRecoveryService } from './modules/recovery/recovery.service.js';
import { createBroadcastingSessionCache } from './modules/sessions/revocation-bus.js';
import { createSessionCache } from './modules/sessions/session-cache.js';
import { createSessionCookie } from './modules/sessions/session-cookie.js';
import { createSessionsRepository } from './modules/sessions/sessions.repository.js';
import { createSessionsService } from './modules/sessions/sessions.service.js';
import { createTokenService } from './modules/tokens/tokens.service.js';
import { createTwoFactorRepository } from './modules/two-factor/two-factor.repository.js';
import { createTwoFactorService } from './modules/two-factor/two-factor.service.js';

export type { ServiceOverrides, Services } from './services-types.js';

/** The one place where the database, the repositories and the services are built and wired. */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  const hasher = overrides.hasher ?? createArgon2Hasher(config.argon2);
  const database = overrides.database ?? createDatabase(config.databaseUrl);
  const closeDatabase = async (): Promise<void> => {
    if (!overrides.database) await database.close();
  };
  if (overrides.migrate ?? true) {
    await migrateToLatest(database).catch(async (error: unknown) => {
      await closeDatabase();
      throw error;
    });
  }
  const { db, dialect } = database;
  const log = overrides.log ?? createStderrLogger();
  const metrics = overrides.metrics ?? createMetrics({ processMetrics: false });

  const audit = createAuditService({ repository: createAuditRepository(db), clock, log });
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    log,
    allowLogDelivery: config.nodeEnv !== 'production',
  });
  // Redis (optional) shares rate-limit counters and session revocations between instances.
  const redis = config.redisUrl && (overrides.redis ?? true) ? connectRedis(config.redisUrl, log) : undefined;
  const databaseCounters = createDatabaseCounterStore(db);
  const counters = redis
    ? createFallbackCounterStore(createRedisCounterStore(redis.client), databaseCounters, log)
    : databaseCounters;
  // Counts in the same store as the per-IP limits.
  const mailQuota = createMailQuota({ store: counters, clock, key: deriveKey(config.encryptionKey, 'mail-quota') });

  const tokens = createTokenService({ jwt: config.jwt, clock });
  const localSessionCache = createSessionCache({ ttlMs: 5000, maxEntries: 100_000 });
  const sessions = createSessionsService({
    repository: createSessionsRepository(db, dialect),
    tokens,
    cache:
      overrides.sessionCache ??
      (redis ? createBroadcastingSessionCache(localSessionCache, redis, log) : localSessionCache),
    clock,
    refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    clientKey: deriveKey(config.encryptionKey, 'refresh-client'),
    onRefreshTokenReuse: ({ userId, sessionId }) =>
      void audit.record({ type: 'refresh_token.reused', userId, detail: { session_id: sessionId } }),
    // Only when the provider is on: its rows exist only then (this module never loads oidc-provider).
    onSessionsEnded: config.oidc.signingKeys ? (userId) => endProviderSessions(db, userId) : undefined,
  });
  const lockout = createLockoutService({
    repository: createLockoutRepository(db, config.lockout),
    clock,
    audit,
    devices: createDeviceCookies(deriveKey(config.encryptionKey, 'device-cookie')),
    keyHashKey: deriveKey(config.encryptionKey, 'lockout-key'),
  });
  const accountsRepository = createAccountsRepository(db, dialect);
  // A new password (a change or a reset) and the end of the account's reset links, in one
  // transaction: accounts writes the hash, recovery, which owns the links, deletes them.
  const passwords = createPasswordWriter(db, deletePasswordResetLinks);
  const accounts = createAccountsService({
    repository: accountsRepository,
    passwords,
    hasher,
    clock,
    requireEmail: config.requireEmail,
    // Accounts and two-factor use each other: the `user` shape shows the factors, a factor change
    // confirms the password. This call happens per request, after both are built.
    mfaMethodsOf: (userId) => twoFactor.methodsOf(userId),
    audit,
    guardPasswordCheck: (userId, client, check) => lockout.guard(userId, client, check),
    endOtherSessions: (userId, keepSessionId) => sessions.endOthers(userId, keepSessionId),
  });
  const twoFactor = createTwoFactorService({
    repository: createTwoFactorRepository(db, dialect),
    mailer,
    mailQuota,
    audit,
    clock,
    encryptionKey: config.encryptionKey,
    codeHashKey: deriveKey(config.encryptionKey, 'code-hash'),
    totpIssuer: config.totpIssuer,
    accounts,
    lockout,
  });
  const products = createProductsService({
    repository: createProductsRepository(db, dialect),
    clock,
    writeRoles: config.productWriteRoles,
  });
  const emailChanges = createEmailChangeService({
    repository: createEmailChangeRepository(db, dialect),
    contacts: accountsRepository,
    accounts,
    mailer,
    mailQuota,
    audit,
    clock,
    refKey: deriveKey(config.encryptionKey, 'email-change-ref'),
    publicUrl: config.publicUrl,
    issuer: config.totpIssuer,
    log,
  });
  const recoveryRepository = createRecoveryRepository(db, dialect);
  const recovery = createRecoveryService({
    repository: recoveryRepository,
    emailChanges,
    accounts,
    passwords,
    hasher,
    sessions,
    mailer,
    mailQuota,
    audit,
    clock,
    publicUrl: config.publicUrl,
    issuer: config.totpIssuer,
    log,
  });
  const emailProof = createEmailProofService({
    repository: createEmailProofRepository(db, dialect),
    accounts: accountsRepository,
    mailer,
    mailQuota,
    audit,
    clock,
    hashKey: deriveKey(config.encryptionKey, 'email-proof'),
    issuer: config.totpIssuer,
    forAnyone: config.emailCodesForAnyone,
    log,
  });
  const passkeys = createPasskeysService({
    repository: createPasskeysRepository(db, dialect),
    accounts,
    audit,
    clock,
    relyingParty: config.webauthn,
    userHandleKey: deriveKey(config.encryptionKey, 'webauthn-user-handle'),
  });
  const privacy = createPrivacyService({
    repository: createPrivacyRepository(db, dialect),
    accounts,
    sessions,
    twoFactor,
    passkeys,
    audit,
    clock,
  });
  const admin = createAdminService({
    repository: createAdminRepository(db, dialect),
    accounts,
    sessions,
    audit,
    clock,
    deleteAccount: (userId, actor) => privacy.deleteAccount(userId, actor),
    passkeys,
  });
  const login = createLoginService({
    accounts,
    repository: createLoginRepository(db),
    lockout,
    twoFactor,
    sessions,
    audit,
    metrics,
    tokens,
    require2fa: config.require2fa,
    // The mailer's own rule (createMailer): SMTP_URL, or the log outside production.
    mailConfigured: config.smtpUrl !== undefined || config.nodeEnv !== 'production',
    passkeys,
  });
  const forwardAuth = createForwardAuthService({
    config: config.forwardAuth,
    publicUrl: config.publicUrl,
    sessions,
    accounts,
    clock,
  });
  const sessionCookie = createSessionCookie({
    key: deriveKey(config.encryptionKey, 'session-cookie'),
    domain: config.forwardAuth.sessionCookieDomain,
    maxAgeSeconds: config.jwt.refreshTokenTtlSeconds,
  });
  const registration = createRegistrationService({
    accounts,
    audit,
    sendEmailVerification: (user) => recovery.sendEmailVerification(user),
  });

  const oidcClients = createClientsService({
    repository: createClientsRepository(db),
    audit,
    clock,
    apiScopes: config.oidc.apiScopes,
  });

  return {
    clock,
    hasher,
    database,
    log,
    metrics,
    redis,
    counters,
    audit,
    accounts,
    registration,
    twoFactor,
    tokens,
    sessions,
    lockout,
    login,
    recovery,
    emailChanges,
    emailProof,
    products,
    admin,
    privacy,
    passkeys,
    forwardAuth,
    sessionCookie,
    oidcClients,
    async close() {
      mailer.close();
      await redis?.close();
      await closeDatabase();
    },
  };
}
