import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Str, errorResponses } from '../../http/schema.js';
import type { SessionCookie } from '../sessions/session-cookie.js';
import { AppError } from '../../lib/errors.js';
import { NOT_SIGNED_IN, type ForwardAuthService, type ForwardIdentity } from './forward-auth.service.js';

export interface ForwardAuthRoutesOptions {
  forwardAuth: ForwardAuthService;
  sessionCookie: Pick<SessionCookie, 'read'>;
}

const Redirect = Type.Unsafe<void>({ type: 'null', description: 'Found: the Location header says where to go' });

const Identity = Type.Object({
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  amr: Type.Array(Type.String()),
});

/**
 * A header value as it is when it is printable ASCII (RFC 9110 §5.5), else its UTF-8 percent-encoded: an
 * internationalised address must neither break the answer nor smuggle a line break into the proxy's request.
 */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

function identityHeaders(identity: ForwardIdentity): Record<string, string> {
  return {
    'x-auth-user': headerValue(identity.username),
    // Always sent, empty when there is none, so a proxy that copies it replaces whatever the client sent.
    'x-auth-email': headerValue(identity.email ?? ''),
    'x-auth-role': headerValue(identity.role),
    'x-auth-amr': identity.amr.join(','),
  };
}

/**
 * Forward authentication (docs/forward-auth.md): nginx's `auth_request`, Traefik's ForwardAuth and Caddy's
 * `forward_auth` ask this route, for every request they proxy, whether the browser's session cookie is live.
 * It reads no body, hashes no password and reaches the database at most once per session every few seconds (the
 * session check's cache), so it answers at the rate the proxy asks.
 */
export const forwardAuthRoutes: FastifyPluginAsyncTypebox<ForwardAuthRoutesOptions> = async (app, options) => {
  const { forwardAuth, sessionCookie } = options;

  app.get(
    '/api/auth/forward',
    {
      schema: {
        tags: ['forward-auth'],
        querystring: Type.Object({
          redirect: Type.Optional(
            Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')], {
              description: '1: a person not signed in is redirected to the sign-in page instead of getting 401',
            }),
          ),
        }),
        response: { 200: Identity, 302: Redirect, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const verdict = await forwardAuth.check({ session: sessionCookie.read(request), headers: request.headers });
      if ('signIn' in verdict) {
        if (request.query.redirect === '1' || request.query.redirect === 'true')
          return reply.redirect(verdict.signIn, 302);
        // nginx's auth_request passes on only a 401, but can read its headers: the sign-in address rides along.
        void reply.header('location', verdict.signIn);
        throw new AppError('unauthorized', { message: NOT_SIGNED_IN });
      }
      return reply.headers(identityHeaders(verdict.identity)).send(verdict.identity);
    },
  );

  app.get(
    '/api/auth/forward/return',
    {
      schema: {
        tags: ['forward-auth'],
        querystring: Type.Object({ url: Str({ minLength: 1, maxLength: 4096 }) }),
        response: { 302: Redirect, ...errorResponses(400) },
      },
    },
    async (request, reply) => reply.redirect(forwardAuth.returnTo(request.query.url), 302),
  );
};
