import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';

/** Headers of the server-wide hook the provider sets for itself (caching per endpoint, its pages' own CSP). */
const PROVIDER_OWNED = new Set(['content-security-policy', 'cache-control', 'pragma']);

/**
 * oidc-provider (a Koa application) answers under the issuer: the discovery document and every
 * endpoint under /oidc/. Fastify only routes the request to it: the provider reads its own request
 * bodies (form-encoded, RFC 6749 §3.2), so this plugin's content-type parser leaves the stream
 * unread, and the provider writes its own answers and protocol errors (RFC 6749 §5.2) to the raw
 * response, which Fastify then leaves alone (`reply.hijack()`).
 */
export async function oidcRoutes(app: FastifyInstance, options: { provider: Provider; issuer: string }): Promise<void> {
  const prefix = new URL(options.issuer).pathname.replace(/\/+$/, '');
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
    if (prefix) {
      // The provider finds its mount path from originalUrl (as under Express).
      raw.originalUrl = raw.url;
      raw.url = raw.url?.slice(prefix.length) || '/';
    }
    reply.hijack();
    void callback(raw, reply.raw);
  };
  for (const url of [`${prefix}/.well-known/openid-configuration`, `${prefix}/oidc/*`]) {
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url,
      schema: { hide: true },
      handler,
    });
  }
}
