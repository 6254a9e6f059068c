import type { ClientInfo } from '../../http/client-info.js';
import type { Clock } from '../../lib/clock.js';
import { randomToken, sha256Hex } from '../../lib/crypto.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { CredentialFailure, AccountsService } from '../accounts/accounts.service.js';
import type { AuditService } from '../audit/audit.service.js';
import type { DeviceCookie } from '../lockout/device-cookie.js';
import type { AccountTarget, LockTarget, LockoutClient, LockoutService } from '../lockout/lockout.service.js';
import type { Metrics } from '../ops/metrics.js';
import type { SessionsService, Tokens } from '../sessions/sessions.service.js';
import type { TwoFactorRepository } from '../two-factor/two-factor.repository.js';
import { EMAIL_CODE_TTL_SECONDS, type SecondFactor, type TwoFactorService } from '../two-factor/two-factor.service.js';

/** The mfa_token lives 5 minutes. */
export const MFA_TOKEN_TTL_SECONDS = 300;

/**
 * the HTTP contract `mfa_challenge`. `2fa_required` and `login_token` are the FastAPI app's names for
 * `mfa_required` and `mfa_token` (the contract, "Compatibility routes"), so its clients switch unchanged.
 */
export interface MfaChallenge {
  mfa_required: true;
  '2fa_required': true;
  mfa_token: string;
  login_token: string;
  mfa_methods: string[];
  expires_in: number;
}

/** Tokens from a sign-in carry the FastAPI app's flag too: no second step is needed. */
export type LoginTokens = Tokens & { '2fa_required': false };

export interface PasswordLoginInput {
  username: string;
  password: string;
  totp_code?: string | undefined;
}

/** Who signs in: for the session and the audit trail, and the cookies that may hold a device cookie. */
export type LoginClient = ClientInfo & LockoutClient;

export interface LoginService {
  /** Password step; with 2FA either a challenge, or tokens when a valid `totp_code` came along (one-step login). */
  passwordLogin(input: PasswordLoginInput, client: LoginClient): Promise<LoginTokens | MfaChallenge>;
  secondFactorLogin(input: { mfa_token: string; code: string; method?: SecondFactor | undefined }, client: LoginClient): Promise<LoginTokens>;
  /** The device cookie for a client that has just received tokens for the account. */
  deviceCookie(userId: number): DeviceCookie;
  sendLoginEmailCode(mfaToken: string): Promise<{ sent: true; expires_in: number }>;
  /** A signed-in user asks for an email code to confirm a security change (e.g. disabling 2FA). */
  sendStepUpEmailCode(userId: number): Promise<{ sent: true; expires_in: number }>;
  /**
   * A signed-in person proves who they are again (password, and a code when 2FA is on): new tokens
   * for the same session with a fresh `auth_time`, for changes that need a recent sign-in.
   */
  reauthenticate(principal: { userId: number; sessionId: number }, input: ReauthInput, client: LoginClient): Promise<Tokens>;
}

export interface ReauthInput {
  password: string;
  code?: string | undefined;
}

export interface LoginDeps {
  accounts: AccountsService;
  lockout: LockoutService;
  twoFactor: TwoFactorService;
  flows: TwoFactorRepository;
  sessions: SessionsService;
  audit: AuditService;
  metrics: Metrics;
  clock: Clock;
}

export function createLoginService(deps: LoginDeps): LoginService {
  const { accounts, lockout, twoFactor, flows, sessions, audit, metrics, clock } = deps;
  const invalidFlow = (): AppError => new AppError('mfa_token_invalid');
  const attempts = createKeyedMutex();

  async function finish(target: AccountTarget, amr: string[], client: ClientInfo, detail: Record<string, string> = {}): Promise<LoginTokens> {
    const { userId } = target;
    const tokens = await sessions.open(await accounts.getUser(userId), amr, client);
    // A success forgets the failures of the budget it spent: the untrusted clients' (in the same
    // statement as the login time, so a plain login costs no extra query), or the device's own. A
    // device's success leaves the strangers' count alone, or it would refill their budget.
    await accounts.recordLogin(userId, { clearFailures: target.kind === 'account' });
    if (target.kind === 'device') await lockout.succeeded(target);
    await audit.record({ ...client, type: 'login.succeeded', userId, detail: { amr: amr.join(','), ...detail } });
    metrics.logins.inc({ outcome: 'success' });
    return { ...tokens, '2fa_required': false };
  }

  async function failSecondFactor(target: AccountTarget, client: ClientInfo, method: string): Promise<never> {
    await audit.record({ ...client, type: 'mfa.failed', userId: target.userId, detail: { method } });
    await lockout.failed(target, client);
    metrics.logins.inc({ outcome: 'invalid_mfa_code' });
    throw new AppError('invalid_mfa_code');
  }

  /** A live flow (not consumed, not expired) for the token, or `mfa_token_invalid`. */
  async function liveFlow(mfaToken: string): Promise<{ hash: string; userId: number }> {
    const hash = sha256Hex(mfaToken);
    const flow = await flows.findFlow(hash);
    if (!flow || flow.consumed_at !== null || flow.expires_at <= clock.now().getTime()) throw invalidFlow();
    return { hash, userId: flow.user_id };
  }

  /** The password check and what follows it: tokens, a one-step TOTP login, or a second-factor challenge. */
  async function passwordStep(input: PasswordLoginInput, client: ClientInfo, target: LockTarget): Promise<LoginTokens | MfaChallenge> {
    let row;
    try {
      row = await accounts.authenticate(input.username, input.password);
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_credentials') {
        const failure = error.cause as CredentialFailure | undefined;
        await audit.record({ ...client, type: 'login.failed', userId: failure?.userId ?? null, detail: { reason: failure?.reason ?? 'unknown' } });
        metrics.logins.inc({ outcome: 'invalid_credentials' });
        await lockout.failed(target, client);
      }
      if (error instanceof AppError && error.code === 'forbidden') {
        // The right password for an account that may not sign in yet (unverified email): not a guess.
        await lockout.refund(target);
        if (target.kind !== 'name') await audit.record({ ...client, type: 'login.failed', userId: target.userId, detail: { reason: 'email_unverified' } });
      }
      throw error;
    }
    // The budget was chosen for the account found before the mutex; the password was checked for `row`.
    if (target.kind === 'name' || target.userId !== row.id) throw new AppError('invalid_credentials');
    const methods = await twoFactor.methodsOf(row.id);
    if (methods.length === 0) return finish(target, ['pwd'], client);
    if (input.totp_code !== undefined && methods.includes('totp')) {
      // The original API's one-step login: password and TOTP code in one request.
      if (!(await twoFactor.verifyTOTP(row.id, input.totp_code.trim()))) return failSecondFactor(target, client, 'totp');
      await audit.record({ ...client, type: 'mfa.used', userId: row.id, detail: { method: 'totp' } });
      return finish(target, ['pwd', 'otp'], client, { method: 'totp' });
    }
    // The password was right: that attempt is not a failure, but the count of earlier failures stays
    // until the second factor succeeds (otherwise each new password login would reset the code budget).
    await lockout.refund(target);
    const mfaToken = randomToken(32);
    const nowMs = clock.now().getTime();
    await flows.insertFlow(sha256Hex(mfaToken), row.id, nowMs, nowMs + MFA_TOKEN_TTL_SECONDS * 1000);
    metrics.logins.inc({ outcome: 'mfa_required' });
    await audit.record({ ...client, type: 'mfa.challenged', userId: row.id, detail: { methods: methods.join(',') } });
    const remaining = await twoFactor.status(row.id);
    return {
      mfa_required: true,
      '2fa_required': true,
      mfa_token: mfaToken,
      login_token: mfaToken,
      mfa_methods: remaining.backup_codes_remaining > 0 ? [...methods, 'backup_code'] : methods,
      expires_in: MFA_TOKEN_TTL_SECONDS,
    };
  }

  function countLocked(error: unknown): never {
    if (error instanceof AppError && error.code === 'too_many_attempts') metrics.logins.inc({ outcome: 'locked' });
    throw error;
  }

  async function sendEmailFactorCode(userId: number, purpose: 'login' | 'step_up'): Promise<{ sent: true; expires_in: number }> {
    // Only to users who chose email as a factor: otherwise the mailbox would become a factor they never enabled.
    if (!(await twoFactor.methodsOf(userId)).includes('email')) {
      throw new AppError('mfa_not_enabled', { message: 'Email codes are not turned on for this account.' });
    }
    const user = await accounts.getUser(userId);
    await twoFactor.sendEmailCode({ id: user.id, username: user.username, email: user.email }, purpose);
    return { sent: true, expires_in: EMAIL_CODE_TTL_SECONDS };
  }

  return {
    async passwordLogin(input, client) {
      const known = await accounts.findByUsername(input.username);
      // A name without an account has a budget of its own that locks exactly like an account's, so
      // a 429 never tells which accounts exist (OWASP Authentication Cheat Sheet, account enumeration).
      const target = known ? lockout.targetFor(known.id, client) : lockout.targetForUnknown(input.username);
      // Attempts on one budget are checked in turn here, each spending one attempt before the
      // password is checked: a parallel burst cannot exceed it, and parallel right passwords all succeed.
      return attempts.run(target.kind === 'name' ? `name:${target.key}` : target.userId, async () => {
        await lockout.reserve(target, client).catch(countLocked);
        return passwordStep(input, client, target);
      });
    },

    async secondFactorLogin(input, client) {
      const flow = await liveFlow(input.mfa_token);
      return attempts.run(flow.userId, async () => {
        // Attempts are reserved before the code is checked, on the flow and on the account:
        // a burst of guesses cannot exceed either budget.
        if (!(await flows.reserveFlowAttempt(flow.hash, clock.now().getTime()))) throw invalidFlow();
        // The flow knows the account; the request brings its own device cookie (or none).
        const target = lockout.targetFor(flow.userId, client);
        await lockout.reserve(target, client).catch(countLocked);
        const used = await twoFactor.verifyCode(flow.userId, input.code, input.method);
        if (used === null) return failSecondFactor(target, client, input.method ?? 'any');
        // Single use: of two requests that both passed the code check, one consumes the flow.
        if (!(await flows.consumeFlow(flow.hash, clock.now().getTime()))) throw invalidFlow();
        await audit.record({ ...client, type: used === 'backup_code' ? 'mfa.backup_code_used' : 'mfa.used', userId: flow.userId, detail: { method: used } });
        return finish(target, ['pwd', 'otp'], client, { method: used });
      });
    },

    deviceCookie: (userId) => lockout.issueDeviceCookie(userId),

    async sendLoginEmailCode(mfaToken) {
      return sendEmailFactorCode((await liveFlow(mfaToken)).userId, 'login');
    },

    sendStepUpEmailCode: (userId) => sendEmailFactorCode(userId, 'step_up'),

    async reauthenticate({ userId, sessionId }, input, client) {
      const methods = await twoFactor.methodsOf(userId);
      // Asked before any secret is checked: a forgotten field is no guess and spends no budget.
      if (methods.length > 0 && input.code === undefined) throw validationError({ code: 'is required when two-factor authentication is on' });
      const fail = async (reason: string): Promise<void> => audit.record({ ...client, type: 'reauth.failed', userId, detail: { reason } });
      // Password and code are guesses like any other: they spend the account's lockout budget.
      const proof = await attempts.run(userId, () => lockout.guard(userId, client, async () => {
        await accounts.verifyPassword(userId, input.password).catch(async (error: unknown) => {
          await fail('password');
          throw error;
        });
        if (methods.length === 0 || input.code === undefined) return { amr: ['pwd'], method: null };
        // Email codes for this purpose come from POST /api/auth/2fa/email/send with a Bearer token.
        const used = await twoFactor.verifyCode(userId, input.code, undefined, 'step_up');
        if (used === null) {
          await fail('code');
          throw new AppError('invalid_mfa_code');
        }
        return { amr: ['pwd', 'otp'], method: used };
      }));
      const tokens = await sessions.reauthenticate(await accounts.getUser(userId), sessionId, proof.amr, client);
      await audit.record({ ...client, type: 'reauth.succeeded', userId, detail: { amr: proof.amr.join(','), session_id: sessionId, ...(proof.method ? { method: proof.method } : {}) } });
      return tokens;
    },
  };
}
