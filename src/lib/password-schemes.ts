import { pbkdf2, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import type * as Bcrypt from 'bcryptjs';
import { lazy } from './lazy.js';

// Loaded only when an imported bcrypt hash is checked.
const bcrypt = lazy<typeof Bcrypt>('bcryptjs');

/**
 * Password hash formats Twofold can verify. `argon2` is its own (PHC strings, any variant);
 * the others come from the original apps and are kept as they are until the user's next
 * successful login, which rehashes to argon2id.
 */
export type PasswordScheme = 'argon2' | 'werkzeug-pbkdf2' | 'werkzeug-scrypt' | 'bcrypt';

const PBKDF2_DIGESTS = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']);
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const HEX = /^(?:[0-9a-f]{2})+$/;

/** Werkzeug's `pbkdf2:<digest>:<iterations>$<salt>$<hex>` (generate_password_hash). */
const WERKZEUG_PBKDF2 = /^pbkdf2:([a-z0-9]+):(\d{1,8})\$([^$]*)\$([0-9a-f]+)$/;
/** Werkzeug ≥ 2.3's `scrypt:<N>:<r>:<p>$<salt>$<hex>`. */
const WERKZEUG_SCRYPT = /^scrypt:(\d{1,8}):(\d{1,3}):(\d{1,3})\$([^$]*)\$([0-9a-f]+)$/;
/** bcrypt's modular crypt format: `$2a$`, `$2b$` (passlib's default) or `$2y$` (PHP), cost, 53 characters. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
/** A PHC string of argon2i, argon2d or argon2id. */
const ARGON2 = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

interface Pbkdf2Hash {
  digest: string;
  iterations: number;
  salt: string;
  expected: Buffer;
}

interface ScryptHash {
  options: ScryptOptions;
  salt: string;
  expected: Buffer;
}

function parsePbkdf2(stored: string): Pbkdf2Hash | null {
  const match = WERKZEUG_PBKDF2.exec(stored);
  if (!match) return null;
  const [, digest = '', iterations = '', salt = '', hex = ''] = match;
  const count = Number(iterations);
  if (!PBKDF2_DIGESTS.has(digest) || count < 1 || count > MAX_PBKDF2_ITERATIONS || !HEX.test(hex)) return null;
  return { digest, iterations: count, salt, expected: Buffer.from(hex, 'hex') };
}

function parseScrypt(stored: string): ScryptHash | null {
  const match = WERKZEUG_SCRYPT.exec(stored);
  if (!match) return null;
  const [, n = '', r = '', p = '', salt = '', hex = ''] = match;
  const N = Number(n);
  const blockSize = Number(r);
  const parallelization = Number(p);
  // N must be a power of two above 1; the memory bound keeps a crafted hash from exhausting the host.
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  const memory = 128 * N * blockSize * parallelization;
  if (!powerOfTwo || blockSize < 1 || parallelization < 1 || memory > 1024 * 1024 * 1024 || !HEX.test(hex)) return null;
  // Werkzeug passes maxmem = 132 * N * r * p to hashlib.scrypt; OpenSSL needs a little headroom.
  return {
    options: { N, r: blockSize, p: parallelization, maxmem: 2 * memory + 1024 * 1024 },
    salt,
    expected: Buffer.from(hex, 'hex'),
  };
}

/** The scheme of a stored hash, or null for a format Twofold cannot verify. */
export function passwordScheme(stored: string): PasswordScheme | null {
  if (ARGON2.test(stored)) return 'argon2';
  if (parsePbkdf2(stored)) return 'werkzeug-pbkdf2';
  if (parseScrypt(stored)) return 'werkzeug-scrypt';
  if (BCRYPT.test(stored)) {
    const cost = Number(stored.slice(4, 6));
    return cost >= 4 && cost <= 31 ? 'bcrypt' : null;
  }
  return null;
}

function derive(run: (done: (error: Error | null, key: Buffer) => void) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => run((error, key) => (error ? reject(error) : resolve(key))));
}

function sameBytes(actual: Buffer, expected: Buffer): boolean {
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Verifies a password against a hash of one of the original apps' schemes (not argon2), with
 * the same inputs those libraries used: UTF-8 password and salt, the derived key compared in
 * constant time. PBKDF2 and scrypt run on the libuv thread pool. False for a wrong password
 * or an unreadable hash; never throws.
 */
export async function verifyLegacyPassword(stored: string, password: string): Promise<boolean> {
  try {
    const secret: BinaryLike = Buffer.from(password, 'utf8');
    const pbkdf2Hash = parsePbkdf2(stored);
    if (pbkdf2Hash) {
      const { digest, iterations, salt, expected } = pbkdf2Hash;
      const key = await derive((done) =>
        pbkdf2(secret, Buffer.from(salt, 'utf8'), iterations, expected.length, digest, done),
      );
      return sameBytes(key, expected);
    }
    const scryptHash = parseScrypt(stored);
    if (scryptHash) {
      const { options, salt, expected } = scryptHash;
      const key = await derive((done) => scrypt(secret, Buffer.from(salt, 'utf8'), expected.length, options, done));
      return sameBytes(key, expected);
    }
    if (passwordScheme(stored) === 'bcrypt') return await bcrypt().compare(password, stored);
    return false;
  } catch {
    return false;
  }
}
