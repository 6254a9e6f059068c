import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InFlightRequests } from '../../http/in-flight.js';
import type { Clock } from '../../lib/clock.js';
import { sha256Hex } from '../../lib/crypto.js';
import { clientKey } from '../rate-limit/client-key.js';
import type { CounterStore } from '../rate-limit/counter-store.js';
import { enforceLimit } from '../rate-limit/rate-limit.js';

/** The endpoints where a client authenticates with its secret, limited per client (RATE_LIMIT_TOKEN). */
const CLIENT_AUTH_PATHS = ['/oidc/token', '/oidc/token/introspection', '/oidc/token/revocation'];

/**
 * Whose budget a request spends: the client named in HTTP Basic (RFC 6749 §2.3.1, form-encoded
 * id), or, for a client that sends its id in the body, which Fastify does not read here, the
 * address. The id is hashed: the counter key stays short whatever is sent.
 */
function budgetKey(request: FastifyRequest): string {
  const [scheme, value] = (request.headers.authorization ?? '').split(' ');
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const id = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
    if (id) return `oidc-client:${sha256Hex(id).slice(0, 32)}`;
  }
  return `oidc-client-ip:${clientKey(request.ip)}`;
}

/** Headers of the server-wide hook the provider sets for itself (caching per endpoint) or gets its own of (CSP). */
const PROVIDER_OWNED = new Set(['content-security-policy', 'cache-control', 'pragma']);

/**
 * The provider's own pages (its error page, the sign-out confirmation, the form_post answer) get a
 * policy of their own: the web UI's, without `form-action 'self'`, since a form_post answer
 * (OAuth 2.0 Form Post Response Mode) and a sign-out confirmation post across origins. The provider
 * adds the hash of each inline script it writes to `script-src` (its form_post auto-submit), and
 * nothing it serves loads from another site (OWASP Content Security Policy Cheat Sheet).
 */
const PROVIDER_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "base-uri 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join(';');

/**
 * oidc-provider (a Koa application) answers under the issuer: the discovery document and every
 * endpoint under /oidc/. Fastify only routes the request to it: the provider reads its own request
 * bodies (form-encoded, RFC 6749 §3.2), so this plugin's content-type parser leaves the stream
 * unread, and the provider writes its own answers and protocol errors (RFC 6749 §5.2) to the raw
 * response, which Fastify then leaves alone (`reply.hijack()`).
 */
export async function oidcRoutes(
  app: FastifyInstance,
  options: {
    provider: Provider;
    /** Told when the provider has finished a request, whose answer Fastify never sees. */
    inFlight: InFlightRequests;
    issuer: string;
    tokenLimit: { store: CounterStore; clock: Clock; perMinute: number };
  },
): Promise<void> {
  const issuer = new URL(options.issuer);
  const prefix = issuer.pathname.replace(/\/+$/, '');
  const callback = options.provider.callback();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  const handler = (request: FastifyRequest, reply: FastifyReply): void => {
    const raw: IncomingMessage & { originalUrl?: string } = request.raw;
    // The security headers every answer gets (X-Content-Type-Options, frame-ancestors, …), except the
    // ones the provider decides per endpoint.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (!PROVIDER_OWNED.has(name) && value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.raw.setHeader('content-security-policy', PROVIDER_CSP);
    // Every address the provider writes (discovery, redirects to its own endpoints, the audience it
    // expects of a client assertion) comes from the issuer, never from the Host or X-Forwarded-*
    // headers a client sends: a forged Host would put another site's endpoints into the discovery
    // document, which a shared cache could keep (OWASP WSTG-INPV-17, Host header injection). The
    // provider trusts these headers (its `proxy` setting) and finds the caller's address in
    // X-Forwarded-For: the one Fastify resolved under TRUST_PROXY.
    raw.headers.host = issuer.host;
    raw.headers['x-forwarded-host'] = issuer.host;
    raw.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
    raw.headers['x-forwarded-for'] = request.ip;
    if (prefix) {
      // The provider finds its mount path from originalUrl (as under Express).
      raw.originalUrl = raw.url;
      raw.url = raw.url?.slice(prefix.length) || '/';
    }
    reply.hijack();
    options.inFlight.finishedWhen(request, callback(raw, reply.raw));
  };
  for (const url of [`${prefix}/.well-known/openid-configuration`, `${prefix}/oidc/*`]) {
    app.route({ method: ['GET', 'POST', 'OPTIONS'], url, schema: { hide: true }, handler });
  }
  // Guessing a client's secret, or a flood of grants, spends that client's budget (OWASP API
  // Security Top 10, API4:2023 Unrestricted Resource Consumption); Twofold's 429 answers it.
  const { store, clock, perMinute } = options.tokenLimit;
  const limit = (request: FastifyRequest): Promise<void> =>
    enforceLimit(store, clock, budgetKey(request), perMinute, 'Too many requests for this client; slow down.');
  for (const path of CLIENT_AUTH_PATHS) {
    app.route({ method: 'POST', url: `${prefix}${path}`, schema: { hide: true }, onRequest: limit, handler });
  }
}
