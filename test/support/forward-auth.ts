import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/http/server.js';
import { PASSWORD } from './app.js';

/** The settings the forward-auth suites run with: Twofold at auth.example.com, applications under example.com. */
export const FORWARD_ENV = {
  PUBLIC_URL: 'https://auth.example.com',
  SESSION_COOKIE_DOMAIN: 'example.com',
  FORWARD_AUTH_DOMAINS: 'example.com',
  FORWARD_AUTH_RULES: 'admin.example.com=admin; secure.example.com=mfa; *.ops.example.com=admin+mfa',
};

export const BROWSER = { 'x-requested-with': 'twofold' };

export function setCookies(response: LightMyRequestResponse): string[] {
  return ([] as string[]).concat(response.headers['set-cookie'] ?? []);
}

/** The `twofold_session` Set-Cookie line of an answer, if any. */
export function sessionCookieLine(response: LightMyRequestResponse): string | undefined {
  return setCookies(response).find((line) => line.startsWith('twofold_session='));
}

/** The cookie's value from its Set-Cookie line. */
export function sessionCookieOf(response: LightMyRequestResponse): string {
  const line = sessionCookieLine(response);
  const value = line?.split(';')[0]?.slice('twofold_session='.length);
  if (!value) throw new Error(`no session cookie in ${JSON.stringify(setCookies(response))}`);
  return value;
}

/** The refresh cookie's value from an answer. */
export function refreshCookieOf(response: LightMyRequestResponse): string {
  const line = setCookies(response).find((l) => l.startsWith('twofold_refresh='));
  const value = line?.split(';')[0]?.slice('twofold_refresh='.length);
  if (!value) throw new Error('no refresh cookie');
  return value;
}

/** A browser's password sign-in (the CSRF header sent), as the web UI does it. */
export function browserLogin(app: App, username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/login', headers: BROWSER, payload: { username, password } });
}

/** The proxy's question: the browser's cookie, and the address the person asked for (Traefik's headers). */
export function forward(
  app: App,
  cookie: string | undefined,
  options: { url?: string; redirect?: boolean; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (cookie !== undefined) headers.cookie = `twofold_session=${cookie}`;
  if (options.url !== undefined) {
    const url = new URL(options.url);
    headers['x-forwarded-proto'] = url.protocol.slice(0, -1);
    headers['x-forwarded-host'] = url.host;
    headers['x-forwarded-uri'] = `${url.pathname}${url.search}`;
  }
  return app.inject({
    method: 'GET',
    url: options.redirect ? '/api/auth/forward?redirect=1' : '/api/auth/forward',
    headers,
  });
}
