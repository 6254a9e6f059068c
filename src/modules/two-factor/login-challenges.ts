import type { Clock } from '../../lib/clock.js';
import { randomToken, sha256Hex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import { unknownIfAccountGone } from '../accounts/account-gone.js';
import type { TwoFactorRepository } from './two-factor.repository.js';
import type { FactorMethod } from './require-2fa.js';

/** A login's second step must follow its password step within 5 minutes (the mfa_token's life). */
export const MFA_TOKEN_TTL_SECONDS = 300;

/** A login waiting for its second factor (a row of mfa_flows, found by its token's hash). */
export interface LoginChallenge {
  tokenHash: string;
  userId: number;
  /** What the first step proved (RFC 8176): a password, or a passkey without user verification. */
  firstFactor: FirstFactor;
}

export type FirstFactor = 'pwd' | 'hwk';

/** The mfa_token between a login's password step and its second step (the login flow drives them). */
export interface LoginChallenges {
  /**
   * A login whose password was right waits for its second factor: a new mfa_token, and the methods
   * to offer; `invalid_credentials` when the account was deleted meanwhile (account-gone.ts).
   */
  startLoginChallenge(
    userId: number,
    methods: FactorMethod[],
    firstFactor?: FirstFactor,
  ): Promise<{ mfaToken: string; methods: string[]; expiresIn: number }>;
  /** The live (unconsumed, unexpired) challenge of an mfa_token, or `mfa_token_invalid`. */
  findLoginChallenge(mfaToken: string): Promise<LoginChallenge>;
  /** Spends one of the challenge's code attempts before the code is checked, or `mfa_token_invalid`. */
  spendLoginChallengeAttempt(challenge: LoginChallenge): Promise<void>;
  /**
   * Single use: of two requests whose code was right, one completes the challenge; the other gets `mfa_token_invalid`.
   */
  completeLoginChallenge(challenge: LoginChallenge): Promise<void>;
}

export function createLoginChallenges(repository: TwoFactorRepository, clock: Clock): LoginChallenges {
  const nowMs = (): number => clock.now().getTime();
  const invalidChallenge = (): AppError => new AppError('mfa_token_invalid');
  return {
    async startLoginChallenge(userId, methods, firstFactor = 'pwd') {
      const mfaToken = randomToken(32);
      const now = nowMs();
      // Only the token's hash is stored: a copy of the table does not let anyone finish a login.
      await unknownIfAccountGone(
        repository.insertFlow(sha256Hex(mfaToken), userId, now, now + MFA_TOKEN_TTL_SECONDS * 1000, firstFactor),
      );
      const backupCodes = await repository.countBackupCodes(userId);
      return {
        mfaToken,
        methods: backupCodes > 0 ? [...methods, 'backup_code'] : [...methods],
        expiresIn: MFA_TOKEN_TTL_SECONDS,
      };
    },

    async findLoginChallenge(mfaToken) {
      const tokenHash = sha256Hex(mfaToken);
      const flow = await repository.findFlow(tokenHash);
      if (!flow || flow.consumed_at !== null || flow.expires_at <= nowMs()) throw invalidChallenge();
      return { tokenHash, userId: flow.user_id, firstFactor: flow.first_factor === 'hwk' ? 'hwk' : 'pwd' };
    },

    async spendLoginChallengeAttempt({ tokenHash }) {
      if (!(await repository.reserveFlowAttempt(tokenHash, nowMs()))) throw invalidChallenge();
    },

    async completeLoginChallenge({ tokenHash }) {
      if (!(await repository.consumeFlow(tokenHash, nowMs()))) throw invalidChallenge();
    },
  };
}
