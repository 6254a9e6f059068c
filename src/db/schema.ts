import type { ColumnType, Generated } from 'kysely';

/**
 * Table types. Timestamps are epoch milliseconds in BIGINT columns and booleans are 0/1
 * integers: the one representation that behaves the same on SQLite, PostgreSQL and MySQL.
 */
export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** Lower-cased username; unique, so `Alice` and `alice` are one account. */
  username_normalized: string;
  email: string | null;
  email_normalized: string | null;
  email_verified: number;
  password_hash: string;
  role: string;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  /** Consecutive failed password or second-factor attempts (reset by a full login). */
  failed_attempts: Generated<number>;
  /** Until when sign-in is refused (brute-force lockout, or an administrator's lock). */
  locked_until: number | null;
  /** When failed_attempts is forgotten if no further failure comes (null: not set since 0006). */
  failures_expire_at: Generated<number | null>;
  /** When `twofold import` created or last updated the account; null for accounts made in Twofold. */
  imported_at: Generated<number | null>;
}

export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  /** Authentication methods of the login that opened the session, comma-separated (`pwd`, `pwd,otp`). */
  amr: string;
  user_agent: string | null;
  ip: string | null;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  /** When the person last proved a password or second factor in this session (epoch ms); the token's `auth_time`. */
  authenticated_at: number;
}

export interface RefreshTokensTable {
  /** SHA-256 of the opaque token, hex; the token itself is never stored. */
  token_hash: string;
  session_id: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** HMAC of the IP address and user agent of the request that spent the token. */
  used_by: string | null;
}

export interface ProductsTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** Money as integer cents: exact on every database, never binary floating point. */
  price_cents: number;
  quantity: number;
  created_by: number | null;
  created_at: number;
  updated_at: number;
  /** The original app's product id (`twofold import`); null for products made in Twofold. */
  legacy_id: Generated<string | null>;
}

/** One row (id 1): how many products there are, kept by every insert and delete. */
export interface ProductCountsTable {
  id: number;
  n: number;
}

/** One authenticator app of a user (several per user: phone, tablet …; at most one pending setup). */
export interface TotpFactorsTable {
  id: Generated<number>;
  user_id: number;
  /** What the person calls it (1–64 characters). */
  name: ColumnType<string, string | undefined, string>;
  /** AES-256-GCM sealed base32 secret (lib/crypto seal), the user id as associated data. */
  secret_sealed: string;
  /** Null while setup is pending: nothing is enabled until the first code is verified. */
  confirmed_at: number | null;
  /** The last RFC 6238 time step this authenticator's secret accepted: a step is accepted once (replay protection). */
  last_used_step: number | null;
  /** When a code of it last signed in or confirmed it is you (not its setup). */
  last_used_at: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: number;
}

export interface EmailFactorsTable {
  user_id: number;
  enabled_at: number;
}

export interface EmailCodesTable {
  id: Generated<number>;
  user_id: number;
  /** `login`, `setup` or `step_up`. */
  purpose: string;
  code_hash: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Stand-alone email codes: one pending code per address (keyed hashes only). */
export interface EmailProofsTable {
  /** HMAC of the address's lookup key (accounts/email-address.ts). */
  address_key: string;
  /** HMAC of the code, bound to the address. */
  code_hash: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
}

export interface BackupCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** A user's WebAuthn credential (a passkey). */
export interface PasskeysTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 (hex) of credential_id: the unique key (a credential ID can be too long for MySQL's index). */
  credential_key: string;
  /** base64url. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of AuthenticatorTransport strings. */
  transports: string;
  backed_up: number;
  /** `singleDevice` or `multiDevice`. */
  device_type: string;
  aaguid: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A WebAuthn ceremony's challenge, spent once. */
export interface WebauthnChallengesTable {
  /** SHA-256 (hex) of the flow token (sign-in) or of the challenge (registration). */
  key_hash: string;
  user_id: number | null;
  /** `register`, `login` (discoverable) or `login_user` (a named account, user_id null when unknown). */
  purpose: string;
  challenge: string;
  created_at: number;
  expires_at: number;
}

/** A password-verified login waiting for its second factor; the mfa_token is its key. */
export interface MfaFlowsTable {
  token_hash: string;
  user_id: number;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** `pwd`, or `hwk` (a passkey without user verification): the first factor a login challenge follows. */
  first_factor: Generated<string>;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  user_id: number | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON object text; never a password, code or token. */
  detail: string;
}

export interface AccountTokensTable {
  token_hash: string;
  user_id: number;
  /** `password_reset` or `email_verify`. */
  purpose: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A pending change of a user's address (the recovery module's email-change repository). */
export interface EmailChangesTable {
  user_id: number;
  /** SHA-256 of the mailed token. */
  token_hash: string;
  new_email: string;
  created_at: number;
  expires_at: number;
}

export interface RateCountersTable {
  counter_key: string;
  hits: number;
  expires_at: number;
}

/** The lockout budget of an unknown login identifier (user_id null) or of one device cookie. */
export interface LoginLockoutsTable {
  /** HMAC-SHA256 (hex) of the normalised identifier or of the device nonce; never the raw value. */
  lockout_key: string;
  user_id: number | null;
  failed_attempts: number;
  locked_until: number | null;
  /** The row is forgotten (and deleted) after this; always after locked_until. */
  failures_expire_at: number;
}

/** One instance of an oidc-provider model (its adapter's storage). */
export interface OidcPayloadsTable {
  /** The provider's model name: `Session`, `Grant`, `AccessToken`, `AuthorizationCode`, … */
  model: string;
  id: string;
  /** The provider's JSON payload, as it gave it. */
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** The account whose sign-in the row holds (the payload's `accountId`), if any. */
  account_id: string | null;
  /** Null: kept until destroyed. */
  expires_at: number | null;
  consumed_at: number | null;
}

/** A relying party of the OpenID Connect provider. */
export interface OidcClientsTable {
  id: string;
  name: string;
  /** SHA-256 (hex) of the client secret; null for a public client. */
  secret_hash: string | null;
  /** JSON array of absolute URLs. */
  redirect_uris: string;
  /** JSON array of absolute URLs the browser may be sent to after logout (RP-Initiated Logout 1.0 §3). */
  post_logout_redirect_uris: string;
  /** JSON array of OAuth 2.0 grant types. */
  grant_types: string;
  /** Space-separated scopes the client may ask for. */
  scope: string;
  skip_consent: number;
  created_at: number;
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  products: ProductsTable;
  product_counts: ProductCountsTable;
  totp_factors: TotpFactorsTable;
  email_factors: EmailFactorsTable;
  email_codes: EmailCodesTable;
  email_proofs: EmailProofsTable;
  backup_codes: BackupCodesTable;
  mfa_flows: MfaFlowsTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  audit_events: AuditEventsTable;
  account_tokens: AccountTokensTable;
  email_changes: EmailChangesTable;
  rate_counters: RateCountersTable;
  login_lockouts: LoginLockoutsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_clients: OidcClientsTable;
}
