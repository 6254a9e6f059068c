import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createManualClock } from '../../src/lib/clock.js';
import {
  MAX_IAT_SKEW_SECONDS,
  TokenVerificationError,
  createTokenService,
} from '../../src/modules/tokens/tokens.service.js';

/**
 * The token service on its own, with a manual clock: the edges the HTTP suites cannot reach
 * exactly (RFC 7519 §4.1.4 `exp` and §4.1.6 `iat`, claim types, the verified-token cache).
 */
const SECRET = new TextEncoder().encode('unit-test-secret-that-is-long-enough-for-hs256');
const NOW_S = 1_800_000_000;
const jwt = (overrides: Partial<Config['jwt']> = {}): Config['jwt'] => ({
  alg: 'HS256',
  secret: SECRET,
  privateKeyPem: undefined,
  issuer: 'twofold',
  audience: 'twofold-api',
  accessTokenTtlSeconds: 600,
  refreshTokenTtlSeconds: 3600,
  ...overrides,
});
const subject = {
  userId: 7,
  username: 'alice',
  role: 'user',
  sessionId: 3,
  amr: ['pwd'],
  authenticatedAtMs: NOW_S * 1000,
};

function setup(): { clock: ReturnType<typeof createManualClock>; tokens: ReturnType<typeof createTokenService> } {
  const clock = createManualClock(new Date(NOW_S * 1000));
  return { clock, tokens: createTokenService({ jwt: jwt(), clock }) };
}

/** A token with valid claims for this service, changed as asked, signed with its secret. */
function forge(claims: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = {
    sub: '7',
    username: 'alice',
    role: 'user',
    sid: 3,
    amr: ['pwd'],
    auth_time: NOW_S,
    jti: 'j',
    iss: 'twofold',
    aud: 'twofold-api',
    iat: NOW_S,
    exp: NOW_S + 600,
  };
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) delete payload[name];
    else payload[name] = value;
  }
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(SECRET);
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenVerificationError);
  return (error as TokenVerificationError).reason;
}

describe('token service', () => {
  it('names the reason in its error', () => {
    const error = new TokenVerificationError('expired');
    expect(error.name).toBe('TokenVerificationError');
    expect(error.message).toBe('access token expired');
  });

  it('accepts an iat up to MAX_IAT_SKEW_SECONDS ahead of its clock, and refuses one further ahead as not ours', async () => {
    const { tokens } = setup();
    expect(MAX_IAT_SKEW_SECONDS).toBe(60);
    await expect(tokens.verifyAccessToken(await forge({ iat: NOW_S + 60 }))).resolves.toMatchObject({ sub: '7' });
    expect(await reason(tokens.verifyAccessToken(await forge({ iat: NOW_S + 61 })))).toBe('invalid_signature');
  });

  it('expires a verified token at exp, from the cache as from a first verification', async () => {
    const { clock, tokens } = setup();
    const { token } = await tokens.signAccessToken(subject);
    clock.set(new Date((NOW_S + 599) * 1000));
    const claims = await tokens.verifyAccessToken(token);
    expect(Object.isFrozen(claims)).toBe(true);
    expect(await tokens.verifyAccessToken(token)).toBe(claims);
    clock.set(new Date((NOW_S + 600) * 1000));
    expect(await reason(tokens.verifyAccessToken(token))).toBe('expired');
    expect(await reason(setup().tokens.verifyAccessToken(await forge({ exp: NOW_S })))).toBe('expired');
  });

  it('signs the subject, a new jti, iat, exp = iat + TTL and auth_time in seconds', async () => {
    const { tokens } = setup();
    const { token, expiresInSeconds } = await tokens.signAccessToken({
      ...subject,
      authenticatedAtMs: NOW_S * 1000 - 1500,
    });
    expect(expiresInSeconds).toBe(600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const claims = await tokens.verifyAccessToken(token);
    expect(claims).toMatchObject({
      sub: '7',
      username: 'alice',
      role: 'user',
      sid: 3,
      amr: ['pwd'],
      iat: NOW_S,
      exp: NOW_S + 600,
      auth_time: NOW_S - 2,
      iss: 'twofold',
      aud: 'twofold-api',
    });
    const again = await tokens.verifyAccessToken((await tokens.signAccessToken(subject)).token);
    expect(again.jti).not.toBe(claims.jti);
  });

  it('accepts a token without auth_time (issued before it existed), and refuses claims of the wrong shape as malformed', async () => {
    const { tokens } = setup();
    await expect(tokens.verifyAccessToken(await forge({ auth_time: undefined }))).resolves.toMatchObject({ sub: '7' });
    for (const claims of [
      { sub: '7a' },
      { sub: 'a7' },
      { sub: '' },
      { sid: '3' },
      { username: 7 },
      { role: ['user'] },
      { amr: 'pwd' },
      { auth_time: 1.5 },
      { auth_time: '1' },
    ]) {
      expect(await reason(tokens.verifyAccessToken(await forge(claims))), JSON.stringify(claims)).toBe('malformed');
    }
  });

  it('publishes no key for HS256, and for EdDSA one key whose kid the tokens carry', async () => {
    expect(await setup().tokens.jwks()).toEqual({ keys: [] });
    const privateKeyPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const clock = createManualClock(new Date(NOW_S * 1000));
    const tokens = createTokenService({ jwt: jwt({ alg: 'EdDSA', privateKeyPem }), clock });
    const { keys } = await tokens.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
    const { token } = await tokens.signAccessToken(subject);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys[0]!.kid });
    await expect(tokens.verifyAccessToken(token)).resolves.toMatchObject({ sub: '7' });
  });

  it('refuses to start with EdDSA but no key, or a key that is not Ed25519', () => {
    const clock = createManualClock();
    expect(() => createTokenService({ jwt: jwt({ alg: 'EdDSA' }), clock })).toThrow(
      'JWT_ALG=EdDSA needs an Ed25519 private key',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => createTokenService({ jwt: jwt({ alg: 'EdDSA', privateKeyPem: rsa }), clock })).toThrow(
      'JWT_PRIVATE_KEY must be an Ed25519 key',
    );
  });
});
