import { uniqueViolation } from '../../db/errors.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { PasswordHasher } from '../../lib/password-hasher.js';
import type { ClientInfo } from '../../http/client-info.js';
import type { AuditService } from '../audit/audit.service.js';
import type { AccountsRepository, PasswordWriter, PRESENTED_USER_COLUMNS, UserRow } from './accounts.repository.js';
import { emailProblem } from './email-address.js';
import { passwordProblem } from './password-policy.js';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The public shape of an account (the HTTP contract, `user`). */
export interface User {
  id: number;
  username: string;
  email: string | null;
  role: string;
  email_verified: boolean;
  mfa_enabled: boolean;
  mfa_methods: string[];
  created_at: string;
}

/** The account as its owner's data export shows it: `user` and the last sign-in. */
export interface AccountProfile extends User {
  last_login_at: string | null;
}

export interface Registration {
  username: string;
  password: string;
  email?: string | undefined;
}

/**
 * The outcome of a password check at sign-in. Why it failed is for the audit trail only: clients
 * always see `invalid_credentials` (or, for `email_unverified`, the 403 of REQUIRE_EMAIL).
 */
export type PasswordCheck =
  | { ok: true; user: UserRow }
  | { ok: false; reason: 'unknown_user'; userId: null }
  | { ok: false; reason: 'wrong_password' | 'email_unverified'; userId: number };

/** Who asks for a change: for the audit trail, and the cookies that may hold a device cookie (the lockout module's). */
export type ChangeClient = ClientInfo & { cookies?: Readonly<Record<string, string | undefined>> | undefined };

export interface AccountsService {
  register(input: Registration): Promise<User>;
  /**
   * Checks the password of the account a login names, as `findByUsername` found it (undefined: none),
   * so a sign-in reads the row once. Unknown users and wrong passwords fail alike, in the same time.
   */
  authenticate(account: UserRow | undefined, password: string): Promise<PasswordCheck>;
  /** With `mfaMethods` already read by the caller, the second factors are not read again. */
  getUser(id: number, mfaMethods?: string[]): Promise<User>;
  /** The signed-in person's own account, for their data export. */
  profile(id: number): Promise<AccountProfile>;
  /** `presentUser` of the row, with the user's second factors read unless given. */
  presentUser(row: UserRow, mfaMethods?: string[]): Promise<User>;
  /** Throws `invalid_credentials` unless `password` is the user's current password; else the account's row. */
  verifyPassword(userId: number, password: string): Promise<UserRow>;
  findByUsername(username: string): Promise<UserRow | undefined>;
  findById(id: number): Promise<UserRow | undefined>;
  /**
   * A signed-in person changes their password: the current one is a guess under the lockout budget,
   * the new one must pass the policy, every other session ends, and the trail records it.
   */
  changePassword(
    principal: { userId: number; sessionId: number },
    input: { current_password: string; new_password: string },
    client: ChangeClient,
  ): Promise<void>;
  setRole(userId: number, role: Role): Promise<User>;
}

export interface AccountsDeps {
  repository: AccountsRepository;
  /** Where a new password is written, with what recovery does in its transaction (src/services.ts). */
  passwords: PasswordWriter;
  hasher: PasswordHasher;
  clock: Clock;
  requireEmail: boolean;
  /** The user's enabled second factors (`totp`, `email`), for the `user` shape. */
  mfaMethodsOf?(userId: number): Promise<string[]>;
  audit: AuditService;
  /*
   * Accounts sits below lockout and sessions (docs/architecture.md, "Module dependencies"): what a
   * password change needs of them comes in as these narrow functions, wired in src/services.ts.
   */
  /** Runs the check of the current password under the account's lockout budget (the lockout module's guard). */
  guardPasswordCheck<T>(userId: number, client: ChangeClient, check: () => Promise<T>): Promise<T>;
  /** Ends every session of the user but the one given (the sessions module). */
  endOtherSessions(userId: number, keepSessionId: number): Promise<void>;
}

/** REQUIRE_EMAIL's refusal of a right password for an address not yet proven. */
export function emailUnverifiedError(): AppError {
  return new AppError('forbidden', {
    message: 'Verify your email address before signing in; check your inbox or ask for a new link.',
  });
}

/**
 * The one place that shapes the HTTP contract's `user` from an account's row (administration's view
 * adds to it). Its columns are PRESENTED_USER_COLUMNS, which a query of another module joins with
 * accounts.repository's joinUserColumns.
 */
export function presentUser(
  row: Pick<UserRow, 'id' | (typeof PRESENTED_USER_COLUMNS)[number]>,
  mfaMethods: string[] = [],
): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role,
    email_verified: Boolean(row.email_verified),
    mfa_enabled: mfaMethods.length > 0,
    mfa_methods: mfaMethods,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function createAccountsService(deps: AccountsDeps): AccountsService {
  const { repository, hasher, clock } = deps;

  async function present(row: UserRow, mfaMethods?: string[]): Promise<User> {
    return presentUser(row, mfaMethods ?? (await deps.mfaMethodsOf?.(row.id)) ?? []);
  }

  /**
   * Checks a password against the stored hash. An imported hash (Werkzeug, bcrypt) or argon2 with
   * older parameters is replaced by argon2id at the configured parameters once the password is known
   * to be right; the compare-and-set update means a concurrent password change is never overwritten.
   */
  async function passwordMatches(row: UserRow, password: string): Promise<boolean> {
    if (!(await hasher.verify(row.password_hash, password))) return false;
    if (hasher.needsRehash(row.password_hash)) {
      await repository.replacePasswordHash(
        row.id,
        row.password_hash,
        await hasher.hash(password),
        clock.now().getTime(),
      );
    }
    return true;
  }

  async function loadRow(id: number): Promise<UserRow> {
    const row = await repository.findById(id);
    // The account behind a still-valid token is gone: treat the token as no longer valid.
    if (!row) throw new AppError('unauthorized');
    return row;
  }

  return {
    async register(input) {
      const email = input.email?.trim() || undefined;
      if (deps.requireEmail && !email) throw validationError({ email: 'is required' });
      const addressProblem = email ? emailProblem(email) : null;
      if (addressProblem) throw validationError({ email: addressProblem });
      const problem = await passwordProblem(input.password, { username: input.username, email });
      if (problem) throw validationError({ password: problem });
      const passwordHash = await hasher.hash(input.password);
      try {
        const id = await repository.insert({
          username: input.username,
          email: email ?? null,
          passwordHash,
          // Self-registration never chooses a role (OWASP Mass Assignment Cheat Sheet): only an
          // administrator changes it afterwards (PATCH /api/admin/users/:id, `user set-role`).
          role: 'user' satisfies Role,
          emailVerified: false,
          nowMs: clock.now().getTime(),
        });
        return await present(await loadRow(id));
      } catch (error) {
        const violated = uniqueViolation(error);
        if (violated === null) throw error;
        // The unique index decides the race: exactly one of many concurrent registrations wins.
        throw new AppError(/email/i.test(violated) ? 'email_taken' : 'username_taken');
      }
    },

    async authenticate(row, password) {
      if (!row) {
        // A hash is verified either way, so an unknown name answers in the time a known one does
        // (OWASP Authentication Cheat Sheet, account enumeration).
        await hasher.verifyDummy(password);
        return { ok: false, reason: 'unknown_user', userId: null };
      }
      if (!(await passwordMatches(row, password))) return { ok: false, reason: 'wrong_password', userId: row.id };
      // REQUIRE_EMAIL: checked only after the password, so it reveals nothing to someone without it.
      if (deps.requireEmail && !row.email_verified) return { ok: false, reason: 'email_unverified', userId: row.id };
      return { ok: true, user: row };
    },

    getUser: async (id, mfaMethods) => present(await loadRow(id), mfaMethods),
    async profile(id) {
      const row = await loadRow(id);
      const lastLogin = row.last_login_at === null ? null : new Date(row.last_login_at).toISOString();
      return { ...(await present(row)), last_login_at: lastLogin };
    },
    presentUser: present,

    async verifyPassword(userId, password) {
      const row = await loadRow(userId);
      if (!(await passwordMatches(row, password)))
        throw new AppError('invalid_credentials', { message: 'The password is incorrect.' });
      return row;
    },

    findByUsername: (username) => repository.findByLogin(username),
    findById: (id) => repository.findById(id),

    async changePassword({ userId, sessionId }, input, client) {
      await deps.guardPasswordCheck(userId, client, async () => {
        const row = await loadRow(userId);
        if (!(await hasher.verify(row.password_hash, input.current_password))) {
          throw new AppError('invalid_credentials', { message: 'The current password is incorrect.' });
        }
        const problem = await passwordProblem(input.new_password, row);
        if (problem) throw validationError({ new_password: problem });
        await deps.passwords.updatePasswordHash(userId, await hasher.hash(input.new_password), clock.now().getTime());
      });
      // A changed password ends every other session: a thief holding one is signed out.
      await deps.endOtherSessions(userId, sessionId);
      await deps.audit.record({ ip: client.ip, userAgent: client.userAgent, type: 'password.changed', userId });
    },

    async setRole(userId, role) {
      await loadRow(userId);
      await repository.updateRole(userId, role, clock.now().getTime());
      return present(await loadRow(userId));
    },
  };
}
