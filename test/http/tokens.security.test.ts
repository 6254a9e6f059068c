import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  CompactSign,
  SignJWT,
  base64url,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRETS, buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';

/**
 * Every way of presenting an access token this service did not issue, unchanged, for this
 * audience and still in date ends in 401 `unauthorized`, and /token/verify names the reason.
 */

const HS256_SECRET = new TextEncoder().encode(TEST_SECRETS.JWT_SECRET);
const OTHER_SECRET = new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256-xyz');

type Reason = 'expired' | 'invalid_signature' | 'malformed' | 'revoked';

interface Forge {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: Parameters<SignJWT['sign']>[0];
  /** Claims to drop from the copy of the real token. */
  without?: string[];
}

function encodeJSON(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('access tokens (HS256) on sqlite', () => {
  let t: TestApp;
  let session: Session & { username: string };
  let realClaims: JWTPayload;

  beforeAll(async () => {
    t = await buildTestApp();
    session = await signUp(t.app);
    realClaims = decodeJwt(session.accessToken);
  });
  afterAll(async () => t?.close());

  /** A token with the real token's claims (a live session), changed as asked, then signed. */
  async function forge({ claims = {}, header = {}, key = HS256_SECRET, without = [] }: Forge = {}): Promise<string> {
    const payload: Record<string, unknown> = { ...realClaims, ...claims };
    for (const name of without) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header } as { alg: string })
      .sign(key);
  }

  async function me(token: string): Promise<{ status: number; body: { error?: string; message?: string } }> {
    const response = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${token}` } });
    return { status: response.statusCode, body: response.json() };
  }

  async function verify(token: string): Promise<{ valid: boolean; reason?: Reason; claims?: Record<string, unknown> }> {
    const response = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  async function expectRefused(token: string, reason: Reason): Promise<void> {
    const answer = await me(token);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(await verify(token)).toEqual({ valid: false, reason });
  }

  it('a token built by the test with the right key and claims is accepted (the forgeries below differ only in what they name)', async () => {
    const token = await forge();
    expect((await me(token)).status).toBe(200);
    expect(await verify(token)).toMatchObject({ valid: true, claims: { sub: String(session.userId) } });
  });

  it('a token with alg none is refused', async () => {
    const [, payload, signature] = session.accessToken.split('.');
    const header = encodeJSON({ alg: 'none', typ: 'at+jwt' });
    await expectRefused(`${header}.${payload}.`, 'invalid_signature');
    await expectRefused(`${header}.${payload}.${signature}`, 'invalid_signature');
    await expectRefused(`${encodeJSON({ alg: 'None', typ: 'at+jwt' })}.${payload}.`, 'invalid_signature');
  });

  it('a token whose signature is stripped is refused', async () => {
    const [header, payload] = session.accessToken.split('.');
    await expectRefused(`${header}.${payload}.`, 'invalid_signature');
  });

  it('a token signed with a different HS256 secret is refused', async () => {
    await expectRefused(await forge({ key: OTHER_SECRET }), 'invalid_signature');
  });

  it('a token signed with the right secret under another HMAC algorithm is refused (algorithm allow-list)', async () => {
    await expectRefused(await forge({ header: { alg: 'HS512' } }), 'invalid_signature');
    await expectRefused(await forge({ header: { alg: 'HS384' } }), 'invalid_signature');
  });

  it('a token with a changed claim and the original signature is refused', async () => {
    const [header, payload, signature] = session.accessToken.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
    for (const change of [
      { role: 'admin' },
      { sub: String(Number(claims.sub) + 1) },
      { sid: claims.sid + 1 },
      { exp: claims.exp + 86400 },
      { amr: ['pwd', 'otp'] },
    ]) {
      const tampered = `${header}.${encodeJSON({ ...claims, ...change })}.${signature}`;
      expect(tampered).not.toBe(session.accessToken);
      await expectRefused(tampered, 'invalid_signature');
    }
  });

  it('a token from the right key for another issuer or audience is refused', async () => {
    await expectRefused(await forge({ claims: { iss: 'someone-else' } }), 'invalid_signature');
    await expectRefused(await forge({ claims: { aud: 'another-api' } }), 'invalid_signature');
    await expectRefused(await forge({ without: ['iss'] }), 'invalid_signature');
    await expectRefused(await forge({ without: ['aud'] }), 'invalid_signature');
  });

  it('a token with a typ other than at+jwt is refused (RFC 9068)', async () => {
    await expectRefused(await forge({ header: { typ: 'JWT' } }), 'invalid_signature');
    await expectRefused(await forge({ header: { typ: 'refresh+jwt' } }), 'invalid_signature');
    await expectRefused(await forge({ header: { typ: undefined } }), 'invalid_signature');
  });

  it('a token missing a required claim is refused', async () => {
    for (const claim of ['sub', 'sid', 'exp', 'iat', 'jti']) {
      const token = await forge({ without: [claim] });
      expect((await me(token)).status, claim).toBe(401);
      expect((await verify(token)).valid, claim).toBe(false);
    }
  });

  it('a correctly signed token with claims of the wrong type is refused as malformed', async () => {
    await expectRefused(await forge({ claims: { sid: String(realClaims.sid) } }), 'malformed');
    await expectRefused(await forge({ claims: { sub: 'admin' } }), 'malformed');
    await expectRefused(await forge({ claims: { amr: 'pwd' } }), 'malformed');
  });

  it('a correctly signed token whose payload is not JSON is refused as malformed', async () => {
    const token = await new CompactSign(new TextEncoder().encode('not json'))
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(HS256_SECRET);
    await expectRefused(token, 'malformed');
  });

  it('a correctly signed token naming a session that does not exist is refused as revoked', async () => {
    await expectRefused(await forge({ claims: { sid: 2_000_000_000 } }), 'revoked');
  });

  it('an expired token is refused, and is valid until its exp', async () => {
    const exp = realClaims.exp! * 1000;
    const start = t.clock.now().getTime();
    try {
      t.clock.set(new Date(exp - 1000));
      expect((await me(session.accessToken)).status).toBe(200);
      t.clock.set(new Date(exp));
      await expectRefused(session.accessToken, 'expired');
      t.clock.advance(86_400_000);
      await expectRefused(session.accessToken, 'expired');
      // Re-signing with a later exp needs the key: without it the token stays refused.
      const [header, payload, signature] = session.accessToken.split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
      await expectRefused(
        `${header}.${encodeJSON({ ...claims, exp: claims.exp + 2 * 86400 })}.${signature}`,
        'invalid_signature',
      );
    } finally {
      t.clock.set(new Date(start));
    }
    expect((await me(session.accessToken)).status).toBe(200);
  });

  it.each([
    'garbage',
    'a.b.c',
    'a.b',
    'a.b.c.d.e',
    '...',
    'eyJhbGciOiJIUzI1NiJ9',
    `${'A'.repeat(100)}.${'B'.repeat(100)}.${'C'.repeat(43)}`,
  ])('a garbage string %j is refused as malformed', async (token) => {
    await expectRefused(token, 'malformed');
  });

  it('a JWE (encrypted token) in place of a JWS is refused', async () => {
    const jwe = `${encodeJSON({ alg: 'dir', enc: 'A256GCM' })}..${base64url.encode('iv-iv-iv-iv!')}.${base64url.encode('ciphertext')}.${base64url.encode('tag-tag-tag-tag!')}`;
    const answer = await me(jwe);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('unauthorized');
    expect((await verify(jwe)).valid).toBe(false);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty Bearer', 'Bearer '],
    ['Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['the token without the Bearer scheme', 'TOKEN'],
    ['two tokens', 'Bearer TOKEN TOKEN'],
  ])('a request with %s is refused', async (_label, header) => {
    const headers = header === undefined ? {} : { authorization: header.replace(/TOKEN/g, session.accessToken) };
    const response = await t.app.inject({ url: '/api/user/me', headers });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  it('an EdDSA token is refused by an HS256 server', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await expectRefused(await forge({ header: { alg: 'EdDSA' }, key: privateKey }), 'invalid_signature');
  });

  it('the JWKS of an HS256 server is empty and never carries the secret', async () => {
    const response = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ keys: [] });
    expect(response.body).not.toContain(TEST_SECRETS.JWT_SECRET);
    expect(response.body).not.toContain(base64url.encode(HS256_SECRET));
  });
});

describe('access tokens (EdDSA) on sqlite', () => {
  let t: TestApp;
  let session: Session & { username: string };

  beforeAll(async () => {
    t = await buildTestApp({ env: { JWT_ALG: 'EdDSA' } });
    session = await signUp(t.app);
  });
  afterAll(async () => t?.close());

  async function jwks(): Promise<{ keys: JWK[] }> {
    const response = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  async function expectRefused(token: string, reason: Reason): Promise<void> {
    const response = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toBe('unauthorized');
    const verified = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token } });
    expect(verified.json()).toEqual({ valid: false, reason });
  }

  it('signs access tokens with EdDSA and a kid, and they work', async () => {
    const header = decodeProtectedHeader(session.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    expect(header.kid!.length).toBeGreaterThan(0);
    expect((await t.app.inject({ url: '/api/user/me', headers: session.auth })).statusCode).toBe(200);
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/verify',
      payload: { token: session.accessToken },
    });
    expect(verified.json()).toMatchObject({
      valid: true,
      claims: { sub: String(session.userId), iss: 'twofold', aud: 'twofold-api' },
    });
  });

  it('publishes exactly one public Ed25519 key with the tokens kid, and no private part', async () => {
    const response = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    const set = response.json() as { keys: JWK[] };
    expect(set.keys).toHaveLength(1);
    const [key] = set.keys;
    expect(key).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: decodeProtectedHeader(session.accessToken).kid,
      x: expect.any(String),
    });
    expect(key).not.toHaveProperty('d');
    expect(base64url.decode(key!.x!)).toHaveLength(32);
  });

  it('a token verifies against the published JWKS with a standard client (jose createLocalJWKSet)', async () => {
    const { payload, protectedHeader } = await jwtVerify(session.accessToken, createLocalJWKSet(await jwks()), {
      issuer: 'twofold',
      audience: 'twofold-api',
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      currentDate: t.clock.now(),
    });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({
      sub: String(session.userId),
      username: session.username,
      role: 'user',
      amr: ['pwd'],
    });
  });

  it('an HS256 token signed with the public key bytes is refused (algorithm confusion)', async () => {
    const [jwk] = (await jwks()).keys;
    const claims = decodeJwt(session.accessToken);
    const spkiPem = createPublicKey({ key: jwk as JWK & { kty: string }, format: 'jwk' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const spkiDer = createPublicKey({ key: jwk as JWK & { kty: string }, format: 'jwk' }).export({
      format: 'der',
      type: 'spki',
    });
    const candidates = [
      base64url.decode(jwk!.x!),
      new TextEncoder().encode(spkiPem),
      new Uint8Array(spkiDer),
      new TextEncoder().encode(JSON.stringify(jwk)),
      new TextEncoder().encode(jwk!.x!),
    ];
    for (const key of candidates) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk!.kid })
        .sign(key);
      await expectRefused(token, 'invalid_signature');
    }
  });

  it('an HS256 token signed with JWT_SECRET is refused once the server signs with EdDSA', async () => {
    const claims = decodeJwt(session.accessToken);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(HS256_SECRET);
    await expectRefused(token, 'invalid_signature');
  });

  it('a token signed by another Ed25519 key under the published kid is refused', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const claims = decodeJwt(session.accessToken);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: decodeProtectedHeader(session.accessToken).kid! })
      .sign(privateKey);
    await expectRefused(token, 'invalid_signature');
  });

  it('a token with alg none is refused', async () => {
    const [, payload] = session.accessToken.split('.');
    await expectRefused(`${encodeJSON({ alg: 'none', typ: 'at+jwt' })}.${payload}.`, 'invalid_signature');
  });

  it('an expired EdDSA token is refused as expired', async () => {
    const start = t.clock.now().getTime();
    try {
      t.clock.set(new Date(decodeJwt(session.accessToken).exp! * 1000));
      await expectRefused(session.accessToken, 'expired');
    } finally {
      t.clock.set(new Date(start));
    }
  });
});
