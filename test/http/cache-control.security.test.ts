import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { loadApiDocument, urlOf } from '../support/openapi.js';

/**
 * Answers carrying tokens, codes, secrets or personal data must not be kept by any cache
 * (RFC 6749 §5.1, OWASP REST Security Cheat Sheet; the HTTP contract "Security rules"). Checked on every
 * operation of the published document, so a new route is covered without being listed.
 */

function expectNoStore(response: LightMyRequestResponse, what: string): void {
  expect(response.headers['cache-control'], what).toBe('no-store');
  expect(response.headers.pragma, what).toBe('no-cache');
}

describe('no answer with personal data or secrets is cacheable (sqlite)', () => {
  let t: TestApp;
  let user: Session & { username: string };

  beforeAll(async () => {
    t = await buildTestApp();
    user = await signUp(t.app, uniqueName('cache'));
  });
  afterAll(async () => t?.close());

  it('sends Cache-Control: no-store and Pragma: no-cache on every operation of the API, signed in or not, success or error', async () => {
    const { operations } = await loadApiDocument(t.app);
    expect(operations.length).toBeGreaterThan(30);
    for (const operation of operations.filter((o) => o.path !== '/.well-known/jwks.json')) {
      for (const headers of [user.auth, {}]) {
        const response = await t.app.inject({
          method: operation.method,
          url: urlOf(operation.path, { id: 999999 }),
          headers,
          ...(operation.bodySchema ? { payload: {} } : {}),
        });
        expectNoStore(response, `${operation.key} → ${response.statusCode}`);
      }
    }
  });

  it('sends no-store with the tokens of a login, a new account, and the user profile', async () => {
    const username = uniqueName('cache');
    expectNoStore(
      await t.app.inject({ method: 'POST', url: '/register', payload: { username, password: PASSWORD } }),
      'register',
    );
    const signedIn = await t.app.inject({ method: 'POST', url: '/login', payload: { username, password: PASSWORD } });
    expect(signedIn.statusCode).toBe(200);
    expectNoStore(signedIn, 'login');
    expectNoStore(
      await t.app.inject({ url: '/protected', headers: { authorization: `Bearer ${signedIn.json().access_token}` } }),
      'protected',
    );
    expectNoStore(await t.app.inject({ url: '/no/such/route' }), 'not found');
    expectNoStore(await t.app.inject({ url: '/openapi.json' }), 'openapi');
  });

  it('leaves public, static files cacheable: the published keys and the API docs assets', async () => {
    const jwks = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    expect(jwks.headers.pragma).toBeUndefined();
    const asset = await t.app.inject({ url: '/docs/static/swagger-ui.css' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).not.toBe('no-store');
    expect(asset.headers.pragma).toBeUndefined();
  });
});
