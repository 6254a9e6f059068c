import type { ClientInfo } from '../../http/client-info.js';
import { AppError } from '../../lib/errors.js';
import type { LockTarget } from '../lockout/lockout.service.js';
import type { PendingAssertion } from '../passkeys/passkey-assertions.js';
import type {
  FactorsPassed,
  FirstFactorPassed,
  LoginFlowDeps,
  LoginTokens,
  MfaChallenge,
  MfaSetupRequired,
} from './login.flow.js';

/** What the passkey step borrows from the flow it belongs to. */
export interface FlowSteps {
  spendAttempt(target: LockTarget, client: ClientInfo): Promise<void>;
  finishLogin(state: FactorsPassed, client: ClientInfo): Promise<LoginTokens>;
  afterFirstFactor(
    state: FirstFactorPassed,
    client: ClientInfo,
  ): Promise<LoginTokens | MfaChallenge | MfaSetupRequired>;
}

export function createPasskeyStep(
  deps: Pick<LoginFlowDeps, 'accounts' | 'lockout' | 'twoFactor' | 'audit' | 'metrics'>,
  { spendAttempt, finishLogin, afterFirstFactor }: FlowSteps,
): (pending: PendingAssertion, client: ClientInfo) => Promise<LoginTokens | MfaChallenge | MfaSetupRequired> {
  const { accounts, lockout, twoFactor, audit, metrics } = deps;

  /**
   * First factor, passkey (WebAuthn). A failed assertion is a guess like a wrong password: it spends
   * the owner's budget and the per-IP limit. An authenticator that verified the person (the UV flag,
   * a PIN or biometric on the device, WebAuthn Level 3 §6.1) proves possession and that person:
   * RFC 8176 `hwk` + `mfa`, and the sign-in finishes (NIST SP 800-63B §5.1.9: a multi-factor
   * cryptographic authenticator). Without UV it is one factor (`hwk`) and goes on as after a password.
   */
  async function passkeyStep(
    pending: PendingAssertion,
    client: ClientInfo,
  ): Promise<LoginTokens | MfaChallenge | MfaSetupRequired> {
    const target = lockout.targetFor(pending.userId, client);
    await spendAttempt(target, client);
    const outcome = await pending.verify(client);
    const account = outcome.ok ? await accounts.findById(pending.userId) : undefined;
    if (!outcome.ok || account === undefined) {
      const reason = outcome.ok ? 'unknown_user' : `passkey_${outcome.reason}`;
      await audit.record({ ...client, type: 'login.failed', userId: pending.userId, detail: { reason } });
      metrics.logins.inc({ outcome: 'invalid_credentials' });
      await lockout.failed(target, client);
      throw new AppError('invalid_credentials');
    }
    const methods = await twoFactor.methodsOf(account.id);
    const detail = { method: 'passkey', passkey_id: String(pending.passkeyId) };
    if (outcome.userVerified)
      return finishLogin(
        { user: await accounts.presentUser(account, methods), target, amr: ['hwk', 'mfa'], detail },
        client,
      );
    return afterFirstFactor({ account, target, amr: ['hwk'], methods }, client);
  }

  return passkeyStep;
}
