/** Shapes of the API (docs/api.md, the project's API reference). */
export type Role = 'user' | 'admin';

export interface User {
  id: number;
  username: string;
  email: string | null;
  role: Role;
  email_verified: boolean;
  mfa_enabled: boolean;
  mfa_methods: string[];
  created_at: string;
}

export interface AdminUser extends User {
  locked_until: string | null;
  last_login_at: string | null;
}

export interface Tokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user: User;
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  mfa_methods: string[];
  expires_in: number;
}

export type MfaMethod = 'totp' | 'email' | 'backup_code';

export interface TwoFactorStatus {
  totp_enabled: boolean;
  email_enabled: boolean;
  backup_codes_remaining: number;
}

export interface SessionInfo {
  id: number;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

export interface Product {
  id: number;
  name: string;
  description: string | null;
  price: number;
  quantity: number;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface AuditEvent {
  id: number;
  at: string;
  type: string;
  user_id: number | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
}

export interface TokenCheck {
  valid: boolean;
  reason?: string;
  claims?: Record<string, unknown>;
}
