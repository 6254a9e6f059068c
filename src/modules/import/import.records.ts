import { passwordScheme } from '../../lib/password-schemes.js';
import { normalizeUsername } from '../accounts/accounts.repository.js';
import { canonicalEmail, emailProblem } from '../accounts/email-address.js';
import { EMAIL_PATTERN } from '../accounts/accounts.schemas.js';
import { decimalToCents, priceToCents } from '../products/money.js';
import type { SourceProduct, SourceUser } from './import-source.js';

/**
 * One source record checked on its own and turned into what Twofold stores (no database, no
 * clock): the first step of planning a batch.
 */

const USERNAME_MAX = 50;
const EMAIL = new RegExp(EMAIL_PATTERN);
/** Kept for an imported user without a password hash who can reset it by email; no scheme matches it. */
export const NO_PASSWORD = '!imported-without-password';
/** RFC 4226 asks for 128 bits; pyotp's older 16-character secrets are 80 bits and still in use. */
const MIN_TOTP_SECRET_BITS = 80;

export interface PreparedUser {
  ref: string;
  username: string;
  normalized: string;
  email: string | null;
  emailNormalized: string | null;
  passwordHash: string;
  totpSecret: string | null;
  role: 'user' | 'admin';
  emailVerified: boolean;
  /** Null when the source has no usable creation time: the account is then created at the time of the import. */
  createdAtMs: number | null;
  emailFactor: boolean;
  /** The source's role when it is one Twofold does not have (imported as `user`). */
  mappedFrom: string | null;
}

export interface PreparedProduct {
  ref: string;
  legacyId: string;
  name: string;
  description: string;
  priceCents: number;
  quantity: number;
}

export interface Problem {
  problem: string;
}

/** A base32 secret as authenticator apps take it: spaces and padding dropped, upper case. */
export function normalizeTotpSecret(secret: string): string | Problem {
  const normalized = secret.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(normalized)) return { problem: 'TOTP secret is not base32' };
  if (normalized.length * 5 < MIN_TOTP_SECRET_BITS)
    return { problem: `TOTP secret is shorter than ${MIN_TOTP_SECRET_BITS} bits` };
  return normalized;
}

/** Epoch ms from a Date, epoch seconds or ms, ISO text or SQLAlchemy's naive UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`. */
export function toEpochMs<F>(value: unknown, fallback: F): number | F {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? fallback : value.getTime();
  if (typeof value === 'number' && Number.isFinite(value) && value > 0)
    return Math.round(value < 1e11 ? value * 1000 : value);
  if (typeof value === 'string' && value.trim() !== '') {
    let text = value.trim();
    if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return fallback;
}

export function prepareUser(record: SourceUser): PreparedUser | Problem {
  const username = record.username.trim();
  if (username === '') return { problem: 'username is empty' };
  if (username.length > USERNAME_MAX) return { problem: `username is longer than ${USERNAME_MAX} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(username)) return { problem: 'username contains control characters' };
  // Sign-in treats an identifier with @ as an email address, so such a username could never be used.
  if (username.includes('@')) return { problem: 'username contains @ (sign-in would read it as an email address)' };
  const email = record.email;
  if (email !== null && (email.length > 254 || !EMAIL.test(email))) return { problem: 'email address is not valid' };
  const addressProblem = email === null ? null : emailProblem(email);
  if (addressProblem) return { problem: `email address ${addressProblem}` };
  let passwordHash = record.passwordHash?.trim() ?? '';
  if (passwordHash === '') {
    if (email === null) return { problem: 'no password hash and no email address to reset it with' };
    passwordHash = NO_PASSWORD;
  } else if (passwordScheme(passwordHash) === null) {
    return { problem: 'unrecognised password hash format (Twofold reads Werkzeug pbkdf2/scrypt, bcrypt and argon2)' };
  }
  if (record.mfaWithoutSecret)
    return {
      problem: '2FA is on in the source but it holds no TOTP secret to carry (importing would drop the second factor)',
    };
  let totpSecret: string | null = null;
  if (record.totpSecret !== null) {
    const normalized = normalizeTotpSecret(record.totpSecret);
    if (typeof normalized !== 'string') return normalized;
    totpSecret = normalized;
  }
  // Only the source's own `admin` becomes an administrator: any other role (`superuser`, `owner`,
  // `editor`) is imported as `user`, so a role name Twofold does not know never grants more than
  // the least privilege (OWASP Authorization Cheat Sheet: deny by default, least privilege).
  const sourceRole = record.role?.trim().toLowerCase() || 'user';
  const role = sourceRole === 'admin' ? 'admin' : 'user';
  return {
    ref: record.ref,
    username,
    normalized: normalizeUsername(username),
    email,
    emailNormalized: email === null ? null : canonicalEmail(email),
    passwordHash,
    totpSecret,
    role,
    emailVerified: record.emailVerified && email !== null,
    createdAtMs: toEpochMs(record.createdAt, null),
    emailFactor: record.emailFactor,
    mappedFrom: sourceRole === role ? null : sourceRole,
  };
}

export function prepareProduct(record: SourceProduct): PreparedProduct | Problem {
  const name = typeof record.name === 'string' ? record.name.trim() : '';
  if (name === '' || name.length > 100) return { problem: 'name is empty or longer than 100 characters' };
  const description = typeof record.description === 'string' ? record.description : '';
  if (description.length > 255) return { problem: 'description is longer than 255 characters' };
  const price = record.price;
  const priceCents =
    typeof price === 'string' ? decimalToCents(price) : typeof price === 'number' ? priceToCents(price) : null;
  if (priceCents === null) return { problem: 'price is not an amount from 0 to 99999999.99 with at most two decimals' };
  const quantity =
    typeof record.quantity === 'bigint'
      ? Number(record.quantity)
      : typeof record.quantity === 'string' && /^\d+$/.test(record.quantity)
        ? Number(record.quantity)
        : record.quantity;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0 || quantity > 2_147_483_647)
    return { problem: 'quantity is not a whole number from 0 to 2147483647' };
  return { ref: record.ref, legacyId: record.legacyId, name, description, priceCents, quantity };
}
