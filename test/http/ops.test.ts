import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import {
  PASSWORD,
  TEST_SECRETS,
  buildTestApp,
  fastHasher,
  login,
  register,
  signUp,
  uniqueName,
  type TestApp,
} from '../support/app.js';
import { createTestDatabase } from '../support/databases.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition into samples, so assertions do not depend on label order. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

describe('operations endpoints (sqlite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  async function metrics(): Promise<Sample[]> {
    const response = await t.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    return parseMetrics(response.body);
  }

  it('GET /healthz answers 200 while the process is alive', async () => {
    const response = await t.app.inject({ url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200, then 503 service_unavailable once the database is gone', async () => {
    const own = await buildTestApp();
    try {
      const ready = await own.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready' });

      await own.database.handle.close();
      const down = await own.app.inject({ url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ error: 'service_unavailable', message: expect.any(String) });
      expect(down.body).not.toMatch(/destroyed|sqlite|select/i);
      // Liveness does not depend on the database.
      expect((await own.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('GET /metrics is Prometheus text with request counts by route pattern and status', async () => {
    const session = await signUp(t.app);
    const before = await metrics();
    const product = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: session.auth,
      payload: { name: 'Metered', price: 1, quantity: 1 },
    });
    await t.app.inject({ url: `/api/products/${product.json().id}`, headers: session.auth });
    await t.app.inject({ url: '/api/products/2147483000', headers: session.auth });
    await t.app.inject({ url: '/no/such/route/abc123' });

    const response = await t.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('# TYPE twofold_http_requests_total counter');
    const after = parseMetrics(response.body);
    const delta = (labels: Record<string, string>): number =>
      sampleValue(after, 'twofold_http_requests_total', labels) -
      sampleValue(before, 'twofold_http_requests_total', labels);
    expect(delta({ method: 'POST', route: '/api/products', status: '201' })).toBe(1);
    // The route label is the pattern, never the concrete URL (bounded cardinality).
    expect(delta({ method: 'GET', route: '/api/products/:id', status: '200' })).toBe(1);
    expect(delta({ method: 'GET', route: '/api/products/:id', status: '404' })).toBe(1);
    expect(response.body).not.toContain('abc123');
    expect(response.body).not.toContain('2147483000');
  });

  it('GET /metrics counts logins by outcome', async () => {
    const { username } = await signUp(t.app);
    const before = await metrics();
    await login(t.app, username);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: 'not the password' },
    });
    expect(bad.statusCode).toBe(401);
    const after = await metrics();

    const logins = (outcome: string): number =>
      sampleValue(after, 'twofold_logins_total', { outcome }) -
      sampleValue(before, 'twofold_logins_total', { outcome });
    // signUp logged in once already, so "before" has a success too: compare the deltas.
    expect(logins('success')).toBe(1);
    expect(logins('invalid_credentials')).toBe(1);
    expect(after.some((s) => s.name === 'twofold_logins_total' && s.labels.outcome === 'success')).toBe(true);
    expect(after.some((s) => s.name === 'twofold_logins_total' && s.labels.outcome === 'invalid_credentials')).toBe(
      true,
    );
    const requests = (status: string): number =>
      sampleValue(after, 'twofold_http_requests_total', { method: 'POST', route: '/api/auth/login', status }) -
      sampleValue(before, 'twofold_http_requests_total', { method: 'POST', route: '/api/auth/login', status });
    expect(requests('200')).toBe(1);
    expect(requests('401')).toBe(1);
  });

  it('GET /openapi.json is an OpenAPI 3 document describing the API', async () => {
    const response = await t.app.inject({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });

    const loginBody = document.paths['/api/auth/login']?.post?.requestBody?.content?.['application/json']?.schema;
    expect(loginBody).toMatchObject({
      type: 'object',
      properties: { username: expect.any(Object), password: expect.any(Object) },
    });
    const productBody = document.paths['/api/products']?.post?.requestBody?.content?.['application/json']?.schema;
    expect(productBody).toMatchObject({
      type: 'object',
      properties: { name: expect.any(Object), price: expect.any(Object), quantity: expect.any(Object) },
    });
    expect(productBody.required).toEqual(expect.arrayContaining(['name', 'price', 'quantity']));
    expect(document.paths['/api/products'].get).toBeDefined();
    expect(document.paths['/api/products/{id}']).toBeDefined();
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('GET /docs serves the interactive documentation as HTML', async () => {
    for (const url of ['/docs', '/docs/']) {
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toMatch(/<html/i);
      expect(response.body).toContain('<title>Twofold API</title>');
      // Swagger UI sets style attributes from its script: a policy without 'unsafe-inline' for styles
      // makes the browser log a violation on every visit. Scripts stay limited to the page's own files.
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
      expect(csp).toMatch(/script-src 'self'\s*;/);
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  it('sends security headers on API responses, successful or not', async () => {
    const session = await signUp(t.app);
    const responses = [
      await t.app.inject({ url: '/api/products', headers: session.auth }),
      await t.app.inject({ url: '/api/products' }),
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'x', password: 'y' } }),
    ];
    for (const response of responses) {
      const headers = response.headers;
      expect(headers['x-content-type-options']).toBe('nosniff');
      // JSON is never a document: a policy that allows nothing (OWASP REST Security Cheat Sheet).
      expect(headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(headers['cache-control']).toBe('no-store');
      expect(headers['x-powered-by']).toBeUndefined();
      // Document-only headers stay with the pages.
      expect(headers['cross-origin-opener-policy']).toBeUndefined();
    }
  });

  it('keeps the whole document policy on answers outside the JSON API', async () => {
    const response = await t.app.inject({ url: '/no-such-page' });
    const csp = String(response.headers['content-security-policy'] ?? '');
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'self'/);
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  describe('CORS', () => {
    const preflight = (origin: string) => ({
      method: 'OPTIONS' as const,
      url: '/api/products',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

    it('answers a listed origin with its own name and credentials, and an unlisted one with nothing', async () => {
      const cors = await buildTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
      try {
        const allowed = await cors.app.inject(preflight('https://app.example.com'));
        expect(allowed.statusCode).toBeLessThan(300);
        expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(allowed.headers['access-control-allow-credentials']).toBe('true');
        expect(String(allowed.headers['access-control-allow-methods'])).toContain('POST');
        expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');

        const simple = await cors.app.inject({ url: '/healthz', headers: { origin: 'https://app.example.com' } });
        expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');

        const evil = await cors.app.inject(preflight('https://evil.example.com'));
        expect(evil.headers['access-control-allow-origin']).toBeUndefined();
        const evilSimple = await cors.app.inject({ url: '/healthz', headers: { origin: 'https://evil.example.com' } });
        expect(evilSimple.headers['access-control-allow-origin']).toBeUndefined();
        // A look-alike that merely starts with the allowed origin is not allowed either.
        const lookalike = await cors.app.inject(preflight('https://app.example.com.evil.example'));
        expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();
      } finally {
        await cors.close();
      }
    });

    it("allows no origin at all without CORS_ORIGINS: a preflight is not found, in the contract's format", async () => {
      const corsHeaders = (headers: Record<string, unknown>) =>
        Object.keys(headers).filter((name) => name.startsWith('access-control-'));
      const preflightResponse = await t.app.inject(preflight('https://app.example.com'));
      expect(preflightResponse.statusCode).toBe(404);
      expect(preflightResponse.json()).toMatchObject({ error: 'not_found' });
      expect(corsHeaders(preflightResponse.headers)).toEqual([]);
      const simple = await t.app.inject({ url: '/healthz', headers: { origin: 'https://app.example.com' } });
      expect(simple.statusCode).toBe(200);
      expect(corsHeaders(simple.headers)).toEqual([]);
    });
  });

  it('never writes a password, access token or refresh token to the log', async () => {
    const lines: string[] = [];
    const database = await createTestDatabase('sqlite');
    const config = loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, DATABASE_URL: database.url, LOG_LEVEL: 'trace' });
    const { app } = await createApp(config, {
      hasher: fastHasher,
      database: database.handle,
      logStream: { write: (line: string) => void lines.push(line) },
    });
    try {
      await app.ready();
      const username = uniqueName('logged');
      const newPassword = 'another secret passphrase 42';
      expect((await register(app, username)).statusCode).toBe(201);

      const loggedIn = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password: PASSWORD },
      });
      expect(loggedIn.statusCode).toBe(200);
      const { access_token: accessToken, refresh_token: refreshToken } = loggedIn.json();
      const auth = { authorization: `Bearer ${accessToken}` };
      expect((await app.inject({ url: '/api/user/me', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/api/products', headers: auth })).statusCode).toBe(200);
      await app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: accessToken } });
      await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password: 'a wrong password attempt' },
      });

      const browser = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'x-requested-with': 'twofold' },
        payload: { username, password: PASSWORD },
      });
      const cookieRefreshToken = browser.json().refresh_token as string;
      const setCookie = String(browser.headers['set-cookie'] ?? '');
      const byCookie = await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        headers: { 'x-requested-with': 'twofold', cookie: setCookie.split(';')[0] ?? '' },
        payload: {},
      });
      expect(byCookie.statusCode).toBe(200);

      const refreshed = await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refresh_token: refreshToken },
      });
      expect(refreshed.statusCode).toBe(200);
      const rotated = refreshed.json();
      const changed = await app.inject({
        method: 'POST',
        url: '/api/auth/password/change',
        headers: { authorization: `Bearer ${rotated.access_token}` },
        payload: { current_password: PASSWORD, new_password: newPassword },
      });
      expect(changed.statusCode).toBe(204);
      await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh_token: rotated.refresh_token } });

      const log = lines.join('');
      // The capture works: the request log lines are there, one per request with its path and status.
      const requestLines = lines.filter((line) => line.includes('"msg":"request completed"'));
      expect(requestLines).toHaveLength(11);
      expect(log).not.toContain('incoming request');
      expect(requestLines.find((line) => line.includes('/api/user/me'))).toMatch(/"res":\{"statusCode":200\}/);
      const secrets = {
        password: PASSWORD,
        newPassword,
        wrongPassword: 'a wrong password attempt',
        accessToken,
        accessTokenSignature: accessToken.split('.')[2],
        refreshToken,
        cookieRefreshToken,
        rotatedAccessToken: rotated.access_token,
        rotatedRefreshToken: rotated.refresh_token,
      };
      for (const [name, secret] of Object.entries(secrets)) {
        expect(secret, name).toEqual(expect.any(String));
        expect(log.includes(secret as string), `${name} appears in the log`).toBe(false);
      }
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
