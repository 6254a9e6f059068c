import type { ClientInfo } from '../../http/client-info.js';
import { randomToken } from '../../lib/crypto.js';
import type { LockoutClient } from '../lockout/lockout.service.js';
import type { FactorsPassed, FirstFactorPassed, LoginFlowDeps, LoginTokens } from './login.flow.js';
import type { FlowSteps } from './passkey-step.js';
import { MFA_SETUP_SCOPE } from '../two-factor/require-2fa.js';
import type { FactorMethod } from '../two-factor/require-2fa.js';

/**
 * The answer instead of tokens when REQUIRE_2FA covers an account without a second factor: a set-up
 * token (a restricted access token, no session) and the factors it may set up.
 */
export interface MfaSetupRequired {
  mfa_setup_required: true;
  setup_token: string;
  expires_in: number;
  mfa_methods: FactorMethod[];
}

/** A set-up token's grant, and the factor whose set-up completes it. */
export interface SetupGrant {
  userId: number;
  grantId: string;
  method: 'totp' | 'email';
  /** What the sign-in that asked for the set-up proved (the set-up token's `amr`): a password or a passkey. */
  firstFactor?: 'pwd' | 'hwk';
}

/**
 * The login flow's step when REQUIRE_2FA covers the account and it has no second factor: no
 * session, only a set-up token (docs/security.md, "Required second factor"). Like a challenge, the
 * right password is no failure, but earlier failures stay counted until the set-up completes the
 * sign-in (login.flow's `setupCompletedStep`).
 */
export function createSetupRequired(
  deps: Pick<LoginFlowDeps, 'lockout' | 'twoFactor' | 'tokens' | 'audit' | 'metrics' | 'mailConfigured'>,
): (state: FirstFactorPassed, client: ClientInfo) => Promise<MfaSetupRequired> {
  return async function setupRequired({ account, target, amr }, client) {
    await deps.lockout.refund(target);
    const grantId = randomToken(16);
    const firstFactor = amr.includes('hwk') ? 'hwk' : 'pwd';
    const { expiresIn } = await deps.twoFactor.openSetupGrant(account.id, grantId, firstFactor);
    const setupToken = await deps.tokens.signRestrictedToken({
      userId: account.id,
      username: account.username,
      role: account.role,
      amr,
      scope: MFA_SETUP_SCOPE,
      jti: grantId,
      ttlSeconds: expiresIn,
    });
    deps.metrics.logins.inc({ outcome: 'mfa_setup_required' });
    await deps.audit.record({ ...client, type: 'mfa.setup_required', userId: account.id });
    // Email codes only where a code can arrive: a verified address, and mail this server can send.
    const email = account.email !== null && Boolean(account.email_verified) && deps.mailConfigured;
    return {
      mfa_setup_required: true,
      setup_token: setupToken,
      expires_in: expiresIn,
      mfa_methods: email ? ['totp', 'email'] : ['totp'],
    };
  };
}

/**
 * The second factor a set-up token's holder has just set up (proven by its code) completes the
 * sign-in that asked for it: the grant is spent once (a guarded UPDATE), then the session opens as
 * after a second factor, through the flow's `finishLogin`; null when it was spent already.
 */
export function createSetupCompleted(
  deps: Pick<LoginFlowDeps, 'accounts' | 'lockout' | 'twoFactor'>,
  { spendAttempt, finishLogin }: Pick<FlowSteps, 'spendAttempt' | 'finishLogin'>,
): (grant: SetupGrant, client: LockoutClient & ClientInfo) => Promise<LoginTokens | null> {
  return async function setupCompletedStep({ userId, grantId, method, firstFactor = 'pwd' }, client) {
    // Spent like a second factor's attempt, so an account an administrator locked meanwhile stays locked.
    const target = deps.lockout.targetFor(userId, client);
    await spendAttempt(target, client);
    if (!(await deps.twoFactor.completeSetupGrant(grantId))) {
      await deps.lockout.refund(target);
      return null;
    }
    // The set-up's code proved the new factor; the sign-in that asked for it, its first factor.
    const methods = await deps.twoFactor.methodsOf(userId);
    const passed: FactorsPassed = {
      user: await deps.accounts.getUser(userId, methods),
      target,
      amr: [firstFactor, 'otp'],
      detail: { method, setup: 'true' },
    };
    return finishLogin(passed, client);
  };
}
