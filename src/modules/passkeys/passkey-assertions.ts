import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../lib/clock.js';
import { randomToken, sha256Hex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { PasskeyRow, PasskeysRepository } from './passkeys.repository.js';
import {
  CHALLENGE_TTL_SECONDS,
  challengeOf,
  counterWentBackwards,
  transportsOf,
  userHandleOf,
  type RelyingParty,
} from './webauthn.js';

/** Whether the assertion's signature held, and whether the authenticator verified the person (the UV flag). */
export type AssertionOutcome =
  { ok: true; userVerified: boolean; passkeyId: number } | { ok: false; reason: 'signature' | 'counter_anomaly' };

/**
 * A sign-in assertion whose flow is spent and whose credential is known: the account it names is
 * known before any signature is checked, so the caller can spend that account's lockout budget first.
 */
export interface PendingAssertion {
  userId: number;
  passkeyId: number;
  verify(client: AuditContext): Promise<AssertionOutcome>;
}

export interface PasskeyAssertions {
  /** Options for a passwordless sign-in, and the flow token that carries its challenge to the verify request. */
  loginOptions(
    username: string | undefined,
  ): Promise<{ flow_token: string; options: PublicKeyCredentialRequestOptionsJSON }>;
  /** Spends the flow (single use) and finds the credential; 401 invalid_credentials when either is not there. */
  openAssertion(flowToken: string, response: AuthenticationResponseJSON): Promise<PendingAssertion>;
  /**
   * Options for an assertion by a known account (the second step of a sign-in, a re-authentication):
   * the account's own credentials, and a challenge bound to `bindKey` (the mfa_token's hash, or the
   * session) and to the account. User verification is `discouraged` when another factor is proven.
   */
  accountOptions(
    userId: number,
    bindKey: string,
    userVerification: 'discouraged' | 'preferred',
  ): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Checks such an assertion: its challenge must be one of `accountOptions` for this key and account
   * (spent here, once), its credential the account's own, its signature good.
   */
  verifyAccountAssertion(
    userId: number,
    bindKey: string,
    response: AuthenticationResponseJSON,
    client: AuditContext,
  ): Promise<AssertionOutcome | { ok: false; reason: 'challenge' | 'credential' }>;
}

/** The purpose of a challenge for an assertion by a known account (second step, re-authentication). */
const ACCOUNT = 'account';

/** Such a challenge is found by what it is bound to and its own value. */
const accountKey = (bindKey: string, challenge: string): string => sha256Hex(`account:${bindKey}:${challenge}`);

interface AssertionDeps {
  repository: PasskeysRepository;
  accounts: Pick<AccountsService, 'findByUsername'>;
  audit: AuditService;
  clock: Clock;
  relyingParty: RelyingParty;
  userHandleKey: Uint8Array;
}

export function createPasskeyAssertions({
  repository,
  accounts,
  audit,
  clock,
  relyingParty,
  userHandleKey,
}: AssertionDeps): PasskeyAssertions {
  const nowMs = (): number => clock.now().getTime();
  const refused = (): AppError => new AppError('invalid_credentials');

  async function verifyWith(
    passkey: PasskeyRow,
    challenge: string,
    response: AuthenticationResponseJSON,
    client: AuditContext,
  ): Promise<AssertionOutcome> {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: [...relyingParty.origins],
      expectedRPID: relyingParty.rpId,
      // The counter is compared below, after the signature, with the spec's rule and an audit line.
      credential: {
        id: passkey.credential_id,
        publicKey: Buffer.from(passkey.public_key, 'base64url'),
        counter: 0,
      },
      requireUserVerification: false,
    }).catch(() => ({ verified: false, authenticationInfo: undefined }));
    const info = verification.authenticationInfo;
    if (!verification.verified || info === undefined) return { ok: false, reason: 'signature' };
    const moved =
      !counterWentBackwards(passkey.counter, info.newCounter) &&
      (await repository.recordUse(passkey.id, passkey.counter, info.newCounter, info.credentialBackedUp, nowMs()));
    if (!moved) {
      // A signed counter at or below the stored one: a cloned authenticator, or a replay that
      // lost the race to the same signature (WebAuthn Level 3, §6.1.1 and §7.2 step 22).
      await audit.record({
        ip: client.ip ?? null,
        userAgent: client.userAgent ?? null,
        type: 'passkey.counter_anomaly',
        userId: passkey.user_id,
        detail: { passkey_id: passkey.id, stored: passkey.counter, received: info.newCounter },
      });
      return { ok: false, reason: 'counter_anomaly' };
    }
    return { ok: true, userVerified: info.userVerified, passkeyId: passkey.id };
  }

  return {
    async loginOptions(username) {
      // The answer has the same shape whether the name has an account, a passkey, or neither: no
      // allowCredentials ever (the credentials are discoverable), so it reveals nothing (OWASP
      // Authentication Cheat Sheet, account enumeration). A name only binds the flow to its account.
      const account = username === undefined ? undefined : await accounts.findByUsername(username);
      const options = await generateAuthenticationOptions({
        rpID: relyingParty.rpId,
        allowCredentials: [],
        userVerification: 'preferred',
        timeout: CHALLENGE_TTL_SECONDS * 1000,
      });
      const flowToken = randomToken();
      const now = nowMs();
      await repository.saveChallenge({
        key_hash: sha256Hex(flowToken),
        user_id: account?.id ?? null,
        purpose: username === undefined ? 'login' : 'login_user',
        challenge: options.challenge,
        created_at: now,
        expires_at: now + CHALLENGE_TTL_SECONDS * 1000,
      });
      return { flow_token: flowToken, options };
    },

    async openAssertion(flowToken, response) {
      const keyHash = sha256Hex(flowToken);
      const now = nowMs();
      const flow = await repository.findChallenge(keyHash, ['login', 'login_user'], now);
      // Single use before anything else is looked at: a replayed or raced flow token gets nothing (§13.4.3).
      if (!flow || !(await repository.spendChallenge(keyHash, now))) throw refused();
      // The signed challenge must be this flow's (a response made for another flow's options is refused).
      if (challengeOf(response.response.clientDataJSON) !== flow.challenge) throw refused();
      const passkey = await repository.findByCredentialKey(sha256Hex(response.id));
      if (!passkey) throw refused();
      // A flow opened for a name accepts that account's passkeys only (none for a name without an account).
      if (flow.purpose === 'login_user' && flow.user_id !== passkey.user_id) throw refused();
      // The user handle, when the authenticator returns one, must be the credential owner's (§7.2 step 6).
      const { userHandle } = response.response;
      const ownersHandle = Buffer.from(userHandleOf(userHandleKey, passkey.user_id)).toString('base64url');
      if (userHandle !== undefined && userHandle !== ownersHandle) throw refused();
      return {
        userId: passkey.user_id,
        passkeyId: passkey.id,
        verify: (client) => verifyWith(passkey, flow.challenge, response, client),
      };
    },
    async accountOptions(userId, bindKey, userVerification) {
      const mine = await repository.listByUser(userId);
      // Without a passkey there is nothing to sign with: the step is not offered (mfa_methods lacks it).
      if (mine.length === 0) throw new AppError('mfa_not_enabled', { message: 'This account has no passkey.' });
      // The person is known here (the password named them), so the options list their credentials
      // (WebAuthn Level 3, §5.5 allowCredentials) and the authenticator need not hold a discoverable one.
      const options = await generateAuthenticationOptions({
        rpID: relyingParty.rpId,
        allowCredentials: mine.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
        userVerification,
        timeout: CHALLENGE_TTL_SECONDS * 1000,
      });
      const now = nowMs();
      await repository.saveChallenge({
        key_hash: accountKey(bindKey, options.challenge),
        user_id: userId,
        purpose: ACCOUNT,
        challenge: options.challenge,
        created_at: now,
        expires_at: now + CHALLENGE_TTL_SECONDS * 1000,
      });
      return options;
    },

    async verifyAccountAssertion(userId, bindKey, response, client) {
      const challenge = challengeOf(response.response.clientDataJSON);
      if (challenge === undefined) return { ok: false, reason: 'challenge' };
      const keyHash = accountKey(bindKey, challenge);
      const now = nowMs();
      const stored = await repository.findChallenge(keyHash, [ACCOUNT], now);
      // Another flow's, session's or account's challenge is not found under this key; found, it is
      // spent before the signature is checked, so a replayed assertion gets nothing (§13.4.3).
      if (stored?.user_id !== userId || !(await repository.spendChallenge(keyHash, now)))
        return { ok: false, reason: 'challenge' };
      const passkey = await repository.findByCredentialKey(sha256Hex(response.id));
      // Only the account's own credentials were offered; another account's passkey proves nothing here.
      if (passkey?.user_id !== userId) return { ok: false, reason: 'credential' };
      return verifyWith(passkey, stored.challenge, response, client);
    },
  };
}
