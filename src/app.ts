import type { Config } from './config.js';
import type { DatabaseHandle } from './db/create-database.js';
import { buildServer, type App, type ServerOptions } from './http/server.js';
import { InFlightRequests } from './http/in-flight.js';
import { deriveKey } from './lib/crypto.js';
import type { PasswordHasher } from './lib/password-hasher.js';
import {
  MfaChallengeSchema,
  MfaSetupRequiredSchema,
  TokensSchema,
  UserSchema,
} from './modules/accounts/accounts.schemas.js';
import { accountsRoutes } from './modules/accounts/accounts.routes.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { emailProofRoutes } from './modules/email-proof/email-proof.routes.js';
import { forwardAuthRoutes } from './modules/forward-auth/forward-auth.routes.js';
import { createFinishMfaSetup, loginRoutes } from './modules/login/login.routes.js';
import { createMetrics } from './modules/ops/metrics.js';
import { clientsRoutes } from './modules/oidc/clients.routes.js';
import { oidcRoutes } from './modules/oidc/oidc.routes.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { ProductSchema } from './modules/products/products.schemas.js';
import { passkeysRoutes } from './modules/passkeys/passkeys.routes.js';
import { privacyRoutes } from './modules/privacy/privacy.routes.js';
import { productsRoutes } from './modules/products/products.routes.js';
import { installRateLimits } from './modules/rate-limit/rate-limit.js';
import { emailChangeRoutes } from './modules/recovery/email-change.routes.js';
import { recoveryRoutes } from './modules/recovery/recovery.routes.js';
import { createAuthenticate } from './modules/sessions/authenticate.js';
import { createBrowserSignOut } from './modules/sessions/browser-sign-out.js';
import { createRequireRecentAuth } from './modules/sessions/recent-auth.js';
import { sessionsRoutes } from './modules/sessions/sessions.routes.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';
import { authenticatorsRoutes } from './modules/two-factor/authenticators.routes.js';
import { twoFactorRoutes } from './modules/two-factor/two-factor.routes.js';
import { webRoutes } from './modules/web/web.routes.js';
import { createServices, type ServiceOverrides } from './services.js';

export interface AppOverrides extends Pick<ServiceOverrides, 'clock' | 'hasher' | 'database' | 'migrate'> {
  processMetrics?: boolean;
  /** Where log lines go (default stdout). */
  logStream?: ServerOptions['logStream'];
  /** The built web UI (default web/dist/). */
  webRoot?: string;
}

/** How long closing waits for requests still being handled (well inside a container's 30 s stop timeout). */
const IN_FLIGHT_GRACE_MS = 15_000;

export interface Twofold {
  app: App;
  database: DatabaseHandle;
  hasher: PasswordHasher;
}

/**
 * The HTTP server on top of the services (src/services.ts, which the command line uses too): the
 * routes, their hooks and the rate limits are wired here. It never listens.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<Twofold> {
  const metrics = createMetrics({ processMetrics: overrides.processMetrics ?? false });
  const inFlight = new InFlightRequests();
  const app = await buildServer(config, metrics, { logStream: overrides.logStream, inFlight });
  const services = await createServices(config, {
    clock: overrides.clock,
    hasher: overrides.hasher,
    database: overrides.database,
    migrate: overrides.migrate,
    log: app.log,
    metrics,
  }).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  const {
    clock,
    database,
    redis,
    counters,
    audit,
    accounts,
    registration,
    twoFactor,
    tokens,
    sessions,
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
  } = services;
  const authenticate = createAuthenticate({ tokens, sessions, setupGrants: twoFactor, require2fa: config.require2fa });
  const requireRecentAuth = createRequireRecentAuth({ clock, maxAgeSeconds: config.reauthMaxAgeSeconds });

  // Schemas referenced by id ($ref) across modules are registered once, at the root.
  for (const schema of [UserSchema, TokensSchema, MfaChallengeSchema, MfaSetupRequiredSchema, ProductSchema])
    app.addSchema(schema);
  const refreshTokenTtlSeconds = config.jwt.refreshTokenTtlSeconds;
  installRateLimits(app, { store: counters, clock, perMinute: config.rateLimits });
  await app.register(opsRoutes, {
    metrics,
    pingDatabase: database.ping,
    redisStatus:
      redis &&
      (() =>
        redis.status() === 'ok'
          ? 'ok'
          : 'down: rate limits count in the database, revocations reach other instances within 5 s'),
    metricsAccess: { token: config.metricsToken, production: config.nodeEnv === 'production' },
  });
  await app.register(accountsRoutes, { accounts, registration, authenticate, requireRecentAuth });
  await app.register(recoveryRoutes, { recovery });
  await app.register(emailChangeRoutes, { emailChanges, authenticate, requireRecentAuth });
  await app.register(emailProofRoutes, { emailProof });
  await app.register(loginRoutes, { login, authenticate, refreshTokenTtlSeconds, sessionCookie });
  await app.register(twoFactorRoutes, {
    twoFactor,
    authenticate,
    requireRecentAuth,
    finishMfaSetup: createFinishMfaSetup({ login, refreshTokenTtlSeconds, sessionCookie }),
  });
  await app.register(authenticatorsRoutes, { twoFactor, authenticate, requireRecentAuth });
  await app.register(passkeysRoutes, { passkeys, authenticate, requireRecentAuth });
  await app.register(privacyRoutes, { privacy, authenticate, requireRecentAuth, sessionCookie });
  await app.register(adminRoutes, {
    admin,
    twoFactor,
    authenticate,
    require2fa: config.require2fa,
    requireRecentAuth,
  });
  await app.register(sessionsRoutes, { sessions, authenticate, refreshTokenTtlSeconds, sessionCookie });
  await app.register(forwardAuthRoutes, { forwardAuth, sessionCookie });
  await app.register(tokensRoutes, { tokens, sessions });
  await app.register(productsRoutes, { products, authenticate, audit });
  await app.register(clientsRoutes, {
    clients: services.oidcClients,
    providerOn: config.oidc.signingKeys !== undefined,
    twoFactor,
    authenticate,
    require2fa: config.require2fa,
    requireRecentAuth,
  });
  if (config.oidc.signingKeys) {
    // Loaded only when the provider is on: commands and a server without it never load oidc-provider.
    const { loadOidcProvider } = await import('./modules/oidc/load-provider.js');
    const { createOidcProvider } = await loadOidcProvider(app.log);
    const provider = createOidcProvider({
      config: config.oidc,
      cookieKeys: [deriveKey(config.encryptionKey, 'oidc-cookies').toString('base64url')],
      db: database.db,
      dialect: database.dialect,
      clock,
      clients: services.oidcClients,
      findUser: (id) => accounts.findById(id),
      log: app.log,
      audit,
      signOutBrowser: createBrowserSignOut({ sessions, sessionCookie }),
      ttl: {
        accessTokenSeconds: config.jwt.accessTokenTtlSeconds,
        refreshTokenSeconds: config.jwt.refreshTokenTtlSeconds,
      },
    });
    const { createInteractionsService } = await import('./modules/oidc/interactions.service.js');
    const { interactionsRoutes } = await import('./modules/oidc/interactions.routes.js');
    await app.register(interactionsRoutes, {
      interactions: createInteractionsService({ provider, clock, audit }),
      authenticate,
    });
    await app.register(oidcRoutes, {
      provider,
      inFlight,
      issuer: config.oidc.issuer,
      tokenLimit: { store: counters, clock, perMinute: config.rateLimits.token },
    });
  }
  await app.register(webRoutes, { root: overrides.webRoot, sourceMaps: config.nodeEnv !== 'production' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // A server sweeps for the late audit events of accounts other processes deleted; the command
  // line, which answers no requests, writes none.
  let stopSweep: (() => Promise<void>) | undefined;
  app.addHook('onReady', async () => {
    stopSweep = audit.startLateRequestSweep();
  });
  app.addHook('onClose', async () => {
    // Fastify's close() has waited for open connections, not for handlers: a request whose client
    // hung up may still be at work, and the database must outlive it.
    const unfinished = await inFlight.settled(IN_FLIGHT_GRACE_MS);
    if (unfinished > 0) app.log.warn({ unfinished }, 'closing the database with requests still being handled');
    await stopSweep?.();
    await services.close();
  });
  return { app, database, hasher: services.hasher };
}
