import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { describe, expect, it } from 'vitest';
import { clearRefreshCookie, refreshCookieClearHeaders } from './refresh-cookie.js';
import { createSessionCookie } from './session-cookie.js';

/**
 * The Set-Cookie values written for an answer Fastify does not send (the OpenID Connect provider's) drop the
 * same cookies as Fastify's own clearing: same name, Path and Domain (RFC 6265 §5.3), expired.
 */
describe('clearing the browser cookies outside Fastify', () => {
  const attributesOf = (line: string): Record<string, string> =>
    Object.fromEntries(
      line.split(';').map((part) => {
        const [key = '', ...value] = part.trim().split('=');
        return [key.toLowerCase(), value.join('=')];
      }),
    );

  it.each([undefined, 'example.com'])('names the cookies as Fastify clears them (domain %s)', async (domain) => {
    const sessionCookie = createSessionCookie({ key: new Uint8Array(32), domain, maxAgeSeconds: 60 });
    const app = Fastify();
    await app.register(cookie);
    app.get('/', async (_request, reply) => {
      clearRefreshCookie(reply);
      sessionCookie.clear(reply);
      return '';
    });
    const fastifyLines = [(await app.inject({ url: '/' })).headers['set-cookie']].flat().map(String);
    await app.close();
    const ours = [...refreshCookieClearHeaders(), sessionCookie.clearHeader()];
    const key = (line: string) => {
      const [pair = ''] = line.split(';');
      const attributes = attributesOf(line);
      return [pair.split('=')[0], attributes.path, attributes.domain ?? null];
    };
    expect(ours.map(key).sort()).toEqual(fastifyLines.map(key).sort());
    for (const line of ours) {
      const attributes = attributesOf(line);
      expect(line.split(';')[0]).toMatch(/^\w+=$/);
      expect(attributes['max-age']).toBe('0');
      expect(new Date(attributes.expires ?? '').getTime()).toBe(0);
      expect('secure' in attributes).toBe(true);
    }
  });
});
