import { ConfigError, list, str } from './config-values.js';

// FORWARD_AUTH_DOMAINS, FORWARD_AUTH_RULES and SESSION_COOKIE_DOMAIN: forward authentication for reverse proxies
// (docs/forward-auth.md). Read and refused here, at start-up, so a typo never becomes an open door later.

/** The role a protected host asks for: `user` is any account, `admin` an administrator. */
export type ForwardAuthRole = 'user' | 'admin';

export interface ForwardAuthRule {
  /** A host (`grafana.example.com`) or every host under a domain (`*.example.com`), lowercase ASCII. */
  readonly host: string;
  readonly role: ForwardAuthRole;
  /** Two factors proven in the session (a password and a code, a password and a passkey, or a verified passkey). */
  readonly mfa: boolean;
}

export interface ForwardAuthConfig {
  /** Domains whose hosts (the domain itself and every host under it) the sign-in page may send people back to. */
  readonly domains: readonly string[];
  readonly rules: readonly ForwardAuthRule[];
  /** The `Domain` of the browser session cookie (a parent domain of PUBLIC_URL's host); undefined: host-only. */
  readonly sessionCookieDomain: string | undefined;
}

// A DNS name in ASCII (RFC 1123 §2.1 labels; internationalised names in their punycode form, RFC 5890).
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

function domainName(name: string, value: string, example: string): string {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(domain) || domain.length > 253)
    throw new ConfigError(
      `${name}: "${value}" is not a host name; write it as ${example} (no scheme, port or path; punycode for non-ASCII names).`,
    );
  return domain;
}

function parseRule(entry: string): ForwardAuthRule {
  const equals = entry.indexOf('=');
  const example = 'host=requirement, e.g. grafana.example.com=admin or *.example.com=user+mfa';
  if (equals === -1) throw new ConfigError(`FORWARD_AUTH_RULES: "${entry}" is not ${example}.`);
  const rawHost = entry.slice(0, equals).trim();
  const wildcard = rawHost.startsWith('*.');
  const host = domainName('FORWARD_AUTH_RULES', wildcard ? rawHost.slice(2) : rawHost, 'grafana.example.com');
  const parts = entry
    .slice(equals + 1)
    .split('+')
    .map((part) => part.trim().toLowerCase());
  let role: ForwardAuthRole | undefined;
  let mfa = false;
  for (const part of parts) {
    if (part === 'mfa' && !mfa) mfa = true;
    else if ((part === 'user' || part === 'admin') && role === undefined) role = part;
    else
      throw new ConfigError(
        `FORWARD_AUTH_RULES: "${entry}" asks for "${part}"; a requirement is user or admin and/or mfa, joined by + (user+mfa), each once.`,
      );
  }
  return Object.freeze({ host: wildcard ? `*.${host}` : host, role: role ?? 'user', mfa });
}

/** FORWARD_AUTH_RULES: `host=requirement` entries separated by `;` (`grafana.example.com=admin;*.example.com=mfa`). */
export function parseForwardAuthRules(value: string | undefined): ForwardAuthRule[] {
  const rules = (value ?? '')
    .split(';')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map(parseRule);
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.host)) throw new ConfigError(`FORWARD_AUTH_RULES names ${rule.host} twice; keep one rule.`);
    seen.add(rule.host);
  }
  return rules;
}

export function parseForwardAuth(env: Record<string, string | undefined>, publicUrl: string): ForwardAuthConfig {
  const domains = list(env.FORWARD_AUTH_DOMAINS).map((d) =>
    domainName('FORWARD_AUTH_DOMAINS', d.replace(/^\*?\./, ''), 'example.com'),
  );
  const cookieDomainValue = str(env.SESSION_COOKIE_DOMAIN);
  let sessionCookieDomain: string | undefined;
  if (cookieDomainValue !== undefined) {
    sessionCookieDomain = domainName('SESSION_COOKIE_DOMAIN', cookieDomainValue.replace(/^\./, ''), 'example.com');
    // RFC 6265 §5.3 step 6: a browser ignores a cookie whose Domain does not contain the host that set it.
    const host = new URL(publicUrl).hostname.toLowerCase();
    if (host !== sessionCookieDomain && !host.endsWith(`.${sessionCookieDomain}`))
      throw new ConfigError(
        `SESSION_COOKIE_DOMAIN (${sessionCookieDomain}) must be PUBLIC_URL's host (${host}) or a parent domain of it, or browsers drop the cookie.`,
      );
  }
  return Object.freeze({
    domains: Object.freeze(domains),
    rules: Object.freeze(parseForwardAuthRules(env.FORWARD_AUTH_RULES)),
    sessionCookieDomain,
  });
}
