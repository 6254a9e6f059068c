// The shape of what the composition root (services.ts) builds, and what a caller may hand it.
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseHandle } from './db/create-database.js';
import type { Clock } from './lib/clock.js';
import type { PasswordHasher } from './lib/password-hasher.js';
import type { RedisHandle } from './lib/redis.js';
import type { AccountsService } from './modules/accounts/accounts.service.js';
import type { RegistrationService } from './modules/accounts/registration.service.js';
import type { AdminService } from './modules/admin/admin.service.js';
import type { AuditService } from './modules/audit/audit.service.js';
import type { EmailProofService } from './modules/email-proof/email-proof.service.js';
import type { ForwardAuthService } from './modules/forward-auth/forward-auth.service.js';
import type { LockoutService } from './modules/lockout/lockout.service.js';
import type { LoginService } from './modules/login/login.service.js';
import type { ClientsService } from './modules/oidc/clients.service.js';
import type { Metrics } from './modules/ops/metrics.js';
import type { PasskeysService } from './modules/passkeys/passkeys.service.js';
import type { PrivacyService } from './modules/privacy/privacy.service.js';
import type { ProductsService } from './modules/products/products.service.js';
import type { CounterStore } from './modules/rate-limit/counter-store.js';
import type { EmailChangeService } from './modules/recovery/email-change.service.js';
import type { RecoveryService } from './modules/recovery/recovery.service.js';
import type { SessionCache } from './modules/sessions/session-cache.js';
import type { SessionCookie } from './modules/sessions/session-cookie.js';
import type { SessionsService } from './modules/sessions/sessions.service.js';
import type { TokenService } from './modules/tokens/tokens.service.js';
import type { TwoFactorService } from './modules/two-factor/two-factor.service.js';

export interface ServiceOverrides {
  clock?: Clock;
  hasher?: PasswordHasher;
  /** An already-open database; `close()` then leaves closing it to the caller. */
  database?: DatabaseHandle;
  /** Apply migrations at start (default true). */
  migrate?: boolean;
  /** Where the services log (default: warnings and errors on stderr, for a command). */
  log?: FastifyBaseLogger;
  /** Default: a registry without process metrics. */
  metrics?: Metrics;
  /**
   * Connect to REDIS_URL when it is set (default true): rate-limit counters shared between
   * instances and session revocations broadcast to them. A command that runs once passes false.
   */
  redis?: boolean;
  /** Default: the in-process cache, broadcast through Redis when connected. */
  sessionCache?: SessionCache;
}

/** Everything the HTTP server and the command line act through, built once. */
export interface Services {
  clock: Clock;
  hasher: PasswordHasher;
  database: DatabaseHandle;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** Connected only when REDIS_URL is set (and `redis` was not turned off). */
  redis: RedisHandle | undefined;
  counters: CounterStore;
  audit: AuditService;
  accounts: AccountsService;
  /** Self-registration over HTTP (the account, its audit line, the verification mail). */
  registration: RegistrationService;
  twoFactor: TwoFactorService;
  tokens: TokenService;
  sessions: SessionsService;
  lockout: LockoutService;
  login: LoginService;
  recovery: RecoveryService;
  /** A signed-in person's new address, proven by a mailed link (the recovery module). */
  emailChanges: EmailChangeService;
  emailProof: EmailProofService;
  products: ProductsService;
  admin: AdminService;
  /** The person's data: its export and the account's deletion. */
  privacy: PrivacyService;
  /** A user's passkeys (WebAuthn credentials): registration, management, the sign-in's checks. */
  passkeys: PasskeysService;
  /** Forward authentication for reverse proxies: is the browser's session live, and may it reach this host? */
  forwardAuth: ForwardAuthService;
  /** The browser session cookie forward authentication reads. */
  sessionCookie: SessionCookie;
  /** The OpenID Connect provider's relying parties (`twofold client …`). */
  oidcClients: ClientsService;
  /** Closes the mailer, Redis, and the database unless it was handed in. */
  close(): Promise<void>;
}
