import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { ClientInfo } from '../../http/client-info.js';
import { AppError } from '../../lib/errors.js';
import type { AccountTarget } from '../lockout/lockout.service.js';
import type { FactorMethod } from '../two-factor/require-2fa.js';
import type { LoginChallenge } from '../two-factor/two-factor.service.js';
import type { FactorsPassed, LoginFlowDeps, LoginTokens } from './login.flow.js';

/** What a second step's passkey challenge is bound to: the login challenge (its mfa_token's hash). */
export const secondStepKey = (challenge: LoginChallenge): string => `mfa:${challenge.tokenHash}`;

export function createPasskeySecondFactor(
  deps: Pick<LoginFlowDeps, 'accounts' | 'lockout' | 'twoFactor' | 'audit' | 'metrics' | 'passkeys'>,
  finishLogin: (state: FactorsPassed, client: ClientInfo) => Promise<LoginTokens>,
): (
  challenge: LoginChallenge,
  response: AuthenticationResponseJSON,
  target: AccountTarget,
  methods: FactorMethod[],
  client: ClientInfo,
) => Promise<LoginTokens> {
  const { accounts, lockout, twoFactor, audit, metrics } = deps;

  /**
   * Second factor, passkey: the attempts are spent already (the challenge's and the account's). A
   * refused assertion (another flow's challenge, a replay, another account's credential, a bad
   * signature) is a failed second factor like a wrong code. After a password it adds `hwk`.
   */
  async function passkeySecondFactor(
    challenge: LoginChallenge,
    response: AuthenticationResponseJSON,
    target: AccountTarget,
    methods: FactorMethod[],
    client: ClientInfo,
  ): Promise<LoginTokens> {
    const { userId } = challenge;
    // A passkey opened this challenge: the second factor must be of another kind.
    const outcome =
      challenge.firstFactor === 'hwk'
        ? ({ ok: false, reason: 'first_factor' } as const)
        : await deps.passkeys.verifyAccountAssertion(userId, secondStepKey(challenge), response, client);
    if (!outcome.ok) {
      await audit.record({
        ...client,
        type: 'mfa.failed',
        userId,
        detail: { method: 'passkey', reason: outcome.reason },
      });
      await lockout.failed(target, client);
      metrics.logins.inc({ outcome: 'invalid_mfa_code' });
      throw new AppError('invalid_mfa_code');
    }
    await twoFactor.completeLoginChallenge(challenge);
    const detail = { method: 'passkey', passkey_id: String(outcome.passkeyId) };
    await audit.record({ ...client, type: 'mfa.used', userId, detail });
    return finishLogin(
      { user: await accounts.getUser(userId, methods), target, amr: [challenge.firstFactor, 'hwk'], detail },
      client,
    );
  }

  return passkeySecondFactor;
}
