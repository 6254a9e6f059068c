import type { FastifyBaseLogger } from 'fastify';
import { createBackgroundTasks } from '../../lib/background-tasks.js';
import type { Clock } from '../../lib/clock.js';
import { randomToken, sha256Hex } from '../../lib/crypto.js';
import { validationError, type AppError } from '../../lib/errors.js';
import type { PasswordHasher } from '../../lib/password-hasher.js';
import type { PasswordWriter } from '../accounts/accounts.repository.js';
import type { AccountsService, User } from '../accounts/accounts.service.js';
import { passwordProblem } from '../accounts/password-policy.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { Mailer } from '../mail/mailer.js';
import type { MailKind, MailQuota } from '../rate-limit/mail-quota.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { EmailChangeService } from './email-change.service.js';
import { emailVerificationMessage, passwordResetMessage } from './recovery.mail.js';
import type { AccountTokenPurpose, RecoveryAccount, RecoveryRepository } from './recovery.repository.js';

// A reset link lives 30 minutes, a verification link a day: short-lived, single-use tokens (OWASP Forgot Password Cheat
// Sheet; the Copenhagen Book, "Email verification").
export const PASSWORD_RESET_TTL_SECONDS = 30 * 60;
export const EMAIL_VERIFY_TTL_SECONDS = 24 * 3600;
// 256-bit tokens (copenhagen, server-side tokens: at least 112 bits).
const TOKEN_BYTES = 32;
const INVALID_TOKEN = 'is invalid or has expired';

export interface RecoveryService {
  /** Mails a reset link if an account has this address; returns at once, so neither answer nor timing tells. */
  requestPasswordReset(email: string): void;
  /**
   * Whether a reset link still works, without spending it: the page asks before the person types a
   * new password twice. Says nothing about the account.
   */
  checkResetLink(token: string): Promise<{ valid: true }>;
  /** Sets a new password with a reset token (single use) and ends every session of the account. */
  resetPassword(token: string, newPassword: string, context: AuditContext): Promise<void>;
  /** Mails a verification link to a new account's address, in the background. */
  sendEmailVerification(account: { id: number; email: string | null }): void;
  /** Like sendEmailVerification, by address; nothing for unknown or already verified addresses. */
  resendEmailVerification(email: string): void;
  /**
   * Uses a verification link: the account's address is marked verified, or, for the link of an email
   * change, the new address becomes the account's (409 `email_taken` if another account took it).
   */
  verifyEmail(token: string, context: AuditContext): Promise<User>;
  /** Resolves once every mail started in the background is sent or has failed, or after `maxWaitMs` (shutdown). */
  settled(maxWaitMs?: number): Promise<void>;
}

export interface RecoveryDeps {
  repository: RecoveryRepository;
  accounts: Pick<AccountsService, 'getUser'>;
  /**
   * Where the new password hash is written: accounts' writer, which deletes the reset links in the
   * same transaction (this module's `deletePasswordResetLinks`, wired in src/services.ts).
   */
  passwords: PasswordWriter;
  hasher: PasswordHasher;
  sessions: Pick<SessionsService, 'logoutAll'>;
  mailer: Mailer;
  /** At most a few account mails per address per hour, whoever asks (mail flooding). */
  mailQuota: MailQuota;
  audit: AuditService;
  clock: Clock;
  /** A verification link may be an email change's (the same page, one kind of link to follow). */
  emailChanges: Pick<EmailChangeService, 'confirm'>;
  /** Base URL for the links in the mails (config.publicUrl, no trailing slash). */
  publicUrl: string;
  /** The service's name in mail subjects and text. */
  issuer: string;
  log: FastifyBaseLogger;
}

const LINK_PATHS: Record<AccountTokenPurpose, string> = {
  password_reset: '/app/reset-password',
  email_verify: '/app/verify-email',
};
/** Each purpose spends its own hourly budget: failed resets do not eat the verification links (mail-quota.ts). */
const MAIL_KINDS: Record<AccountTokenPurpose, MailKind> = {
  password_reset: 'reset_link',
  email_verify: 'verify_link',
};

function invalidToken(): AppError {
  return validationError({ token: INVALID_TOKEN }, 'The link is invalid or has expired; ask for a new one.');
}

export function createRecoveryService(deps: RecoveryDeps): RecoveryService {
  const { repository, clock } = deps;
  const background = createBackgroundTasks(deps.log, 'account mails still being sent were abandoned');
  const inBackground = background.run;
  const nowMs = (): number => clock.now().getTime();

  async function issue(account: { id: number; email: string }, purpose: AccountTokenPurpose): Promise<void> {
    const ttlSeconds = purpose === 'password_reset' ? PASSWORD_RESET_TTL_SECONDS : EMAIL_VERIFY_TTL_SECONDS;
    // Over the address's hourly budget nothing is sent, silently: the answer (202) was already
    // given, and must not tell whether the address has an account. The earlier link still works.
    if (!(await deps.mailQuota.take(account.email, MAIL_KINDS[purpose])).allowed) {
      deps.log.info({ purpose, userId: account.id }, 'account mail not sent: the address had its hourly share');
      return;
    }
    const token = randomToken(TOKEN_BYTES);
    const now = nowMs();
    // Only the SHA-256 is stored: a copy of the table opens no account. Earlier links of this purpose die.
    await repository.replaceToken({
      tokenHash: sha256Hex(token),
      userId: account.id,
      purpose,
      nowMs: now,
      expiresAtMs: now + ttlSeconds * 1000,
    });
    const link = `${deps.publicUrl}${LINK_PATHS[purpose]}?token=${encodeURIComponent(token)}`;
    const message = purpose === 'password_reset' ? passwordResetMessage : emailVerificationMessage;
    await deps.mailer.send(message({ to: account.email, issuer: deps.issuer, link, ttlSeconds }));
  }

  /** The account a live (unused, unexpired) token of `purpose` belongs to; consumes nothing. */
  async function ownerOf(tokenHash: string, purpose: AccountTokenPurpose): Promise<RecoveryAccount> {
    const live = await repository.findLiveToken(tokenHash, purpose, nowMs());
    const account = live && (await repository.findAccountById(live.userId));
    if (!account) throw invalidToken();
    return account;
  }

  /** Guarded UPDATE: of concurrent uses of one token exactly one gets here without an error. */
  async function consume(tokenHash: string, purpose: AccountTokenPurpose): Promise<void> {
    if (!(await repository.consumeToken(tokenHash, purpose, nowMs()))) throw invalidToken();
  }

  return {
    requestPasswordReset(email) {
      inBackground('password reset mail', async () => {
        const account = await repository.findAccountByEmail(email);
        if (account?.email) await issue({ id: account.id, email: account.email }, 'password_reset');
      });
    },

    async checkResetLink(token) {
      await ownerOf(sha256Hex(token), 'password_reset');
      return { valid: true };
    },

    async resetPassword(token, newPassword, context) {
      const tokenHash = sha256Hex(token);
      const account = await ownerOf(tokenHash, 'password_reset');
      // The policy is checked before the token is spent: a refused password does not burn the link.
      const problem = await passwordProblem(newPassword, account);
      if (problem) throw validationError({ new_password: problem });
      // Hashed before the token is spent, so a slow or failing hash cannot burn the link.
      const passwordHash = await deps.hasher.hash(newPassword);
      await consume(tokenHash, 'password_reset');
      await deps.passwords.updatePasswordHash(account.id, passwordHash, nowMs());
      // The link reached this mailbox, which proves the address as well as a verification link would.
      if (!account.emailVerified) await repository.markEmailVerified(account.id, nowMs());
      // Whoever knew the old password may hold sessions: all of them end.
      await deps.sessions.logoutAll(account.id);
      // The owner proved control of the mailbox: every brute-force lock of the account goes, so an
      // attacker who keeps the account locked cannot keep its owner out (OWASP Forgot Password and
      // Authentication cheat sheets: lockouts must not become a denial of service).
      await repository.liftLocks(account.id, nowMs());
      await deps.audit.record({
        ...context,
        type: 'password.reset',
        userId: account.id,
        detail: { email_verified_now: !account.emailVerified },
      });
    },

    sendEmailVerification(account) {
      const email = account.email;
      if (!email) return;
      inBackground('verification mail', async () => issue({ id: account.id, email }, 'email_verify'));
    },

    resendEmailVerification(email) {
      inBackground('verification mail', async () => {
        const account = await repository.findAccountByEmail(email);
        if (account?.email && !account.emailVerified)
          await issue({ id: account.id, email: account.email }, 'email_verify');
      });
    },

    async verifyEmail(token, context) {
      const tokenHash = sha256Hex(token);
      // One page, one kind of link: a token that is no verification link's may be an email change's.
      if (!(await repository.findLiveToken(tokenHash, 'email_verify', nowMs()))) {
        const changed = await deps.emailChanges.confirm(tokenHash, context);
        if (changed) return changed;
        throw invalidToken();
      }
      const account = await ownerOf(tokenHash, 'email_verify');
      await consume(tokenHash, 'email_verify');
      await repository.markEmailVerified(account.id, nowMs());
      await deps.audit.record({ ...context, type: 'email.verified', userId: account.id });
      return deps.accounts.getUser(account.id);
    },

    settled: background.settled,
  };
}
