import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { ClientInfo } from '../../http/client-info.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import { secondStepKey } from './passkey-second-factor.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { DeviceCookie } from '../lockout/device-cookie.js';
import type { LockoutClient } from '../lockout/lockout.service.js';
import type { PasskeyAssertions } from '../passkeys/passkey-assertions.js';
import type { UserRow } from '../accounts/accounts.repository.js';
import type { Tokens } from '../sessions/sessions.service.js';
import { reauthProof, type FactorMethod } from '../two-factor/require-2fa.js';
import { EMAIL_CODE_TTL_SECONDS } from '../two-factor/two-factor.service.js';
import {
  createLoginFlow,
  type LoginAttempt,
  type LoginFlowDeps,
  type LoginTokens,
  type MfaChallenge,
  type MfaSetupRequired,
  type SecondFactorInput,
  type SetupGrant,
} from './login.flow.js';

export type { LoginTokens, MfaChallenge, MfaSetupRequired, SetupGrant } from './login.flow.js';

export type SecondFactorLoginInput = SecondFactorInput & { mfa_token: string };

export interface PasswordLoginInput {
  username: string;
  password: string;
  totp_code?: string | undefined;
}

/** Who signs in: for the session and the audit trail, and the cookies that may hold a device cookie. */
export type LoginClient = ClientInfo & LockoutClient;

export interface LoginService {
  /** Password step; with 2FA either a challenge, or tokens when a valid `totp_code` came along (one-step login). */
  passwordLogin(input: PasswordLoginInput, client: LoginClient): Promise<LoginTokens | MfaChallenge | MfaSetupRequired>;
  /**
   * Passwordless sign-in with a passkey: the flow token of `passkeyLoginOptions` and the credential's
   * assertion. Tokens, or (no user verification, a second factor on) a challenge.
   */
  passkeyLogin(
    input: { flow_token: string; response: AuthenticationResponseJSON },
    client: LoginClient,
  ): Promise<LoginTokens | MfaChallenge | MfaSetupRequired>;
  passkeyLoginOptions(username: string | undefined): ReturnType<PasskeyAssertions['loginOptions']>;
  /** Options for a passkey as the second step of the mfa_token's sign-in (its challenge bound to that flow). */
  passkeySecondFactorOptions(mfaToken: string): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }>;
  /** Second step: a code (or a passkey's assertion) for the mfa_token the password step answered with. */
  secondFactorLogin(input: SecondFactorLoginInput, client: LoginClient): Promise<LoginTokens>;
  /**
   * A set-up token's holder has just set up a second factor (REQUIRE_2FA): the sign-in's tokens, once per
   * set-up token; null when they were issued already.
   */
  completeMfaSetup(grant: SetupGrant, client: LoginClient): Promise<LoginTokens | null>;
  /** The device cookie for a client that has just received tokens for the account. */
  deviceCookie(userId: number): DeviceCookie;
  sendLoginEmailCode(mfaToken: string): Promise<{ sent: true; expires_in: number }>;
  /** A signed-in user asks for an email code to confirm a security change (e.g. disabling 2FA). */
  sendStepUpEmailCode(userId: number): Promise<{ sent: true; expires_in: number }>;
  /**
   * A signed-in person proves who they are again (password, and a code when 2FA is on): new tokens
   * for the same session with a fresh `auth_time`, for changes that need a recent sign-in.
   */
  /** Options for re-authenticating with a passkey: the caller's credentials, a challenge bound to the session. */
  passkeyReauthOptions(principal: {
    userId: number;
    sessionId: number;
  }): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }>;
  reauthenticate(
    principal: { userId: number; sessionId: number },
    input: ReauthInput,
    client: LoginClient,
  ): Promise<Tokens>;
}

/** A password (and a code when 2FA is on), or a passkey's assertion for `passkeyReauthOptions`. */
export type ReauthInput = { password: string; code?: string | undefined } | { response: AuthenticationResponseJSON };

/** What a re-authentication's passkey challenge is bound to: the session it refreshes. */
const reauthKey = (sessionId: number): string => `reauth:${sessionId}`;

/** The login service drives the one sign-in flow and needs what the flow needs. */
export type LoginDeps = LoginFlowDeps;

export function createLoginService(deps: LoginDeps): LoginService {
  const { accounts, lockout, twoFactor, sessions, audit } = deps;
  // The steps of a sign-in (first factor, second factor, finish) live in login.flow.ts.
  const flow = createLoginFlow(deps);
  const attempts = createKeyedMutex();

  async function sendEmailFactorCode(
    userId: number,
    purpose: 'login' | 'step_up',
  ): Promise<{ sent: true; expires_in: number }> {
    // Only to users who chose email as a factor: otherwise the mailbox would become a factor they never enabled.
    const methods = await twoFactor.methodsOf(userId);
    if (!methods.includes('email')) {
      throw new AppError('mfa_not_enabled', { message: 'Email codes are not turned on for this account.' });
    }
    const user = await accounts.getUser(userId, methods);
    await twoFactor.sendEmailCode({ id: user.id, username: user.username, email: user.email }, purpose);
    return { sent: true, expires_in: EMAIL_CODE_TTL_SECONDS };
  }

  /**
   * An attempt that waited behind others on its budget (a burst) reads the account again: its
   * password may have changed meanwhile, and the old one must not let anyone in after the change.
   */
  async function reread(attempt: LoginAttempt, username: string): Promise<LoginAttempt> {
    if (attempt.account === undefined) return attempt;
    const fresh = await deps.repository.findSignIn(username);
    // Renamed or deleted meanwhile: the name no longer leads to the account whose budget was chosen.
    if (fresh?.account.id !== attempt.account.id) throw new AppError('invalid_credentials');
    return { ...attempt, ...fresh };
  }

  /** A re-authentication proven: the same session's new tokens with a fresh auth_time, and the audit line. */
  async function reauthenticated(
    proof: { account: UserRow; amr: string[] },
    methods: FactorMethod[],
    { userId, sessionId }: { userId: number; sessionId: number },
    client: LoginClient,
    method: string | null,
  ): Promise<Tokens> {
    const tokens = await sessions.reauthenticate(
      await accounts.presentUser(proof.account, methods),
      sessionId,
      proof.amr,
      client,
    );
    await audit.record({
      ...client,
      type: 'reauth.succeeded',
      userId,
      detail: { amr: proof.amr.join(','), session_id: sessionId, ...(method ? { method } : {}) },
    });
    return tokens;
  }

  return {
    async passwordLogin(input, client) {
      // The account and its second factors are read once, here (one query), and handed along the flow.
      const found = await deps.repository.findSignIn(input.username);
      // A name without an account has a budget of its own that locks exactly like an account's, so
      // a 429 never tells which accounts exist (OWASP Authentication Cheat Sheet, account enumeration).
      const attempt: LoginAttempt = found
        ? { ...found, target: lockout.targetFor(found.account.id, client) }
        : { account: undefined, target: lockout.targetForUnknown(input.username) };
      const { target } = attempt;
      // Attempts on one budget are checked in turn here, each spending one attempt before the
      // password is checked: a parallel burst cannot exceed it, and parallel right passwords all succeed.
      return attempts.run(target.kind === 'name' ? `name:${target.key}` : target.userId, async (waited) => {
        const passed = await flow.passwordStep(
          waited ? await reread(attempt, input.username) : attempt,
          input.password,
          client,
        );
        return flow.afterFirstFactor(passed, client, input.totp_code);
      });
    },

    async passkeyLogin({ flow_token, response }, client) {
      // The flow is spent and the credential found before the budget is chosen: its owner's, as a
      // password login spends the named account's; attempts on it run one at a time, like passwords.
      const pending = await deps.passkeys.openAssertion(flow_token, response);
      return attempts.run(pending.userId, () => flow.passkeyStep(pending, client));
    },

    passkeyLoginOptions: (username) => deps.passkeys.loginOptions(username),

    async passkeySecondFactorOptions(mfaToken) {
      const challenge = await twoFactor.findLoginChallenge(mfaToken);
      // A passkey opened this sign-in: the second factor must be of another kind.
      if (challenge.firstFactor === 'hwk')
        throw new AppError('mfa_not_enabled', { message: 'Use a code: a passkey was the first step.' });
      // The password was the first factor: possession is what this step proves, so no PIN is asked for.
      const options = await deps.passkeys.accountOptions(challenge.userId, secondStepKey(challenge), 'discouraged');
      return { options };
    },

    async secondFactorLogin({ mfa_token, ...input }, client) {
      const challenge = await twoFactor.findLoginChallenge(mfa_token);
      return attempts.run(challenge.userId, () => flow.secondFactorStep(challenge, input, client));
    },

    completeMfaSetup: (grant, client) => attempts.run(grant.userId, () => flow.setupCompletedStep(grant, client)),

    deviceCookie: (userId) => lockout.issueDeviceCookie(userId),

    async sendLoginEmailCode(mfaToken) {
      return sendEmailFactorCode((await twoFactor.findLoginChallenge(mfaToken)).userId, 'login');
    },

    sendStepUpEmailCode: (userId) => sendEmailFactorCode(userId, 'step_up'),

    async passkeyReauthOptions({ userId, sessionId }) {
      // The passkey is the whole proof here: user verification makes it two factors (amr hwk+mfa).
      return { options: await deps.passkeys.accountOptions(userId, reauthKey(sessionId), 'preferred') };
    },

    async reauthenticate({ userId, sessionId }, input, client) {
      const methods = await twoFactor.methodsOf(userId);
      const fail = async (reason: string): Promise<void> =>
        audit.record({ ...client, type: 'reauth.failed', userId, detail: { reason } });
      if ('response' in input) {
        const { response } = input;
        // An assertion is a guess like a password: it spends the account's lockout budget.
        const proof = await attempts.run(userId, () =>
          lockout.guard(userId, client, async () => {
            const outcome = await deps.passkeys.verifyAccountAssertion(userId, reauthKey(sessionId), response, client);
            if (!outcome.ok) {
              await fail(`passkey_${outcome.reason}`);
              throw new AppError('invalid_credentials');
            }
            const account = await accounts.findById(userId);
            if (!account) throw new AppError('unauthorized');
            // RFC 8176: hwk, plus mfa when the authenticator verified the person (NIST SP 800-63B §5.1.9).
            return { account, amr: outcome.userVerified ? ['hwk', 'mfa'] : ['hwk'] };
          }),
        );
        return reauthenticated(proof, methods, { userId, sessionId }, client, 'passkey');
      }
      // Which proof the account's factors ask for is require-2fa's rule; a passkey proves on its own (above).
      const proofNeeded = reauthProof(methods);
      if (proofNeeded === 'passkey')
        throw validationError(
          { response: "is required: this account's second factor is a passkey; confirm with it" },
          'Confirm with your passkey.',
        );
      // Asked before any secret is checked: a forgotten field is no guess and spends no budget.
      if (proofNeeded === 'password_and_code' && input.code === undefined)
        throw validationError({ code: 'is required when two-factor authentication is on' });
      // Password and code are guesses like any other: they spend the account's lockout budget.
      const proof = await attempts.run(userId, () =>
        lockout.guard(userId, client, async () => {
          const account = await accounts.verifyPassword(userId, input.password).catch(async (error: unknown) => {
            await fail('password');
            throw error;
          });
          if (proofNeeded === 'password' || input.code === undefined) return { account, amr: ['pwd'], method: null };
          // Email codes for this purpose come from POST /api/auth/2fa/email/send with a Bearer token.
          const used = await twoFactor.verifyCode(userId, input.code, { purpose: 'step_up', methods });
          if (used === null) {
            await fail('code');
            throw new AppError('invalid_mfa_code');
          }
          return { account, amr: ['pwd', 'otp'], method: used };
        }),
      );
      return reauthenticated(proof, methods, { userId, sessionId }, client, proof.method);
    },
  };
}
