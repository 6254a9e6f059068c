import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-values.js';
import { parseForwardAuth } from './config-forward-auth.js';

const PUBLIC_URL = 'https://auth.example.com';

describe('the forward-auth settings', () => {
  it('reads domains, rules and the cookie domain, in lowercase', () => {
    const config = parseForwardAuth(
      {
        FORWARD_AUTH_DOMAINS: 'Example.com, .internal.example.org',
        FORWARD_AUTH_RULES: 'grafana.example.com=admin; *.ops.example.com = admin+MFA ;docs.example.com=mfa;',
        SESSION_COOKIE_DOMAIN: '.example.com',
      },
      PUBLIC_URL,
    );
    expect(config).toEqual({
      domains: ['example.com', 'internal.example.org'],
      rules: [
        { host: 'grafana.example.com', role: 'admin', mfa: false },
        { host: '*.ops.example.com', role: 'admin', mfa: true },
        { host: 'docs.example.com', role: 'user', mfa: true },
      ],
      sessionCookieDomain: 'example.com',
    });
    expect(parseForwardAuth({}, PUBLIC_URL)).toEqual({ domains: [], rules: [], sessionCookieDomain: undefined });
  });

  it.each([
    [
      { FORWARD_AUTH_DOMAINS: 'https://example.com' },
      /FORWARD_AUTH_DOMAINS: "https:\/\/example.com" is not a host name/,
    ],
    [{ FORWARD_AUTH_DOMAINS: 'example.com:443' }, /not a host name/],
    [{ FORWARD_AUTH_DOMAINS: 'exa mple.com' }, /not a host name/],
    [{ FORWARD_AUTH_RULES: 'grafana.example.com' }, /is not host=requirement/],
    [{ FORWARD_AUTH_RULES: 'grafana.example.com=root' }, /asks for "root"/],
    [{ FORWARD_AUTH_RULES: 'grafana.example.com=admin+user' }, /asks for "user"/],
    [{ FORWARD_AUTH_RULES: 'grafana.example.com=' }, /asks for ""/],
    [{ FORWARD_AUTH_RULES: '*=admin' }, /not a host name/],
    [{ FORWARD_AUTH_RULES: 'a.example.com=admin;A.example.com=mfa' }, /names a.example.com twice/],
    [{ SESSION_COOKIE_DOMAIN: 'example.org' }, /must be PUBLIC_URL's host \(auth.example.com\) or a parent domain/],
    [{ SESSION_COOKIE_DOMAIN: 'le.com' }, /parent domain/],
  ])('refuses %j at start-up with a message that says what to write', (env, message) => {
    expect(() => parseForwardAuth(env, PUBLIC_URL)).toThrow(ConfigError);
    expect(() => parseForwardAuth(env, PUBLIC_URL)).toThrow(message);
  });
});
