import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate } from '../../http/principal.js';
import { IdParams, NoContent, Str, errorResponses } from '../../http/schema.js';
import { validationError } from '../../lib/errors.js';
import { clearRefreshCookie, isBrowserRequest, refreshTokenFrom, setRefreshCookie } from './refresh-cookie.js';
import type { SessionCookie } from './session-cookie.js';
import type { SessionsService } from './sessions.service.js';

export interface SessionsRoutesOptions {
  sessions: SessionsService;
  authenticate: Authenticate;
  refreshTokenTtlSeconds: number;
  /** The browser session cookie forward authentication reads: set and cleared with the refresh cookie. */
  sessionCookie: SessionCookie;
}

const RefreshBody = Type.Optional(Type.Object({ refresh_token: Type.Optional(Str({ minLength: 1, maxLength: 512 })) }));

export const SessionSchema = Type.Object({
  id: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const sessionsRoutes: FastifyPluginAsyncTypebox<SessionsRoutesOptions> = async (app, options) => {
  const { sessions, authenticate, sessionCookie } = options;
  const clearBrowserCookies = (reply: FastifyReply): void => {
    clearRefreshCookie(reply);
    sessionCookie.clear(reply);
  };
  const bearer = [{ bearer: [] }];

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags: ['sessions'],
        body: RefreshBody,
        response: { 200: Type.Ref('Tokens'), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const token = refreshTokenFrom(request, request.body?.refresh_token);
      if (!token) throw validationError({ refresh_token: 'is required' });
      const tokens = await sessions.rotateRefreshToken(token, clientInfo(request)).catch((error: unknown) => {
        // A dead cookie is forgotten, so the web UI stops trying it on every start.
        if (isBrowserRequest(request)) clearBrowserCookies(reply);
        throw error;
      });
      if (isBrowserRequest(request)) {
        setRefreshCookie(reply, tokens.refresh_token, options.refreshTokenTtlSeconds);
        sessionCookie.set(reply, tokens);
      }
      return tokens;
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['sessions'], body: RefreshBody, response: { 204: NoContent, ...errorResponses(400) } } },
    async (request, reply) => {
      const token = refreshTokenFrom(request, request.body?.refresh_token);
      if (!token) throw validationError({ refresh_token: 'is required' });
      await sessions.logout(token);
      if (isBrowserRequest(request)) clearBrowserCookies(reply);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/auth/logout-all',
    {
      onRequest: authenticate,
      schema: { tags: ['sessions'], security: bearer, response: { 204: NoContent, ...errorResponses(401) } },
    },
    async (request, reply) => {
      await sessions.logoutAll(requirePrincipal(request.principal).userId);
      if (isBrowserRequest(request)) clearBrowserCookies(reply);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/auth/sessions',
    {
      onRequest: authenticate,
      schema: {
        tags: ['sessions'],
        security: bearer,
        response: { 200: Type.Object({ sessions: Type.Array(SessionSchema) }), ...errorResponses(401) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      return { sessions: await sessions.list(principal.userId, principal.sessionId) };
    },
  );

  app.delete(
    '/api/auth/sessions/:id',
    {
      onRequest: authenticate,
      schema: {
        tags: ['sessions'],
        security: bearer,
        params: IdParams,
        response: { 204: NoContent, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await sessions.end(requirePrincipal(request.principal).userId, request.params.id);
      return reply.status(204).send();
    },
  );
};
