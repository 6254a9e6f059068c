import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Require2fa } from '../../config.js';
import type { ClientInfo } from '../../http/client-info.js';
import { AppError } from '../../lib/errors.js';
import { emailUnverifiedError, type AccountsService, type User } from '../accounts/accounts.service.js';
import type { UserRow } from '../accounts/accounts.repository.js';
import type { LoginRepository } from './login.repository.js';
import type { AuditService } from '../audit/audit.service.js';
import type { AccountTarget, LockTarget, LockoutClient, LockoutService } from '../lockout/lockout.service.js';
import type { Metrics } from '../ops/metrics.js';
import type { PasskeyAssertions, PendingAssertion } from '../passkeys/passkey-assertions.js';
import type { SessionsService, Tokens } from '../sessions/sessions.service.js';
import type { TokenService } from '../tokens/tokens.service.js';
import { hasSecondFactor, policyCovers } from '../two-factor/require-2fa.js';
import type { LoginChallenge, SecondFactor, TwoFactorService } from '../two-factor/two-factor.service.js';
import { createSetupCompleted, createSetupRequired, type MfaSetupRequired, type SetupGrant } from './mfa-setup.js';
import { createPasskeySecondFactor } from './passkey-second-factor.js';
import { createPasskeyStep } from './passkey-step.js';
import type { FactorMethod } from '../two-factor/require-2fa.js';

export type { MfaSetupRequired, SetupGrant } from './mfa-setup.js';

/*
 * One sign-in, as a flow of steps (the shape of Ory Kratos' login flow): a FIRST FACTOR proves who
 * the person is (`passwordStep`, or `passkeyStep`, which finishes at once when the authenticator verified the
 * person and otherwise goes on as after a password), then
 * `afterFirstFactor` decides between finishing, the original API's one-step TOTP login, a set-up
 * token when REQUIRE_2FA asks for a factor the account lacks (`setupCompletedStep` finishes once it
 * is set up), and a challenge for a SECOND FACTOR (`secondFactorStep`, in a later request holding the mfa_token);
 * `finishLogin` opens the session. Each step takes the flow's state as the step before left it, so
 * what was read (the account's row, its second factors) is read once per request and passed along.
 * Choosing the budget (which account a login names) and running the attempts on one budget one at
 * a time is the caller's part (login.service); each step spends its attempt before checking a secret.
 */

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

/**
 * The flow's state before the first factor: the account the login names and its second factors (read
 * once, in one query), and the budget it spends.
 */
export type LoginAttempt =
  { account: UserRow; methods: FactorMethod[]; target: AccountTarget } | { account: undefined; target: LockTarget };

/** The flow's state once a first factor has proven who signs in. */
export interface FirstFactorPassed {
  account: UserRow;
  target: AccountTarget;
  /** RFC 8176 authentication method references proven so far (`pwd`, or `hwk` for a passkey). */
  amr: string[];
  /** The second factors the account has turned on: none means the login finishes now. */
  methods: FactorMethod[];
}

/** The flow's state when every factor it needs is proven. */
export interface FactorsPassed {
  user: User;
  target: AccountTarget;
  amr: string[];
  detail?: Record<string, string>;
}

export interface LoginFlowDeps {
  accounts: AccountsService;
  /** The account a sign-in names, with its second factors. */
  repository: LoginRepository;
  lockout: LockoutService;
  twoFactor: TwoFactorService;
  sessions: SessionsService;
  audit: AuditService;
  metrics: Metrics;
  /** Signs the set-up token (the access tokens' signer). */
  tokens: Pick<TokenService, 'signRestrictedToken'>;
  /** REQUIRE_2FA. */
  require2fa: Require2fa;
  /** Whether mail can be sent (SMTP_URL, or the development log): email codes are offered for set-up only then. */
  mailConfigured: boolean;
  /** Passwordless sign-in: the flows' challenges and the credentials' checks. */
  passkeys: PasskeyAssertions;
}

/**
 * The steps of a sign-in; attempts on one budget run one at a time (the caller's mutex), each step spends its attempt
 * first.
 */
export interface LoginFlow {
  /** First factor, password: spends an attempt of the budget, then checks the password. */
  passwordStep(attempt: LoginAttempt, password: string, client: ClientInfo): Promise<FirstFactorPassed>;
  /**
   * First factor, passkey: spends an attempt of the credential owner's budget, then checks the
   * assertion; with user verification it is both factors and the sign-in finishes.
   */
  passkeyStep(pending: PendingAssertion, client: ClientInfo): Promise<LoginTokens | MfaChallenge | MfaSetupRequired>;
  afterFirstFactor(
    state: FirstFactorPassed,
    client: ClientInfo,
    totpCode: string | undefined,
  ): Promise<LoginTokens | MfaChallenge | MfaSetupRequired>;
  /** Second factor: a code for the challenge the password step left (the mfa_token's flow). */
  secondFactorStep(
    challenge: LoginChallenge,
    input: SecondFactorInput,
    client: LockoutClient & ClientInfo,
  ): Promise<LoginTokens>;
  /**
   * The second factor a set-up token's holder has just set up (proven by its code) completes the sign-in: the
   * grant is spent once, then the session opens as after a second factor; null when it was spent already.
   */
  setupCompletedStep(grant: SetupGrant, client: LockoutClient & ClientInfo): Promise<LoginTokens | null>;
}

/** A code (TOTP, email, backup), or with method `passkey` a WebAuthn assertion. */
export type SecondFactorInput =
  { code: string; method?: SecondFactor | undefined } | { method: 'passkey'; response: AuthenticationResponseJSON };

export function createLoginFlow(deps: LoginFlowDeps): LoginFlow {
  const { accounts, lockout, twoFactor, sessions, audit, metrics } = deps;
  /** A 429 from the budget is counted as a locked login. */
  async function spendAttempt(target: LockTarget, client: ClientInfo): Promise<void> {
    await lockout.reserve(target, client).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'too_many_attempts') metrics.logins.inc({ outcome: 'locked' });
      throw error;
    });
  }

  /** Finish: the session, the lockout bookkeeping of a success, and the audit trail. */
  async function finishLogin(
    { user, target, amr, detail = {} }: FactorsPassed,
    client: ClientInfo,
  ): Promise<LoginTokens> {
    // A success forgets the failures of the budget it spent: the untrusted clients' (written with the
    // session and the login time, so a plain login costs no extra query), or the device's own. A
    // device's success leaves the strangers' count alone, or it would refill their budget.
    const tokens = await sessions.open(user, amr, client, { clearFailures: target.kind === 'account' });
    if (target.kind === 'device') await lockout.succeeded(target);
    await audit.record({
      ...client,
      type: 'login.succeeded',
      userId: user.id,
      detail: { amr: amr.join(','), ...detail },
    });
    metrics.logins.inc({ outcome: 'success' });
    return { ...tokens, '2fa_required': false };
  }

  async function failSecondFactor(target: AccountTarget, client: ClientInfo, method: string): Promise<never> {
    await audit.record({ ...client, type: 'mfa.failed', userId: target.userId, detail: { method } });
    await lockout.failed(target, client);
    metrics.logins.inc({ outcome: 'invalid_mfa_code' });
    throw new AppError('invalid_mfa_code');
  }

  /** First factor, password: the attempt is spent before the password is checked; a failure is recorded. */
  async function passwordStep(attempt: LoginAttempt, password: string, client: ClientInfo): Promise<FirstFactorPassed> {
    const { target } = attempt;
    await spendAttempt(target, client);
    const check = await accounts.authenticate(attempt.account, password);
    if (!check.ok && check.reason === 'email_unverified') {
      // The right password for an account that may not sign in yet (unverified email): not a guess.
      await lockout.refund(target);
      await audit.record({
        ...client,
        type: 'login.failed',
        userId: check.userId,
        detail: { reason: 'email_unverified' },
      });
      throw emailUnverifiedError();
    }
    if (!check.ok) {
      await audit.record({ ...client, type: 'login.failed', userId: check.userId, detail: { reason: check.reason } });
      metrics.logins.inc({ outcome: 'invalid_credentials' });
      await lockout.failed(target, client);
      throw new AppError('invalid_credentials');
    }
    // authenticate succeeds only for the account it was handed, whose budget is an account's: never a name's.
    if (attempt.account === undefined || target.kind === 'name') throw new AppError('invalid_credentials');
    return { account: check.user, target, amr: ['pwd'], methods: attempt.methods };
  }

  // First factor, passkey (WebAuthn): passkey-step.ts, on this flow's attempt, finish and next step.
  const passkeyStep = createPasskeyStep(deps, {
    spendAttempt,
    finishLogin,
    afterFirstFactor: (state, client) => afterFirstFactor(state, client, undefined),
  });

  /**
   * After the first factor: tokens when no second factor is on, a one-step TOTP login, or a second-factor challenge.
   */
  async function afterFirstFactor(
    state: FirstFactorPassed,
    client: ClientInfo,
    totpCode: string | undefined,
  ): Promise<LoginTokens | MfaChallenge | MfaSetupRequired> {
    const { account, target, amr } = state;
    // After a passkey (without user verification) a passkey is no second factor: one of another kind is.
    const methods = amr.includes('hwk') ? state.methods.filter((m) => m !== 'passkey') : state.methods;
    if (!hasSecondFactor(methods) && policyCovers(deps.require2fa, account.role)) return setupRequired(state, client);
    if (!hasSecondFactor(methods))
      return finishLogin({ user: await accounts.presentUser(account, state.methods), target, amr }, client);
    if (totpCode !== undefined && methods.includes('totp')) {
      // The original API's one-step login: password and TOTP code in one request.
      if (!(await twoFactor.verifyTOTP(account.id, totpCode.trim()))) return failSecondFactor(target, client, 'totp');
      await audit.record({ ...client, type: 'mfa.used', userId: account.id, detail: { method: 'totp' } });
      return finishLogin(
        {
          user: await accounts.presentUser(account, methods),
          target,
          amr: [...amr, 'otp'],
          detail: { method: 'totp' },
        },
        client,
      );
    }
    // The password was right: that attempt is not a failure, but the count of earlier failures stays
    // until the second factor succeeds (otherwise each new password login would reset the code budget).
    await lockout.refund(target);
    const challenge = await twoFactor.startLoginChallenge(account.id, methods, amr.includes('hwk') ? 'hwk' : 'pwd');
    metrics.logins.inc({ outcome: 'mfa_required' });
    await audit.record({
      ...client,
      type: 'mfa.challenged',
      userId: account.id,
      detail: { methods: methods.join(',') },
    });
    return {
      mfa_required: true,
      '2fa_required': true,
      mfa_token: challenge.mfaToken,
      login_token: challenge.mfaToken,
      mfa_methods: challenge.methods,
      expires_in: challenge.expiresIn,
    };
  }

  /** Second factor: attempts are spent before the code is checked, on the challenge and on the account. */
  async function secondFactorStep(
    challenge: LoginChallenge,
    input: SecondFactorInput,
    client: LockoutClient & ClientInfo,
  ): Promise<LoginTokens> {
    const { userId } = challenge;
    // A burst of guesses cannot exceed either budget.
    await twoFactor.spendLoginChallengeAttempt(challenge);
    // The challenge knows the account; the request brings its own device cookie (or none).
    const target = lockout.targetFor(userId, client);
    await spendAttempt(target, client);
    const methods = await twoFactor.methodsOf(userId);
    if (input.method === 'passkey') return passkeySecondFactor(challenge, input.response, target, methods, client);
    const used = await twoFactor.verifyCode(userId, input.code, { method: input.method, methods });
    if (used === null) return failSecondFactor(target, client, input.method ?? 'any');
    // Single use: of two requests that both passed the code check, one completes the challenge.
    await twoFactor.completeLoginChallenge(challenge);
    await audit.record({
      ...client,
      type: used === 'backup_code' ? 'mfa.backup_code_used' : 'mfa.used',
      userId,
      detail: { method: used },
    });
    // The first step (a password, or a passkey without user verification) opened the challenge.
    return finishLogin(
      {
        user: await accounts.getUser(userId, methods),
        target,
        amr: [challenge.firstFactor, 'otp'],
        detail: { method: used },
      },
      client,
    );
  }

  // Second factor, passkey: passkey-second-factor.ts, on this flow's finish.
  const passkeySecondFactor = createPasskeySecondFactor(deps, finishLogin);

  const setupRequired = createSetupRequired(deps);

  // REQUIRE_2FA's set-up finished: mfa-setup.ts, on this flow's attempt and finish.
  const setupCompletedStep = createSetupCompleted(deps, { spendAttempt, finishLogin });

  return { passwordStep, passkeyStep, afterFirstFactor, secondFactorStep, setupCompletedStep };
}
