import { hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { werkzeugHashes } from '../../test/support/legacy-hashes.js';
import { createArgon2Hasher } from './password-hasher.js';
import { passwordScheme, verifyLegacyPassword } from './password-schemes.js';

const PASSWORD = 'correct horse bätterý 🐴';
const hasher = createArgon2Hasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });

// Hashes made by Python's hashlib in Werkzeug's exact formats (test/support/legacy-hashes.ts).
const [pbkdf2Sha256, pbkdf2Sha512, pbkdf2Sha1, scryptDefault, scryptSmall] = werkzeugHashes([
  { method: 'pbkdf2:sha256:600000', password: PASSWORD },
  { method: 'pbkdf2:sha512:1000', password: PASSWORD },
  { method: 'pbkdf2:sha1:1000', password: PASSWORD, salt: 'NaCl' },
  { method: 'scrypt:32768:8:1', password: PASSWORD },
  { method: 'scrypt:16384:8:1', password: PASSWORD },
]) as [string, string, string, string, string];

describe('imported password hashes', () => {
  it.each([
    ['Werkzeug pbkdf2:sha256 (600,000 iterations, the current default)', pbkdf2Sha256],
    ['Werkzeug pbkdf2:sha512', pbkdf2Sha512],
    ['Werkzeug pbkdf2:sha1 with a chosen salt', pbkdf2Sha1],
    ['Werkzeug scrypt (the ≥ 2.3 default, N=32768 r=8 p=1)', scryptDefault],
    ['Werkzeug scrypt N=16384', scryptSmall],
    ['bcrypt $2b$ (passlib)', bcrypt.hashSync(PASSWORD, 4)],
    ['bcrypt $2a$', bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2a$')],
    ['bcrypt $2y$ (PHP)', bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2y$')],
  ])('%s: the right password passes, a wrong one fails', async (_name, stored) => {
    expect(passwordScheme(stored)).not.toBeNull();
    expect(await verifyLegacyPassword(stored, PASSWORD)).toBe(true);
    expect(await verifyLegacyPassword(stored, `${PASSWORD}x`)).toBe(false);
    expect(await verifyLegacyPassword(stored, '')).toBe(false);
    // Through the service's hasher too, and an imported hash always asks for a rehash.
    expect(await hasher.verify(stored, PASSWORD)).toBe(true);
    expect(hasher.needsRehash(stored)).toBe(true);
  });

  it('names each scheme', () => {
    expect(passwordScheme(pbkdf2Sha256)).toBe('werkzeug-pbkdf2');
    expect(passwordScheme(scryptDefault)).toBe('werkzeug-scrypt');
    expect(passwordScheme(bcrypt.hashSync('x', 4))).toBe('bcrypt');
  });

  it('verifies argon2 PHC strings of every variant, and rehashes all but argon2id at the configured parameters', async () => {
    const argon2i = await hash(PASSWORD, { algorithm: 1, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const strongerArgon2id = await hash(PASSWORD, { algorithm: 2, memoryCost: 2048, timeCost: 1, parallelism: 1 });
    const current = await hasher.hash(PASSWORD);
    for (const stored of [argon2i, strongerArgon2id, current]) {
      expect(passwordScheme(stored)).toBe('argon2');
      expect(await hasher.verify(stored, PASSWORD)).toBe(true);
      expect(await hasher.verify(stored, 'wrong')).toBe(false);
    }
    expect(hasher.needsRehash(argon2i)).toBe(true);
    expect(hasher.needsRehash(strongerArgon2id)).toBe(true);
    expect(hasher.needsRehash(current)).toBe(false);
  });

  it.each([
    ['an MD5 hex digest', '5f4dcc3b5aa765d61d8327deb882cf99'],
    ['plain text', 'hunter2'],
    [
      'Werkzeug plain sha256 (pre-pbkdf2 format)',
      'sha256$salt$5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99',
    ],
    ['pbkdf2 with an unknown digest', 'pbkdf2:md5:1000$salt$5f4dcc3b5aa765d61d8327deb882cf99'],
    ['pbkdf2 without an iteration count', 'pbkdf2:sha256$salt$5f4dcc3b5aa765d61d8327deb882cf99'],
    ['pbkdf2 with zero iterations', 'pbkdf2:sha256:0$salt$5f4dcc3b5aa765d61d8327deb882cf99'],
    ['pbkdf2 with odd-length hex', 'pbkdf2:sha256:1000$salt$5f4'],
    ['scrypt with N not a power of two', 'scrypt:1000:8:1$salt$5f4dcc3b5aa765d61d8327deb882cf99'],
    ['scrypt that would need gigabytes of memory', 'scrypt:1048576:64:8$salt$5f4dcc3b5aa765d61d8327deb882cf99'],
    ['bcrypt with a truncated body', '$2b$12$abc'],
    ['bcrypt with cost 99', `$2b$99$${'a'.repeat(53)}`],
    ['a Django pbkdf2 hash', 'pbkdf2_sha256$600000$salt$c29tZWhhc2g='],
    ['an empty string', ''],
  ])('refuses %s: no scheme, never verifies, never asks for a rehash', async (_name, stored) => {
    expect(passwordScheme(stored)).toBeNull();
    expect(await verifyLegacyPassword(stored, 'hunter2')).toBe(false);
    expect(await hasher.verify(stored, 'hunter2')).toBe(false);
    expect(hasher.needsRehash(stored)).toBe(false);
  });
});
