import type { ForwardAuthRule } from '../../config-forward-auth.js';

/**
 * Which addresses forward authentication may send a browser to, and which rule guards a host. Every decision is
 * made on the address as the WHATWG URL Standard parses it — the parser browsers use — and the redirect carries
 * that parsed address, so what was checked is where the browser goes: `https://evil.com\@example.com`,
 * `https://example.com@evil.com` and `https://evil.com?.example.com` all have the host evil.com here as in the
 * browser (OWASP Unvalidated Redirects and Forwards Cheat Sheet: allow-list the destination, never match strings).
 */

/** Whether `hostname` (as URL parses it: lowercase, punycode) is one of `domains` or a host under one. */
export function hostUnder(hostname: string, domains: readonly string[]): boolean {
  return domains.some((domain) => hostname === domain || hostname.endsWith(`.${domain}`));
}

/**
 * `raw` as a URL the sign-in page may return to: https (or http when Twofold itself is served over http, for
 * development), no user name or password in it, and its host under FORWARD_AUTH_DOMAINS. Undefined otherwise.
 */
export function returnUrl(raw: string, options: { domains: readonly string[]; publicUrl: string }): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const schemes = new URL(options.publicUrl).protocol === 'http:' ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return undefined;
  // Credentials in the address are a classic disguise for the real host; no protected page needs them.
  if (url.username !== '' || url.password !== '') return undefined;
  return hostUnder(url.hostname, options.domains) ? url : undefined;
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  // A header sent twice is ambiguous (which one did the proxy set?): none is taken.
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The address the person asked the proxy for: nginx's `X-Original-URL` (set in its configuration), or Traefik's and
 * Caddy's `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Uri`. Undefined when the proxy named none or
 * named one that is not an http(s) URL.
 */
export function originalUrl(headers: Headers): URL | undefined {
  const original = single(headers, 'x-original-url');
  const proto = single(headers, 'x-forwarded-proto');
  const host = single(headers, 'x-forwarded-host');
  const uri = single(headers, 'x-forwarded-uri') ?? '/';
  const raw = original ?? (proto !== undefined && host !== undefined ? `${proto}://${host}${uri}` : undefined);
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The rule for `hostname`: its own, else the most specific `*.domain` above it, else none (signing in is enough). */
export function ruleFor(hostname: string, rules: readonly ForwardAuthRule[]): ForwardAuthRule | undefined {
  const exact = rules.find((rule) => rule.host === hostname);
  if (exact) return exact;
  let best: ForwardAuthRule | undefined;
  for (const rule of rules) {
    if (!rule.host.startsWith('*.') || !hostname.endsWith(rule.host.slice(1))) continue;
    if (!best || rule.host.length > best.host.length) best = rule;
  }
  return best;
}
