import { hash, verify } from '@node-rs/argon2';
import { randomToken } from './crypto.js';
import { passwordScheme, verifyLegacyPassword } from './password-schemes.js';

// @node-rs/argon2's Algorithm is an ambient const enum; Argon2id is 2.
const ARGON2ID = 2;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * False for a wrong password and for a hash it cannot read; never throws on bad data.
   * Reads Twofold's argon2 hashes and the imported formats of the original apps (password-schemes.ts).
   */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when a stored hash is not argon2id with the configured parameters (an imported or older hash). */
  needsRehash(passwordHash: string): boolean;
  /** Spends the same time as a real verify, for unknown users (no account enumeration by timing). */
  verifyDummy(password: string): Promise<void>;
  readonly description: string;
}

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** argon2id via @node-rs/argon2, which hashes on the libuv thread pool, off the event loop. */
export function createArgon2Hasher(params: Argon2Params): PasswordHasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
  const currentPrefix = `$argon2id$v=19$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$`;
  let dummyHash: Promise<string> | undefined;
  return {
    description: `argon2id m=${params.memoryKiB} KiB t=${params.iterations} p=${params.parallelism}`,
    hash: (password) => hash(password, options),
    async verify(passwordHash, password) {
      if (passwordHash.startsWith('$argon2')) {
        try {
          return await verify(passwordHash, password);
        } catch {
          return false;
        }
      }
      return verifyLegacyPassword(passwordHash, password);
    },
    needsRehash: (passwordHash) => !passwordHash.startsWith(currentPrefix) && passwordScheme(passwordHash) !== null,
    async verifyDummy(password) {
      dummyHash ??= hash(randomToken(16), options);
      await verify(await dummyHash, password).catch(() => false);
    },
  };
}
