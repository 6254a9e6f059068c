import type { FastifyBaseLogger } from 'fastify';
import { createBackgroundTasks } from '../../lib/background-tasks.js';
import type { Clock } from '../../lib/clock.js';
import { hmacHex, randomToken, sha256Hex } from '../../lib/crypto.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { AccountContact } from '../accounts/accounts.repository.js';
import type { AccountsService, User } from '../accounts/accounts.service.js';
import { canonicalEmail, emailLookupKey, emailProblem } from '../accounts/email-address.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { Mailer } from '../mail/mailer.js';
import type { MailQuota } from '../rate-limit/mail-quota.js';
import type { EmailChangeRepository } from './email-change.repository.js';
import { emailChangeMessage, emailChangeNotice } from './recovery.mail.js';

// The link to the new address lives as long as a verification link (recovery.service's
// EMAIL_VERIFY_TTL_SECONDS): it is one, for an address the account does not have yet.
export const EMAIL_CHANGE_TTL_SECONDS = 24 * 3600;
// 256-bit tokens, like the reset and verification links (the Copenhagen Book: at least 112 bits).
const TOKEN_BYTES = 32;

export interface EmailChangeAnswer {
  pending_email: string;
  expires_in: number;
}

export interface PendingEmail {
  pending_email: string | null;
  expires_in: number | null;
}

export interface EmailChangeService {
  /**
   * A signed-in person (recently authenticated: the route's guard) asks to add or change their
   * address: a link goes to the new address, a notice to the old one, and `users.email` stays as it
   * is until the link is used. 409 `email_taken` when another account has the address (registration
   * already says so), 400 for the current address, 429 over the new address's hourly mail budget.
   */
  request(userId: number, email: string, context: AuditContext): Promise<EmailChangeAnswer>;
  /** The user's change waiting for its link, if any. */
  pending(userId: number): Promise<PendingEmail>;
  /**
   * Uses a change link (by its token's hash): the address becomes the account's, verified. Undefined
   * when the token is no pending change's; 409 `email_taken` when another account took the address.
   */
  confirm(tokenHash: string, context: AuditContext): Promise<User | undefined>;
  /** Resolves once every mail started in the background is sent or has failed (shutdown). */
  settled(maxWaitMs?: number): Promise<void>;
}

export interface EmailChangeDeps {
  repository: EmailChangeRepository;
  /** The account's contact (by id, by address) through accounts, which owns the users table. */
  contacts: {
    findContactById(id: number): Promise<AccountContact | undefined>;
    findContactByEmail(email: string): Promise<AccountContact | undefined>;
  };
  accounts: Pick<AccountsService, 'getUser'>;
  mailer: Mailer;
  mailQuota: MailQuota;
  audit: AuditService;
  clock: Clock;
  /** Keys the audit trail's reference to an address (derived from ENCRYPTION_KEY). */
  refKey: Uint8Array;
  publicUrl: string;
  issuer: string;
  log: FastifyBaseLogger;
}

export function createEmailChangeService(deps: EmailChangeDeps): EmailChangeService {
  const { repository, clock } = deps;
  const background = createBackgroundTasks(deps.log, 'email change mails still being sent were abandoned');
  const nowMs = (): number => clock.now().getTime();
  // The audit trail keeps no address (personal data), only a keyed reference an administrator can
  // match between events of one address.
  const addressRef = (email: string): string => hmacHex(deps.refKey, `address:${canonicalEmail(email)}`).slice(0, 16);

  async function accountOf(userId: number): Promise<AccountContact> {
    const account = await deps.contacts.findContactById(userId);
    if (!account) throw new AppError('unauthorized');
    return account;
  }

  return {
    async request(userId, input, context) {
      const email = input.trim();
      const problem = emailProblem(email);
      if (problem) throw validationError({ email: problem });
      const account = await accountOf(userId);
      if (account.email !== null && canonicalEmail(account.email) === canonicalEmail(email))
        throw validationError({ email: 'is already the address of your account' });
      // Registration already answers 409 for a taken address, so saying it here reveals nothing new
      // (and this route needs a recent sign-in besides).
      const holder = emailLookupKey(email) === null ? undefined : await deps.contacts.findContactByEmail(email);
      if (holder && holder.id !== userId) throw new AppError('email_taken');
      // The person asking is signed in and typed the address: a refusal can say so (429), unlike the
      // anonymous recovery routes. Nothing is stored when no mail will go.
      const quota = await deps.mailQuota.take(email, 'email_change');
      if (!quota.allowed)
        throw new AppError('too_many_attempts', {
          message: 'Too many links were mailed to this address in the last hour; try again later.',
          retryAfterSeconds: quota.retryAfterSeconds,
        });
      const token = randomToken(TOKEN_BYTES);
      const now = nowMs();
      await repository.replace({
        userId,
        tokenHash: sha256Hex(token),
        newEmail: email,
        nowMs: now,
        expiresAtMs: now + EMAIL_CHANGE_TTL_SECONDS * 1000,
      });
      const link = `${deps.publicUrl}/app/verify-email?token=${encodeURIComponent(token)}`;
      const oldEmail = account.email;
      background.run('email change mail', async () => {
        await deps.mailer.send(
          emailChangeMessage({ to: email, issuer: deps.issuer, link, ttlSeconds: EMAIL_CHANGE_TTL_SECONDS }),
        );
      });
      // The old address hears of it while it still works (OWASP Authentication Cheat Sheet: notify
      // the user of changes to their account's contact details), within its own hourly budget.
      if (oldEmail !== null) {
        background.run('email change notice', async () => {
          if (!(await deps.mailQuota.take(oldEmail, 'email_change')).allowed) return;
          await deps.mailer.send(emailChangeNotice({ to: oldEmail, issuer: deps.issuer, newEmail: email }));
        });
      }
      await deps.audit.record({
        ...context,
        type: 'email.change_requested',
        userId,
        detail: { address_ref: addressRef(email), had_email: oldEmail !== null },
      });
      return { pending_email: email, expires_in: EMAIL_CHANGE_TTL_SECONDS };
    },

    async pending(userId) {
      const now = nowMs();
      const change = await repository.pendingOf(userId, now);
      if (!change) return { pending_email: null, expires_in: null };
      return { pending_email: change.newEmail, expires_in: Math.ceil((change.expiresAtMs - now) / 1000) };
    },

    async confirm(tokenHash, context) {
      const now = nowMs();
      const change = await repository.findLive(tokenHash, now);
      if (!change) return undefined;
      const before = await deps.contacts.findContactById(change.userId);
      const outcome = await repository.confirm(change, tokenHash, now);
      if (outcome === 'spent') return undefined;
      if (outcome === 'taken') throw new AppError('email_taken');
      await deps.audit.record({
        ...context,
        type: 'email.changed',
        userId: change.userId,
        detail: { address_ref: addressRef(change.newEmail), had_email: (before?.email ?? null) !== null },
      });
      return deps.accounts.getUser(change.userId);
    },

    settled: background.settled,
  };
}
