import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hash,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Bytes from the CSPRNG, taken from a 4 KiB batch (as crypto.randomUUID does): one call into
 * OpenSSL per 4 KiB instead of one per token. A batch is never refilled in place, and every
 * byte is handed out once.
 */
const BATCH_BYTES = 4096;
let batch = Buffer.alloc(0);
let batchOffset = 0;

function batchedRandomBytes(bytes: number): Buffer {
  if (bytes > BATCH_BYTES) return randomBytes(bytes);
  if (batchOffset + bytes > batch.length) {
    batch = randomBytes(BATCH_BYTES);
    batchOffset = 0;
  }
  const out = batch.subarray(batchOffset, batchOffset + bytes);
  batchOffset += bytes;
  return out;
}

/** A random opaque token, base64url. 32 bytes = 256 bits (copenhagen: at least 112 bits). */
export function randomToken(bytes = 32): string {
  return batchedRandomBytes(bytes).toString('base64url');
}

/**
 * A random identifier in lowercase hex: unlike base64url it never begins with "-", which a
 * command line would read as an option, and it survives case-insensitive comparison.
 */
export function randomHexId(bytes = 16): string {
  return batchedRandomBytes(bytes).toString('hex');
}

/**
 * Node's one-shot `crypto.hash` (no Hash object per call: about half the time of createHash for a
 * token-sized input); run on every authenticated request and every refresh.
 */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Constant-time comparison of two strings; hashes first so the length does not leak either. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = hash('sha256', a, 'buffer');
  const right = hash('sha256', b, 'buffer');
  return timingSafeEqual(left, right);
}

/**
 * A keyed hash for short codes (email codes, backup codes): without the key a stolen table cannot be brute-forced
 * offline.
 */
export function hmacHex(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** `digits` decimal digits, uniformly from the CSPRNG (crypto.randomInt has no modulo bias). */
export function randomDigits(digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += String(randomInt(10));
  return out;
}

const SEALED_VERSION = 'v1';

/**
 * AES-256-GCM with a fresh 96-bit IV per call (NIST SP 800-38D §8.2); `associatedData` binds the
 * ciphertext to its owner (e.g. the user id), so it cannot be moved to another row.
 */
export function seal(key: Buffer, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    SEALED_VERSION,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

/** Opens what `seal` produced; throws on a wrong key, wrong associated data or tampering. */
export function unseal(key: Buffer, sealed: string, associatedData: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== SEALED_VERSION || !iv || !tag || ciphertext === undefined)
    throw new Error('unrecognised sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** A sub-key for one purpose (HKDF-SHA256, RFC 5869), so one configured key never serves two uses. */
export function deriveKey(key: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), `twofold:${purpose}`, 32));
}
