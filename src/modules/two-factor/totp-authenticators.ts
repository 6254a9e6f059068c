import type { Clock } from '../../lib/clock.js';
import { seal, unseal } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { Account } from './email-codes.js';
import { generateTOTPSecret, matchTOTPStep, otpauthURL, qrDataURL } from './totp.js';
import { MAX_TOTP_AUTHENTICATORS, type TotpRow } from './totp-authenticators.repository.js';
import type { TwoFactorRepository } from './two-factor.repository.js';

/** The name of an authenticator app nobody named. */
export const DEFAULT_AUTHENTICATOR_NAME = 'Authenticator app';

/** One authenticator app as the API shows it: never its secret. */
export interface AuthenticatorItem {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface TotpSetupStarted {
  secret: string;
  otpauth_url: string;
  qr_base64: string;
}

/** A user's authenticator apps (RFC 6238 TOTP): adding, checking a code, listing, renaming, removing. */
export interface TotpAuthenticators {
  /** Checks a TOTP code against every confirmed authenticator and burns the matching one's time step. */
  verifyTOTP(userId: number, code: string): Promise<boolean>;
  startTOTPSetup(userId: number, name?: string): Promise<TotpSetupStarted>;
  verifyTOTPSetup(
    userId: number,
    code: string,
    context: AuditContext,
    name?: string,
  ): Promise<{ enabled: true; backup_codes?: string[] }>;
  listAuthenticators(userId: number): Promise<{ authenticators: AuthenticatorItem[] }>;
  renameAuthenticator(userId: number, id: number, name: string, context: AuditContext): Promise<AuthenticatorItem>;
  /** Removes one; removing the last second factor turns 2FA off (backup codes too), as `disable` does. */
  removeAuthenticator(userId: number, id: number, context: AuditContext): Promise<{ enabled: boolean }>;
}

export interface TotpAuthenticatorsDeps {
  repository: TwoFactorRepository;
  audit: AuditService;
  clock: Clock;
  encryptionKey: Buffer;
  totpIssuer: string;
  accountOf(userId: number): Promise<Account>;
  /** New backup codes (the old ones die), in the clear once. */
  issueBackupCodes(userId: number): Promise<string[]>;
}

/** The associated data that binds a sealed TOTP secret to its user's row (lib/crypto seal). */
export function totpSecretAad(userId: number): string {
  return `totp:user:${userId}`;
}

/** The name as stored: trimmed, the default when none (or only spaces) was given. */
function nameOf(name: string | undefined): string {
  const trimmed = name?.trim() ?? '';
  return trimmed === '' ? DEFAULT_AUTHENTICATOR_NAME : trimmed;
}

function present(row: TotpRow): AuthenticatorItem {
  return {
    id: row.id,
    name: row.name,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  };
}

const tooMany = (): AppError => new AppError('too_many_authenticators');

export function createTotpAuthenticators(deps: TotpAuthenticatorsDeps): TotpAuthenticators {
  const { repository, clock } = deps;
  const nowMs = (): number => clock.now().getTime();
  const who = (client: AuditContext): AuditContext => ({ ip: client.ip ?? null, userAgent: client.userAgent ?? null });
  /**
   * The secret of a row, or null when it does not open: a sealed secret copied from another user's row (the AEAD's
   * associated data names the owner; NIST SP 800-38D) or sealed under another ENCRYPTION_KEY. Such a row matches no
   * code, and the refusal is audited so that an operator sees a tampered table or a changed key.
   */
  async function secretOf(row: TotpRow): Promise<string | null> {
    try {
      return unseal(deps.encryptionKey, row.secret_sealed, totpSecretAad(row.user_id));
    } catch {
      await deps.audit.record({ type: 'mfa.totp_unreadable', userId: row.user_id, detail: { id: row.id } });
      return null;
    }
  }
  const matchStep = async (row: TotpRow, code: string, now: number): Promise<number | null> => {
    const secret = await secretOf(row);
    return secret === null ? null : matchTOTPStep(secret, code, now);
  };

  return {
    async verifyTOTP(userId, code) {
      const rows = await repository.confirmedTotps(userId);
      const now = nowMs();
      // Every authenticator is checked, each comparison constant-time (otpauth), with no early exit:
      // how long the check takes does not tell which of the user's apps a code came from.
      const matches = await Promise.all(rows.map(async (row) => ({ row, step: await matchStep(row, code, now) })));
      // The matching one's step is burnt with a guarded UPDATE (RFC 6238 §5.2: a code is accepted at
      // most once): of two requests with the same code, one wins.
      for (const { row, step } of matches) {
        if (step !== null && (await repository.useTotpStep(row.id, step, now))) return true;
      }
      return false;
    },

    async startTOTPSetup(userId, name) {
      const account = await deps.accountOf(userId);
      const secret = generateTOTPSecret();
      const sealed = seal(deps.encryptionKey, secret, totpSecretAad(account.id));
      // A new setup replaces a pending one; confirmed authenticators stay (another app is added).
      if ((await repository.savePendingTotp(account.id, nameOf(name), sealed, nowMs())) === 'full') throw tooMany();
      const url = otpauthURL(secret, deps.totpIssuer, account.username);
      return { secret, otpauth_url: url, qr_base64: await qrDataURL(url) };
    },

    async verifyTOTPSetup(userId, code, context, name) {
      const row = await repository.pendingTotp(userId);
      if (!row) {
        if ((await repository.confirmedTotps(userId)).length > 0)
          throw new AppError('mfa_already_enabled', {
            message: 'No authenticator app is waiting to be confirmed: start with POST /api/auth/2fa/setup.',
          });
        throw new AppError('mfa_not_enabled', { message: 'Start with POST /api/auth/2fa/setup.' });
      }
      const step = await matchStep(row, code.trim(), nowMs());
      if (step === null) throw new AppError('invalid_mfa_code');
      const confirmed = await repository.confirmTotp(
        userId,
        row.id,
        step,
        name === undefined ? undefined : nameOf(name),
        nowMs(),
      );
      // Gone: a parallel request confirmed or replaced this setup first.
      if (confirmed.outcome !== 'confirmed')
        throw confirmed.outcome === 'full' ? tooMany() : new AppError('mfa_already_enabled');
      if (confirmed.first) {
        // The first authenticator turns TOTP on: new backup codes, as before there could be several.
        const backupCodes = await deps.issueBackupCodes(userId);
        await deps.audit.record({ ...who(context), type: 'mfa.totp_enabled', userId, detail: { id: row.id } });
        return { enabled: true, backup_codes: backupCodes };
      }
      await deps.audit.record({ ...who(context), type: 'mfa.totp_added', userId, detail: { id: row.id } });
      // Another app: the backup codes the person holds stay valid; new ones only when none are left.
      if ((await repository.countBackupCodes(userId)) > 0) return { enabled: true };
      return { enabled: true, backup_codes: await deps.issueBackupCodes(userId) };
    },

    async listAuthenticators(userId) {
      return { authenticators: (await repository.confirmedTotps(userId)).map(present) };
    },

    async renameAuthenticator(userId, id, name, context) {
      // Another user's id answers exactly as an unknown one: no way to learn which ids exist.
      const row = await repository.renameTotp(userId, id, nameOf(name));
      if (!row) throw new AppError('not_found');
      await deps.audit.record({ ...who(context), type: 'mfa.totp_renamed', userId, detail: { id } });
      return present(row);
    },

    async removeAuthenticator(userId, id, context) {
      const outcome = await repository.removeTotp(userId, id);
      if (outcome === 'not_found') throw new AppError('not_found');
      await deps.audit.record({ ...who(context), type: 'mfa.totp_removed', userId, detail: { id } });
      if (outcome === 'removed') return { enabled: true };
      // It was the last second factor: 2FA is off, recorded as a disable is.
      await deps.audit.record({
        ...who(context),
        type: 'mfa.disabled',
        userId,
        detail: { confirmed_with: 'recent_auth', removed: 'last_authenticator' },
      });
      return { enabled: false };
    },
  };
}

export { MAX_TOTP_AUTHENTICATORS };
