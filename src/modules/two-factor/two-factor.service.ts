import type { Clock } from '../../lib/clock.js';
import { hmacHex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { LockoutClient, LockoutService } from '../lockout/lockout.service.js';
import { type Mailer } from '../mail/mailer.js';
import type { MailQuota } from '../rate-limit/mail-quota.js';
import { createEmailCodes, EMAIL_CODE_TTL_SECONDS, type Account, type EmailCodePurpose } from './email-codes.js';
import { createLoginChallenges, type LoginChallenges } from './login-challenges.js';
import { createSetupGrants, type SetupGrants } from './setup-grants.js';
import { BACKUP_CODE_COUNT, generateBackupCode, looksLikeBackupCode, normalizeBackupCode } from './backup-codes.js';
import { createTotpAuthenticators, type TotpAuthenticators } from './totp-authenticators.js';
import type { TwoFactorRepository } from './two-factor.repository.js';

export type SecondFactor = 'totp' | 'email' | 'backup_code';
import type { FactorMethod } from './require-2fa.js';
export type { FactorMethod } from './require-2fa.js';
export type { LoginChallenge } from './login-challenges.js';
export { EMAIL_CODE_TTL_SECONDS, EMAIL_RESEND_SECONDS } from './email-codes.js';
export type { Account, EmailCodePurpose } from './email-codes.js';
export type { AuthenticatorItem } from './totp-authenticators.js';
export { totpSecretAad } from './totp-authenticators.js';

export interface TwoFactorStatus {
  totp_enabled: boolean;
  email_enabled: boolean;
  backup_codes_remaining: number;
  /** How many authenticator apps are confirmed. */
  totp_count: number;
}

export interface TwoFactorDeps {
  repository: TwoFactorRepository;
  mailer: Mailer;
  /** At most a few account mails per address per hour (mail flooding). */
  mailQuota: MailQuota;
  audit: AuditService;
  clock: Clock;
  encryptionKey: Buffer;
  /** Keys the hashes of email and backup codes (derived from ENCRYPTION_KEY). */
  codeHashKey: Uint8Array;
  totpIssuer: string;
  /**
   * The account behind a user id, and its password for confirming a change (declared narrowly: accounts reads our
   * factors).
   */
  accounts: Pick<AccountsService, 'findById' | 'verifyPassword'>;
  /** Passwords and codes checked outside login spend the account's lockout budget. */
  lockout: Pick<LockoutService, 'guard'>;
}

/** What `2fa/disable` leaves: the code factors are off; a passkey may still be a second factor. */
export interface DisableResult {
  enabled: false;
  mfa_enabled: boolean;
  mfa_methods: FactorMethod[];
}

/** What removing one authenticator app leaves: `enabled` for the code factors, the rest as `DisableResult`. */
export interface RemovedAuthenticator {
  enabled: boolean;
  mfa_enabled: boolean;
  mfa_methods: FactorMethod[];
}

/** A factor whose proof is a code (and which `2fa/disable` turns off): not a passkey. */
const isCodeFactor = (method: FactorMethod): boolean => method !== 'passkey';

/** `mfa_not_enabled` for a disable with no code factor on; it names the passkeys when they are the factor. */
function notEnabled(methods: readonly FactorMethod[]): AppError {
  if (!methods.includes('passkey')) return new AppError('mfa_not_enabled');
  return new AppError('mfa_not_enabled', {
    message:
      'No authenticator app or email codes are on: your passkeys are your second factor; remove them one by one.',
  });
}

/** Who asks for a change: the audit trail's context and the cookies that may hold a device cookie. */
export type FactorClient = AuditContext & LockoutClient;

export interface VerifyOptions {
  /** Which factor the code is for; without one, whichever the code's shape fits. */
  method?: SecondFactor | undefined;
  /** Which email code counts (default `login`). */
  purpose?: EmailCodePurpose;
  /** The user's enabled factors, when the caller has read them already. */
  methods?: FactorMethod[];
}

/** The user's second factors, their setup and removal, and the login challenges that wait for one. */
export interface TwoFactorService extends LoginChallenges, SetupGrants, TotpAuthenticators {
  methodsOf(userId: number): Promise<FactorMethod[]>;
  /** As the authenticator apps' own, and says which second factors are left (a passkey may be). */
  removeAuthenticator(userId: number, id: number, context: AuditContext): Promise<RemovedAuthenticator>;
  status(userId: number): Promise<TwoFactorStatus>;
  /** Which factor accepted the code (consuming it), or null. */
  verifyCode(userId: number, code: string, options?: VerifyOptions): Promise<SecondFactor | null>;
  sendEmailCode(account: Account, purpose: EmailCodePurpose): Promise<void>;
  startEmailSetup(userId: number): Promise<{ sent: true; expires_in: number }>;
  verifyEmailSetup(
    userId: number,
    code: string,
    context: AuditContext,
  ): Promise<{ enabled: true; backup_codes?: string[] }>;
  /** New backup codes (the old ones die), confirmed with the password. */
  regenerateBackupCodes(userId: number, password: string, client: FactorClient): Promise<string[]>;
  /**
   * Turns the code factors off (authenticator apps, email codes, backup codes), confirmed with the
   * password and a code (a step-up email code counts); passkeys stay. `mfa_enabled` and
   * `mfa_methods` say what second factor is left.
   */
  disable(userId: number, input: { password: string; code: string }, client: FactorClient): Promise<DisableResult>;
}

/** The second factors a user has turned on (a pending TOTP setup does not count). */
export async function enabledMethods(repository: TwoFactorRepository, userId: number): Promise<FactorMethod[]> {
  return methodsOfFactors(await repository.enabledFactors(userId));
}

/** The `mfa_methods` of a user, in the contract's order, from which factors are on. */
export function methodsOfFactors({
  totp,
  email,
  passkey,
}: {
  totp: boolean;
  email: boolean;
  passkey: boolean;
}): FactorMethod[] {
  const methods: FactorMethod[] = [];
  if (totp) methods.push('totp');
  if (email) methods.push('email');
  if (passkey) methods.push('passkey');
  return methods;
}

export function createTwoFactorService(deps: TwoFactorDeps): TwoFactorService {
  const { repository, clock } = deps;
  const hashCode = (code: string): string => hmacHex(deps.codeHashKey, code);
  const nowMs = (): number => clock.now().getTime();
  const who = (client: AuditContext): AuditContext => ({ ip: client.ip ?? null, userAgent: client.userAgent ?? null });

  async function accountOf(userId: number): Promise<Account> {
    const row = await deps.accounts.findById(userId);
    // The account behind a still-valid token is gone: treat the token as no longer valid.
    if (!row) throw new AppError('unauthorized');
    return { id: row.id, username: row.username, email: row.email };
  }

  async function issueBackupCodes(userId: number): Promise<string[]> {
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, generateBackupCode);
    await repository.replaceBackupCodes(
      userId,
      codes.map((c) => hashCode(normalizeBackupCode(c))),
      nowMs(),
    );
    return codes;
  }

  const emailCodes = createEmailCodes(deps);
  const sendEmailCode = emailCodes.send;
  const verifyEmailCode = emailCodes.verify;

  const methodsOf = (userId: number): Promise<FactorMethod[]> => enabledMethods(repository, userId);

  const authenticators = createTotpAuthenticators({ ...deps, accountOf, issueBackupCodes });
  const { verifyTOTP } = authenticators;

  async function verifyBackupCode(userId: number, code: string): Promise<boolean> {
    if (!looksLikeBackupCode(code)) return false;
    // The lookup is by keyed hash, so the database compares digests, never the code itself.
    return repository.consumeBackupCode(userId, hashCode(normalizeBackupCode(code)), nowMs());
  }

  /** Verifies a second-factor code of the given method (or, without one, whichever the code's shape fits). */
  async function verifyCode(
    userId: number,
    code: string,
    { method, purpose: emailPurpose = 'login', methods }: VerifyOptions = {},
  ): Promise<SecondFactor | null> {
    const trimmed = code.trim();
    if (
      method === 'totp' ||
      (method === undefined && /^\d{6}$/.test(trimmed) && (methods ?? (await methodsOf(userId))).includes('totp'))
    ) {
      if (await verifyTOTP(userId, trimmed)) return 'totp';
      if (method === 'totp') return null;
    }
    if (method === 'email' || (method === undefined && /^\d{6}$/.test(trimmed))) {
      return (await verifyEmailCode(userId, emailPurpose, trimmed)) ? 'email' : null;
    }
    if (method === 'backup_code' || method === undefined)
      return (await verifyBackupCode(userId, trimmed)) ? 'backup_code' : null;
    return null;
  }

  return {
    ...createLoginChallenges(repository, clock),
    ...createSetupGrants(repository, clock, deps.codeHashKey),
    ...authenticators,
    methodsOf,
    sendEmailCode,
    verifyCode,

    async removeAuthenticator(userId, id, context) {
      const { enabled } = await authenticators.removeAuthenticator(userId, id, context);
      // Read after the removal, as `disable` does: what is left is what the answer says.
      const left = await methodsOf(userId);
      return { enabled, mfa_enabled: left.length > 0, mfa_methods: left };
    },

    async status(userId: number): Promise<TwoFactorStatus> {
      const [methods, remaining, totps] = await Promise.all([
        methodsOf(userId),
        repository.countBackupCodes(userId),
        repository.confirmedTotps(userId),
      ]);
      return {
        totp_enabled: methods.includes('totp'),
        email_enabled: methods.includes('email'),
        backup_codes_remaining: remaining,
        totp_count: totps.length,
      };
    },

    async startEmailSetup(userId: number): Promise<{ sent: true; expires_in: number }> {
      const account = await accountOf(userId);
      if (await repository.isEmailEnabled(account.id)) throw new AppError('mfa_already_enabled');
      await sendEmailCode(account, 'setup');
      return { sent: true, expires_in: EMAIL_CODE_TTL_SECONDS };
    },

    async verifyEmailSetup(
      userId: number,
      code: string,
      context: AuditContext,
    ): Promise<{ enabled: true; backup_codes?: string[] }> {
      if (await repository.isEmailEnabled(userId)) throw new AppError('mfa_already_enabled');
      if (!(await verifyEmailCode(userId, 'setup', code.trim()))) throw new AppError('invalid_mfa_code');
      await repository.enableEmail(userId, nowMs());
      await deps.audit.record({ ...context, type: 'mfa.email_enabled', userId });
      if ((await repository.countBackupCodes(userId)) > 0) return { enabled: true };
      return { enabled: true, backup_codes: await issueBackupCodes(userId) };
    },

    async regenerateBackupCodes(userId: number, password: string, client: FactorClient): Promise<string[]> {
      await deps.lockout.guard(userId, client, () => deps.accounts.verifyPassword(userId, password));
      if ((await methodsOf(userId)).length === 0) throw new AppError('mfa_not_enabled');
      const codes = await issueBackupCodes(userId);
      await deps.audit.record({ ...who(client), type: 'mfa.backup_codes_regenerated', userId });
      return codes;
    },

    async disable(userId, { password, code }, client) {
      // Password and code are guesses like any other: they spend the account's lockout budget.
      const used = await deps.lockout.guard(userId, client, async () => {
        await deps.accounts.verifyPassword(userId, password);
        const methods = await methodsOf(userId);
        // Turning off means the code factors (apps, email codes, backup codes): passkeys are managed
        // one by one, each a credential of its own, and stay. Without a code factor there is nothing
        // to turn off, and no code to confirm with.
        if (!methods.some(isCodeFactor)) throw notEnabled(methods);
        const factor = await verifyCode(userId, code, { purpose: 'step_up', methods });
        if (factor === null) {
          await deps.audit.record({ ...who(client), type: 'mfa.failed', userId, detail: { during: 'disable' } });
          throw new AppError('invalid_mfa_code');
        }
        return factor;
      });
      await repository.removeAll(userId);
      // Read after the removal: what is left is what the answer and the audit line say.
      const left = await methodsOf(userId);
      await deps.audit.record({
        ...who(client),
        type: 'mfa.disabled',
        userId,
        detail: { confirmed_with: used, ...(left.includes('passkey') ? { passkeys_kept: 'true' } : {}) },
      });
      return { enabled: false, mfa_enabled: left.length > 0, mfa_methods: left };
    },
  };
}
