import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  errors as joseErrors,
  exportJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Config } from '../../config.js';
import { randomToken, sha256Hex } from '../../lib/crypto.js';
import { nowSeconds, type Clock } from '../../lib/clock.js';

export interface AccessTokenSubject {
  userId: number;
  username: string;
  role: string;
  sessionId: number;
  amr: string[];
  /** When the person last proved a password or second factor (epoch ms); becomes `auth_time`. */
  authenticatedAtMs: number;
}

export interface AccessClaims extends JWTPayload {
  sub: string;
  username: string;
  role: string;
  sid: number;
  amr: string[];
  jti: string;
  iat: number;
  exp: number;
  /** NumericDate of the last password or second-factor proof (OpenID Connect Core 1.0 §2); absent from older tokens. */
  auth_time?: number;
  /**
   * Only on a restricted token (RFC 8693 §4.2 `scope`): `mfa_setup` is a set-up token, which may only set up a
   * second factor. An access token of a session has none.
   */
  scope?: string;
}

/** A restricted token: no session (`sid` 0 names none), one scope, its own id and life. */
export interface RestrictedTokenSubject {
  userId: number;
  username: string;
  role: string;
  amr: string[];
  scope: string;
  /** The token's `jti`: the id of the grant it carries. */
  jti: string;
  ttlSeconds: number;
}

export type TokenFailure = 'expired' | 'invalid_signature' | 'malformed';

export class TokenVerificationError extends Error {
  constructor(readonly reason: TokenFailure) {
    super(`access token ${reason}`);
    this.name = 'TokenVerificationError';
  }
}

export interface TokenService {
  signAccessToken(subject: AccessTokenSubject): Promise<{ token: string; expiresInSeconds: number }>;
  /** A restricted access token (same key and checks as every access token) with a `scope` and a fresh `auth_time`. */
  signRestrictedToken(subject: RestrictedTokenSubject): Promise<string>;
  /** Verifies signature (algorithm allow-list), issuer, audience and expiry; throws TokenVerificationError. */
  verifyAccessToken(token: string): Promise<AccessClaims>;
  jwks(): Promise<{ keys: JWK[] }>;
}

// RFC 9068 media type: an access token cannot be confused with any other JWT we might issue.
const ACCESS_TOKEN_TYPE = 'at+jwt';

interface Keys {
  sign: Promise<webcrypto.CryptoKey> | KeyObject;
  verify: Promise<webcrypto.CryptoKey> | KeyObject;
  publicJwk: JWK | undefined;
}

/**
 * A token issued by this service carries an `iat` no later than our own clock; one from further
 * ahead than this skew is refused (RFC 7519 §4.1.6, with the usual 60 s allowance for clocks of
 * several machines that are not quite in step).
 */
export const MAX_IAT_SKEW_SECONDS = 60;

/** How many verified tokens are remembered (about half a KiB each); the set starts over when full. */
const VERIFIED_CACHE_SIZE = 10_000;

export function createTokenService(deps: { jwt: Config['jwt']; clock: Clock }): TokenService {
  const { jwt, clock } = deps;
  /**
   * A token's signature, issuer, audience and type never change, so a token already verified is
   * not verified again (an HMAC through WebCrypto is a thread-pool round trip per request): the
   * claims are kept under the SHA-256 of the exact token text, and only the expiry is checked
   * again. A changed byte is another key, verified from scratch. Revocation is checked by the
   * caller on every request, cached or not.
   */
  const verified = new Map<string, AccessClaims>();
  const keys = loadKeys(jwt);
  const publicJwks = buildJwks(keys.publicJwk);
  const kid = publicJwks.then((set) => set.keys[0]?.kid);

  async function sign(claims: Record<string, unknown>, userId: number, jti: string, ttl: number): Promise<string> {
    const iat = nowSeconds(clock);
    const header = { alg: jwt.alg, typ: ACCESS_TOKEN_TYPE, ...(jwt.alg === 'EdDSA' ? { kid: await kid } : {}) };
    return new SignJWT(claims)
      .setProtectedHeader(header)
      .setSubject(String(userId))
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(await keys.sign);
  }

  return {
    async signAccessToken(subject) {
      const token = await sign(
        {
          username: subject.username,
          role: subject.role,
          sid: subject.sessionId,
          amr: subject.amr,
          auth_time: Math.floor(subject.authenticatedAtMs / 1000),
        },
        subject.userId,
        randomToken(16),
        jwt.accessTokenTtlSeconds,
      );
      return { token, expiresInSeconds: jwt.accessTokenTtlSeconds };
    },
    signRestrictedToken: (subject) =>
      sign(
        {
          username: subject.username,
          role: subject.role,
          // Session ids start at 1 on every database: 0 names no session, so the token opens none.
          sid: 0,
          amr: subject.amr,
          auth_time: nowSeconds(clock),
          scope: subject.scope,
        },
        subject.userId,
        subject.jti,
        subject.ttlSeconds,
      ),
    async verifyAccessToken(token) {
      const cacheKey = sha256Hex(token);
      const known = verified.get(cacheKey);
      if (known) {
        // jose's rule: expired once exp <= now.
        if (known.exp <= nowSeconds(clock)) throw new TokenVerificationError('expired');
        return known;
      }
      try {
        const { payload } = await jwtVerify(token, await keys.verify, {
          algorithms: [jwt.alg],
          issuer: jwt.issuer,
          audience: jwt.audience,
          typ: ACCESS_TOKEN_TYPE,
          currentDate: clock.now(),
          requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
        });
        if (!isAccessClaims(payload)) throw new TokenVerificationError('malformed');
        // jose checks a future `iat` only together with maxTokenAge, whose clockTolerance would also
        // stretch `exp`; so the rule is applied here, after the signature is known to be ours.
        if (payload.iat > nowSeconds(clock) + MAX_IAT_SKEW_SECONDS)
          throw new TokenVerificationError('invalid_signature');
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
        verified.set(cacheKey, Object.freeze(payload));
        return payload;
      } catch (error) {
        throw new TokenVerificationError(failureReason(error));
      }
    },
    jwks: () => publicJwks,
  };
}

function loadKeys(jwt: Config['jwt']): Keys {
  if (jwt.alg === 'HS256') {
    // Imported once: given raw bytes, jose would import the key again for every token.
    const key = webcrypto.subtle.importKey('raw', jwt.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    return { sign: key, verify: key, publicJwk: undefined };
  }
  if (!jwt.privateKeyPem) throw new TypeError('JWT_ALG=EdDSA needs an Ed25519 private key');
  const privateKey = createPrivateKey(jwt.privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('JWT_PRIVATE_KEY must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  return { sign: privateKey, verify: publicKey, publicJwk: publicKey.export({ format: 'jwk' }) as JWK };
}

async function buildJwks(publicJwk: JWK | undefined): Promise<{ keys: JWK[] }> {
  if (!publicJwk) return { keys: [] };
  const jwk = await exportJWK(createPublicKey({ key: publicJwk, format: 'jwk' }));
  const kid = await calculateJwkThumbprint(jwk);
  return { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
}

function isAccessClaims(payload: JWTPayload): payload is AccessClaims {
  const p = payload as Record<string, unknown>;
  return (
    typeof p.sub === 'string' &&
    /^\d+$/.test(p.sub) &&
    typeof p.sid === 'number' &&
    typeof p.username === 'string' &&
    typeof p.role === 'string' &&
    Array.isArray(p.amr) &&
    (p.auth_time === undefined || Number.isSafeInteger(p.auth_time)) &&
    (p.scope === undefined || typeof p.scope === 'string')
  );
}

function failureReason(error: unknown): TokenFailure {
  if (error instanceof TokenVerificationError) return error.reason;
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  // A wrong key, a changed claim, a foreign algorithm (including `none`), issuer or audience:
  // the token was not issued by this service for this audience.
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JWTClaimValidationFailed
  ) {
    return 'invalid_signature';
  }
  return 'malformed';
}
