import bcrypt from 'bcryptjs';
import { expect } from 'vitest';
import type { ImportSource, SourceProduct, SourceRecord, SourceUser } from './import-source.js';
import type { ExistingUser } from '../accounts/imported-users.repository.js';
import {
  planUsers,
  screenUsers,
  type ConflictPolicy,
  type Seen,
  type UserAction,
  type UserState,
} from './import.plan.js';

/**
 * Records and Twofold's state for the importer's tests (import.*.test.ts): written as the
 * importer's reads would return them. No database, no clock, no keys.
 */

/** A real bcrypt hash (cost 4), as the original apps stored them. */
export const BCRYPT = bcrypt.hashSync('a legacy password', 4);
export const OTHER_BCRYPT = `$2b$04$${'b'.repeat(53)}`;
export const PBKDF2 = 'pbkdf2:sha256:600000$salt$' + 'ab'.repeat(32);
export const SCRYPT = 'scrypt:32768:8:1$salt$' + 'cd'.repeat(64);
export const ARGON2ID = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
export const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const OTHER_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';
export const IMPORTED_AT = 1_700_000_000_000;

export function user(username: string, extra: Partial<SourceUser> = {}): SourceUser {
  return {
    ref: `user ${username}`,
    username,
    email: null,
    passwordHash: BCRYPT,
    totpSecret: null,
    role: null,
    emailVerified: false,
    createdAt: null,
    emailFactor: false,
    mfaWithoutSecret: false,
    ...extra,
  };
}

export function account(id: number, username: string, extra: Partial<ExistingUser> = {}): ExistingUser {
  return {
    id,
    username_normalized: username.toLowerCase(),
    email: null,
    email_normalized: null,
    email_verified: 0,
    password_hash: BCRYPT,
    role: 'user',
    imported_at: null,
    ...extra,
  };
}

export const NOTHING_SEEN: Seen = { usernames: new Set(), emails: new Set() };

export function state(accounts: ExistingUser[], extra: Partial<Omit<UserState, 'accounts'>> = {}): UserState {
  const emailOwners = new Map(
    accounts.flatMap((a) => (a.email_normalized === null ? [] : [[a.email_normalized, a.id] as const])),
  );
  return {
    accounts: new Map(accounts.map((a) => [a.username_normalized, a])),
    emailOwners,
    totp: new Map(),
    emailFactor: new Set(),
    ...extra,
  };
}

/** Screen then plan, as the importer does for one batch. */
export function plan(
  records: Array<SourceRecord<SourceUser>>,
  twofold: UserState = state([]),
  onConflict: ConflictPolicy = 'skip',
  seen: Seen = NOTHING_SEEN,
): UserAction[] {
  return planUsers(screenUsers(records, seen), twofold, onConflict);
}

export function summary(actions: UserAction[]): string[] {
  return actions.map((a) => (a.kind === 'skip' ? `skip ${a.example}: ${a.reason}` : `${a.kind} ${a.user.username}`));
}

export function only(actions: UserAction[]): UserAction {
  expect(actions).toHaveLength(1);
  return actions[0] as UserAction;
}

export function product(id: number, price: unknown, extra: Partial<SourceProduct> = {}): SourceProduct {
  return {
    ref: `product id ${id}`,
    legacyId: `product:${id}`,
    name: `Product ${id}`,
    description: null,
    price,
    quantity: 1,
    ...extra,
  };
}

/** An in-memory source: the importer reads it in batches exactly as it reads a database or a file. */
export function source(
  users: Array<SourceRecord<SourceUser>>,
  products: Array<SourceRecord<SourceProduct>> = [],
): ImportSource {
  async function* batches<T>(items: T[], size: number): AsyncIterable<T[]> {
    for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
  }
  return {
    kind: 'test',
    display: 'memory',
    notes: [],
    users: (size) => batches(users, size),
    products: (size) => batches(products, size),
    close: async () => undefined,
  };
}
