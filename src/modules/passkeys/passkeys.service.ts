import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../lib/clock.js';
import { sha256Hex } from '../../lib/crypto.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import { createPasskeyAssertions, type PasskeyAssertions } from './passkey-assertions.js';
import type { PasskeyRow, PasskeysRepository } from './passkeys.repository.js';
import {
  CHALLENGE_TTL_SECONDS,
  DEFAULT_PASSKEY_NAME,
  MAX_PASSKEYS,
  SUPPORTED_ALGORITHMS,
  challengeOf,
  transportsOf,
  userHandleOf,
  type RelyingParty,
} from './webauthn.js';

/** The contract's `passkey`. */
export interface PasskeyView {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
  transports: string[];
}

export interface PasskeysDeps {
  repository: PasskeysRepository;
  accounts: Pick<AccountsService, 'findById' | 'findByUsername'>;
  audit: AuditService;
  clock: Clock;
  relyingParty: RelyingParty;
  /** Derives the opaque WebAuthn user handle from a user id (§14.6.1: no personal data in it). */
  userHandleKey: Uint8Array;
}

export interface PasskeysService extends PasskeyAssertions {
  registrationOptions(userId: number): Promise<PublicKeyCredentialCreationOptionsJSON>;
  register(
    userId: number,
    input: { response: RegistrationResponseJSON; name?: string | undefined },
    client: AuditContext,
  ): Promise<PasskeyView>;
  list(userId: number): Promise<{ passkeys: PasskeyView[] }>;
  rename(userId: number, id: number, name: string, client: AuditContext): Promise<PasskeyView>;
  remove(userId: number, id: number, client: AuditContext): Promise<void>;
  /** Whether the user has a passkey (`mfa_methods` names it). */
  hasPasskey(userId: number): Promise<boolean>;
  /** How many passkeys each user has (the administration's list). */
  countByUsers(userIds: readonly number[]): Promise<Map<number, number>>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function presentPasskey(row: PasskeyRow): PasskeyView {
  const transports: string[] = transportsOf(row);
  return {
    id: row.id,
    name: row.name,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: iso(row.last_used_at),
    backed_up: row.backed_up === 1,
    transports,
  };
}

/** A refused registration: the same answer whatever was wrong, so nothing is learnt from trying. */
const notAccepted = (): AppError =>
  validationError({ response: 'is not a valid passkey for this challenge; ask for new options and try again' });

export function createPasskeysService(deps: PasskeysDeps): PasskeysService {
  const { repository, audit, clock, relyingParty } = deps;
  const nowMs = (): number => clock.now().getTime();
  const who = (client: AuditContext): AuditContext => ({ ip: client.ip ?? null, userAgent: client.userAgent ?? null });

  return {
    ...createPasskeyAssertions(deps),

    async registrationOptions(userId) {
      const account = await deps.accounts.findById(userId);
      if (!account) throw new AppError('unauthorized');
      const existing = await repository.listByUser(userId);
      const options = await generateRegistrationOptions({
        rpName: relyingParty.rpName,
        rpID: relyingParty.rpId,
        userName: account.username,
        userDisplayName: account.username,
        userID: userHandleOf(deps.userHandleKey, userId),
        timeout: CHALLENGE_TTL_SECONDS * 1000,
        attestationType: 'none',
        // A discoverable credential is what lets a person sign in without typing a name (§6.2.2).
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
        // The same authenticator is not registered twice (§5.4, excludeCredentials).
        excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
      const now = nowMs();
      // A registration's challenge is its own key: the verify request carries it in clientDataJSON.
      await repository.saveChallenge({
        key_hash: sha256Hex(options.challenge),
        user_id: userId,
        purpose: 'register',
        challenge: options.challenge,
        created_at: now,
        expires_at: now + CHALLENGE_TTL_SECONDS * 1000,
      });
      return options;
    },

    async register(userId, { response, name }, client) {
      const challenge = challengeOf(response.response.clientDataJSON);
      if (challenge === undefined) throw notAccepted();
      const keyHash = sha256Hex(challenge);
      const now = nowMs();
      const stored = await repository.findChallenge(keyHash, ['register'], now);
      // Another user's challenge is no challenge of this user's; spent once, whatever follows (§13.4.3).
      if (stored?.user_id !== userId || !(await repository.spendChallenge(keyHash, now))) throw notAccepted();
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: stored.challenge,
        expectedOrigin: [...relyingParty.origins],
        expectedRPID: relyingParty.rpId,
        requireUserVerification: false,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      }).catch(() => ({ verified: false as const }));
      if (!verification.verified) throw notAccepted();
      const info = verification.registrationInfo;
      const saved = await repository.insert(
        {
          user_id: userId,
          credential_key: sha256Hex(info.credential.id),
          credential_id: info.credential.id,
          public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
          counter: info.credential.counter,
          transports: JSON.stringify(info.credential.transports ?? response.response.transports ?? []),
          backed_up: info.credentialBackedUp ? 1 : 0,
          device_type: info.credentialDeviceType,
          aaguid: info.aaguid,
          name: name?.trim() || DEFAULT_PASSKEY_NAME,
          created_at: now,
        },
        MAX_PASSKEYS,
      );
      if (saved === 'full') throw new AppError('too_many_passkeys');
      if (saved === 'duplicate') throw new AppError('passkey_already_registered');
      await audit.record({ ...who(client), type: 'passkey.registered', userId, detail: { passkey_id: saved.id } });
      return presentPasskey(saved);
    },

    async list(userId) {
      return { passkeys: (await repository.listByUser(userId)).map(presentPasskey) };
    },

    async rename(userId, id, name, client) {
      const row = await repository.rename(userId, id, name.trim());
      if (!row) throw new AppError('not_found');
      await audit.record({ ...who(client), type: 'passkey.renamed', userId, detail: { passkey_id: id } });
      return presentPasskey(row);
    },

    async remove(userId, id, client) {
      if (!(await repository.remove(userId, id))) throw new AppError('not_found');
      await audit.record({ ...who(client), type: 'passkey.removed', userId, detail: { passkey_id: id } });
    },

    hasPasskey: (userId) => repository.hasAny(userId),
    countByUsers: (userIds) => repository.countByUsers(userIds),
  };
}
