import type { Clock } from '../../lib/clock.js';
import { constantTimeEqual, hmacHex, randomDigits } from '../../lib/crypto.js';
import { AppError, validationError } from '../../lib/errors.js';
import { codeMessage, type Mailer } from '../mail/mailer.js';
import type { MailQuota } from '../rate-limit/mail-quota.js';
import type { TwoFactorRepository } from './two-factor.repository.js';

export type EmailCodePurpose = 'login' | 'setup' | 'step_up';

// Email codes live 10 minutes and a resend waits 30 seconds (NIST SP 800-63B §5.1.3: out-of-band secrets are
// short-lived and single use; the wait bounds mail flooding).
export const EMAIL_CODE_TTL_SECONDS = 600;
export const EMAIL_RESEND_SECONDS = 30;

/** The account a code is mailed to. */
export interface Account {
  id: number;
  username: string;
  email: string | null;
}

/** What the mail says the code is for. */
const EMAIL_PURPOSE_TEXT: Record<EmailCodePurpose, string> = {
  login: 'to sign in',
  setup: 'to turn on email codes',
  step_up: 'to confirm a security change',
};

export interface EmailCodes {
  send(account: Account, purpose: EmailCodePurpose): Promise<void>;
  verify(userId: number, purpose: EmailCodePurpose, code: string): Promise<boolean>;
}

export interface EmailCodesDeps {
  repository: TwoFactorRepository;
  mailer: Mailer;
  /** At most a few account mails per address per hour (mail flooding). */
  mailQuota: MailQuota;
  clock: Clock;
  /** Keys the hashes of the codes (derived from ENCRYPTION_KEY). */
  codeHashKey: Uint8Array;
  totpIssuer: string;
}

/** Emailed one-time codes: for signing in, for turning email codes on, and for confirming a change. */
export function createEmailCodes(deps: EmailCodesDeps): EmailCodes {
  const { repository, clock } = deps;
  const hashCode = (code: string): string => hmacHex(deps.codeHashKey, code);
  const nowMs = (): number => clock.now().getTime();

  /** One attempt against the newest email code for `purpose`; the attempt is reserved before the compare. */
  async function verify(userId: number, purpose: EmailCodePurpose, code: string): Promise<boolean> {
    const row = await repository.latestEmailCode(userId, purpose);
    if (!row || !(await repository.reserveEmailCodeAttempt(row.id, nowMs()))) return false;
    if (!/^\d{6}$/.test(code) || !constantTimeEqual(row.code_hash, hashCode(code))) return false;
    return repository.consumeEmailCode(row.id, nowMs());
  }

  /** Mails a new code for `purpose` to the account's address, replacing any earlier one. */
  async function send(account: Account, purpose: EmailCodePurpose): Promise<void> {
    if (!account.email) throw validationError({ email: 'add an email address to your account first' });
    const previous = await repository.latestEmailCode(account.id, purpose);
    const waitMs = previous ? previous.created_at + EMAIL_RESEND_SECONDS * 1000 - nowMs() : 0;
    if (waitMs > 0)
      throw new AppError('too_many_attempts', {
        message: 'A code was just sent; wait before asking for another.',
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      });
    // The caller is authenticated (mfa_token or Bearer) and knows the address is theirs, so a
    // refusal can say so plainly: 429 with Retry-After, unlike the anonymous recovery routes.
    const quota = await deps.mailQuota.take(account.email, purpose === 'login' ? 'code' : 'session_code');
    if (!quota.allowed) {
      throw new AppError('too_many_attempts', {
        message: 'Too many codes were mailed to this address in the last hour; use another method or try later.',
        retryAfterSeconds: quota.retryAfterSeconds,
      });
    }
    const code = randomDigits(6);
    const now = nowMs();
    // The gap is checked again where the code is written: of parallel requests only one mails a code.
    if (
      !(await repository.replaceEmailCode(
        account.id,
        purpose,
        hashCode(code),
        now,
        now + EMAIL_CODE_TTL_SECONDS * 1000,
        now - EMAIL_RESEND_SECONDS * 1000,
      ))
    ) {
      throw new AppError('too_many_attempts', {
        message: 'A code was just sent; wait before asking for another.',
        retryAfterSeconds: EMAIL_RESEND_SECONDS,
      });
    }
    await deps.mailer.send(
      codeMessage({
        to: account.email,
        code,
        purpose: EMAIL_PURPOSE_TEXT[purpose],
        expiresInMinutes: EMAIL_CODE_TTL_SECONDS / 60,
        issuer: deps.totpIssuer,
      }),
    );
  }

  return { send, verify };
}
