import type { Clock } from '../../lib/clock.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { AccountsService, AccountProfile } from '../accounts/accounts.service.js';
import type { AuditContext, AuditService, AuditView } from '../audit/audit.service.js';
import type { PasskeyView, PasskeysService } from '../passkeys/passkeys.service.js';
import type { SessionsService, SessionView } from '../sessions/sessions.service.js';
import type { TwoFactorService, TwoFactorStatus } from '../two-factor/two-factor.service.js';
import type { PrivacyRepository } from './privacy.repository.js';

/** The newest events an export holds; `audit_events_truncated` says when older ones exist. */
export const EXPORT_AUDIT_EVENTS_MAX = 1000;

/**
 * GDPR Art. 15 (right of access) and Art. 20 (portability); OWASP ASVS 4.0 V8.3.2 (users can
 * export and remove their data): what Twofold holds about the person, as JSON. Nothing secret:
 * no password hash, second-factor secret, code or token hash (their owners never hand them out).
 */
export interface DataExport {
  exported_at: string;
  profile: AccountProfile;
  sessions: SessionView[];
  two_factor: TwoFactorStatus;
  /** The person's passkeys, as GET /api/auth/passkeys lists them (no key material). */
  passkeys: PasskeyView[];
  audit_events: AuditView[];
  audit_events_truncated: boolean;
}

/**
 * Who deletes an account: its owner (signed in, over HTTP), an administrator, or the operator of
 * the command line. The administration's actor (admin.service's AdminActor) is one of these.
 */
export type DeletionActor = { kind: 'self' } | (AuditContext & { kind: 'admin'; userId: number }) | { kind: 'cli' };

export interface PrivacyService {
  exportData(principal: { userId: number; sessionId: number }): Promise<DataExport>;
  /** The signed-in person deletes their own account, typing its username as `confirm`. */
  deleteOwnAccount(principal: { userId: number }, confirm: string): Promise<void>;
  /**
   * Deletes the account (see PrivacyRepository.deleteAccount), then ends its sessions on every
   * instance. 404 when it does not exist, 409 `last_admin` for the only administrator.
   */
  deleteAccount(userId: number, actor: DeletionActor): Promise<void>;
}

export interface PrivacyDeps {
  repository: PrivacyRepository;
  accounts: AccountsService;
  sessions: SessionsService;
  twoFactor: TwoFactorService;
  passkeys: Pick<PasskeysService, 'list'>;
  audit: AuditService;
  clock: Clock;
}

/** The deletion's own audit line: the user id and who did it, and nothing else of the deleted person. */
function deletionEvent(
  userId: number,
  actor: DeletionActor,
): Parameters<PrivacyRepository['deleteAccount']>[0]['event'] {
  switch (actor.kind) {
    case 'self':
      return { type: 'account.deleted', userId, detail: { by: 'self' } };
    case 'cli':
      return { type: 'account.deleted', userId, userAgent: 'twofold-cli', detail: { by: 'cli' } };
    case 'admin':
      // The administrator's own request data: theirs, not the deleted person's.
      return {
        type: 'account.deleted',
        userId,
        ip: actor.ip,
        userAgent: actor.userAgent,
        detail: { by: actor.userId },
      };
  }
}

/**
 * An event another account caused on this one (an administrator's lock, 2FA reset, sign-out
 * everywhere: `detail.by` names them) keeps what was done and by which account, but not the
 * request it came with: that IP address and browser are the administrator's personal data (GDPR
 * Art. 15(4): the copy must not adversely affect the rights and freedoms of others).
 */
function withoutOthersRequest(event: AuditView, userId: number): AuditView {
  const by = event.detail.by;
  if (typeof by !== 'number' || by === userId) return event;
  return { ...event, ip: null, user_agent: null };
}

export function createPrivacyService(deps: PrivacyDeps): PrivacyService {
  const { repository, accounts, sessions, audit, clock } = deps;

  async function deleteAccount(userId: number, actor: DeletionActor): Promise<void> {
    const outcome = await repository.deleteAccount({
      userId,
      actingAdminId: actor.kind === 'admin' ? actor.userId : undefined,
      event: deletionEvent(userId, actor),
      nowMs: clock.now().getTime(),
    });
    if (outcome === 'not_found') throw new AppError('not_found', { message: 'No such user.' });
    if (outcome === 'last_admin') throw new AppError('last_admin');
    if (outcome === 'actor_not_admin') throw new AppError('forbidden', { message: 'This needs the admin role.' });
    // Events that requests under way wrote after the transaction's erasure (audit.service's flush).
    await audit.forgetLateRequests(userId);
    // The rows are gone with the account; this is logout-all's path so that every instance's
    // session cache (the revocation bus) refuses the account's access tokens now, not in seconds.
    await sessions.logoutAll(userId);
  }

  return {
    async exportData({ userId, sessionId }) {
      const [profile, sessionViews, twoFactor, passkeys, events] = await Promise.all([
        accounts.profile(userId),
        sessions.list(userId, sessionId),
        deps.twoFactor.status(userId),
        deps.passkeys.list(userId),
        // One more than kept tells whether older events exist.
        audit.list({ userId, limit: EXPORT_AUDIT_EVENTS_MAX + 1 }),
      ]);
      return {
        exported_at: clock.now().toISOString(),
        profile,
        sessions: sessionViews,
        two_factor: twoFactor,
        passkeys: passkeys.passkeys,
        audit_events: events.slice(0, EXPORT_AUDIT_EVENTS_MAX).map((event) => withoutOthersRequest(event, userId)),
        audit_events_truncated: events.length > EXPORT_AUDIT_EVENTS_MAX,
      };
    },

    async deleteOwnAccount({ userId }, confirm) {
      const { username } = await accounts.profile(userId);
      // Typed, not clicked: an irreversible step needs a deliberate act. (The recent sign-in the
      // route demands guards against a stolen token; this guards against a slip.)
      if (confirm !== username) throw validationError({ confirm: `must be your username, exactly: ${username}` });
      await deleteAccount(userId, { kind: 'self' });
    },

    deleteAccount,
  };
}
