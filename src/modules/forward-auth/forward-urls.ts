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

/** A header's one value; null when it came more than once (which one did the proxy set?). */
function single(headers: Headers, name: string): string | undefined | null {
  const value = headers[name];
  if (Array.isArray(value)) return null;
  return value === undefined || value === '' ? undefined : value;
}

function httpUrl(raw: string): URL | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** The proxy's headers named no address, or named it in ways that disagree: neither can be trusted. */
export type OriginalUrl = URL | 'none' | 'ambiguous';

/**
 * The address the person asked the proxy for: nginx's `X-Original-URL` (set in its configuration), or Traefik's and
 * Caddy's `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Uri`. Each proxy sets (and overwrites) only its
 * own kind and passes the client's other headers through, so a client can add the other kind: when both are there
 * they must name the same host, or the answer is `ambiguous` — as it is for a header sent twice or one that is no
 * http(s) address. Otherwise a request for a host with a rule could claim to be for a host without one.
 */
export function originalUrl(headers: Headers): OriginalUrl {
  const original = single(headers, 'x-original-url');
  const host = single(headers, 'x-forwarded-host');
  const proto = single(headers, 'x-forwarded-proto');
  const uri = single(headers, 'x-forwarded-uri');
  if (original === null || host === null || proto === null || uri === null) return 'ambiguous';
  const fromOriginal = original === undefined ? undefined : httpUrl(original);
  const fromForwarded =
    host === undefined
      ? undefined
      : httpUrl(`${proto ?? fromOriginal?.protocol.slice(0, -1) ?? 'https'}://${host}${uri ?? '/'}`);
  if (fromOriginal === null || fromForwarded === null) return 'ambiguous';
  if (fromOriginal && fromForwarded && fromOriginal.host !== fromForwarded.host) return 'ambiguous';
  return fromOriginal ?? fromForwarded ?? 'none';
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
