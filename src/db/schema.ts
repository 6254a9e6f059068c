import type { Generated } from 'kysely';

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
}

export interface RefreshTokensTable {
  /** SHA-256 of the opaque token, hex; the token itself is never stored. */
  token_hash: string;
  session_id: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
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
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  products: ProductsTable;
}
