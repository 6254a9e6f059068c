import type { FastifyBaseLogger } from 'fastify';
import { createBackgroundTasks } from '../../lib/background-tasks.js';
import type { Clock } from '../../lib/clock.js';
import { constantTimeEqual, hmacHex, randomDigits, randomToken } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import type { AccountsRepository } from '../accounts/accounts.repository.js';
import { emailLookupKey } from '../accounts/email-address.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { Mailer } from '../mail/mailer.js';
import type { MailQuota } from '../rate-limit/mail-quota.js';
import { emailProofMessage } from './email-proof.mail.js';
import type { EmailProofRepository } from './email-proof.repository.js';

// 6 digits, 10 minutes, single use, 5 tries (NIST SP 800-63B §5.1.3.2: an out-of-band secret is
// short-lived and used once; §5.2.2 rate limiting: 5 tries leave a guesser a 5-in-a-million chance).
export const EMAIL_PROOF_TTL_SECONDS = 600;
const CODE_DIGITS = 6;

export interface EmailProofService {
  /**
   * Mails a code to `email` if it may receive one (an account's address; any address with
   * EMAIL_CODES_FOR_ANYONE), in the background: the caller answers 202 at once, whatever happens.
   */
  request(email: string, context: AuditContext): void;
  /** Spends the address's code; 401 `invalid_mfa_code` for every kind of failure alike. */
  verify(email: string, code: string, context: AuditContext): Promise<void>;
  /** Resolves once every mail started in the background is sent or has failed (shutdown). */
  settled(maxWaitMs?: number): Promise<void>;
}

export interface EmailProofDeps {
  repository: EmailProofRepository;
  /** Accounts by address, and the "address verified" mark, through the repository that owns them. */
  accounts: Pick<AccountsRepository, 'findContactByEmail' | 'markEmailVerified'>;
  mailer: Mailer;
  mailQuota: MailQuota;
  audit: AuditService;
  clock: Clock;
  /** Keys the address and code hashes (derived from ENCRYPTION_KEY). */
  hashKey: Uint8Array;
  issuer: string;
  /** EMAIL_CODES_FOR_ANYONE: mail any well-formed address, not only those of accounts. */
  forAnyone: boolean;
  log: FastifyBaseLogger;
}

type FailureReason = 'no_code' | 'expired_or_out_of_tries' | 'wrong_code' | 'already_used';

export function createEmailProofService(deps: EmailProofDeps): EmailProofService {
  const { repository, clock } = deps;
  const background = createBackgroundTasks(deps.log, 'email codes still being sent were abandoned');
  const nowMs = (): number => clock.now().getTime();
  // Keyed hashes, domain-separated: the address by its lookup key (or, for a look-alike spelling
  // that names no address, by what was typed), the code bound to its address.
  const addressKeyOf = (email: string): string => hmacHex(deps.hashKey, `address:${emailLookupKey(email) ?? email}`);
  const codeHashOf = (addressKey: string, code: string): string => hmacHex(deps.hashKey, `code:${addressKey}:${code}`);
  // Lets an administrator match the events of one address in the audit log without it holding the address.
  const addressRef = (addressKey: string): string => addressKey.slice(0, 16);

  async function issue(email: string, context: AuditContext): Promise<void> {
    const addressKey = addressKeyOf(email);
    const lookupKey = emailLookupKey(email);
    const account = lookupKey === null ? undefined : await deps.accounts.findContactByEmail(email);
    const to = account?.email ?? (deps.forAnyone && lookupKey !== null ? email.trim() : null);
    const userId = account?.id ?? null;
    const detail = { address_ref: addressRef(addressKey), account: account !== undefined };
    // The same steps whether or not the address may receive a code (quota, a stored code), so that
    // a later POST /verify takes the same path and time for it too: an address that gets no mail
    // gets a code that matches nothing. Only the mail differs, and it shows in the mailbox and the
    // audit log, never in an answer.
    if (!(await deps.mailQuota.take(to ?? email, 'proof_code')).allowed) {
      deps.log.info({ userId }, 'email code not sent: the address had its hourly share');
      await deps.audit.record({
        ...context,
        type: 'email_proof.not_sent',
        userId,
        detail: { ...detail, reason: 'mail_quota' },
      });
      return;
    }
    const code = to === null ? `unmailed:${randomToken(16)}` : randomDigits(CODE_DIGITS);
    const now = nowMs();
    // Only a keyed hash is stored; the address's earlier code dies here (the newest code is the one that works).
    await repository.replace({
      addressKey,
      codeHash: codeHashOf(addressKey, code),
      nowMs: now,
      expiresAtMs: now + EMAIL_PROOF_TTL_SECONDS * 1000,
    });
    if (to === null) {
      await deps.audit.record({
        ...context,
        type: 'email_proof.not_sent',
        userId,
        detail: { ...detail, reason: 'no_account' },
      });
      return;
    }
    await deps.mailer.send(
      emailProofMessage({ to, code, issuer: deps.issuer, expiresInMinutes: EMAIL_PROOF_TTL_SECONDS / 60 }),
    );
    await deps.audit.record({ ...context, type: 'email_proof.issued', userId, detail });
  }

  /** Why the code does not prove the address, or null once it has been spent by this caller. */
  async function spend(addressKey: string, code: string): Promise<FailureReason | null> {
    const offered = codeHashOf(addressKey, code);
    const stored = await repository.findCodeHash(addressKey);
    if (stored === undefined) return 'no_code';
    // The try is counted before the compare, so parallel guesses cannot exceed the budget.
    if (!(await repository.reserveAttempt(addressKey, stored, nowMs()))) return 'expired_or_out_of_tries';
    if (!/^\d{6}$/.test(code) || !constantTimeEqual(stored, offered)) return 'wrong_code';
    // Guarded DELETE: of two requests with the right code, exactly one removes the row.
    return (await repository.consume(addressKey, stored, nowMs())) ? null : 'already_used';
  }

  return {
    request(email, context) {
      background.run('email code', () => issue(email, context));
    },

    async verify(email, code, context) {
      const addressKey = addressKeyOf(email);
      const failure = await spend(addressKey, code.trim());
      if (failure !== null) {
        await deps.audit.record({
          ...context,
          type: 'email_proof.failed',
          userId: null,
          detail: { address_ref: addressRef(addressKey), reason: failure },
        });
        throw new AppError('invalid_mfa_code');
      }
      // An emailed code proves the address as well as a verification link does.
      const lookupKey = emailLookupKey(email);
      const account = lookupKey === null ? undefined : await deps.accounts.findContactByEmail(email);
      const verifiedNow = account !== undefined && !account.emailVerified;
      if (account && verifiedNow && lookupKey !== null)
        await deps.accounts.markEmailVerified(account.id, nowMs(), lookupKey);
      await deps.audit.record({
        ...context,
        type: 'email_proof.verified',
        userId: account?.id ?? null,
        detail: {
          address_ref: addressRef(addressKey),
          account: account !== undefined,
          email_verified_now: verifiedNow,
        },
      });
    },

    settled: background.settled,
  };
}
