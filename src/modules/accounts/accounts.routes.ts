import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../http/principal.js';
import { errorResponses } from '../../http/schema.js';
import { AppError } from '../../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Authenticate } from '../sessions/authenticate.js';
import { isBrowserRequest, setRefreshCookie } from '../sessions/refresh-cookie.js';
import type { ClientInfo, SessionsService } from '../sessions/sessions.service.js';
import { ChangePasswordBody, LoginBody, ProtectedResponse, RegisterBody, TokensSchema } from './accounts.schemas.js';
import { toUser, type AccountsService } from './accounts.service.js';

export interface AccountsRoutesOptions {
  accounts: AccountsService;
  sessions: SessionsService;
  authenticate: Authenticate;
  metrics: Metrics;
  refreshTokenTtlSeconds: number;
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  return { userAgent: request.headers['user-agent'] ?? null, ip: request.ip };
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { accounts, sessions, authenticate, metrics } = options;

  // Each canonical route has a twin at the original Flask API's path (API.md, "Compatibility routes").
  for (const [url, compat] of [['/api/auth/register', false], ['/register', true]] as const) {
    app.post(url, {
      schema: { tags: [compat ? 'compatibility' : 'accounts'], deprecated: compat, body: RegisterBody, response: { 201: Type.Ref('User'), ...errorResponses(400, 409) } },
    }, async (request, reply) => {
      const user = await accounts.register(request.body);
      return reply.status(201).send(user);
    });
  }

  for (const [url, compat] of [['/api/auth/login', false], ['/login', true]] as const) {
    app.post(url, {
      schema: { tags: [compat ? 'compatibility' : 'accounts'], deprecated: compat, body: LoginBody, response: { 200: TokensSchema, ...errorResponses(400, 401, 429) } },
    }, async (request, reply) => {
      const { username, password } = request.body;
      let row;
      try {
        row = await accounts.authenticate(username, password);
      } catch (error) {
        metrics.logins.inc({ outcome: error instanceof AppError ? error.code : 'error' });
        throw error;
      }
      const tokens = await sessions.open(toUser(row), ['pwd'], clientInfo(request));
      await accounts.recordLogin(row.id);
      metrics.logins.inc({ outcome: 'success' });
      if (isBrowserRequest(request)) setRefreshCookie(reply, tokens.refresh_token, options.refreshTokenTtlSeconds);
      return tokens;
    });
  }

  app.get('/api/user/me', { onRequest: authenticate, schema: { tags: ['accounts'], security: [{ bearer: [] }], response: { 200: Type.Ref('User'), ...errorResponses(401) } } }, async (request) =>
    accounts.getUser(requirePrincipal(request.principal).userId),
  );

  for (const [url, compat] of [['/api/protected', false], ['/protected', true]] as const) {
    app.get(url, {
      onRequest: authenticate,
      schema: { tags: [compat ? 'compatibility' : 'accounts'], deprecated: compat, security: [{ bearer: [] }], response: { 200: ProtectedResponse, ...errorResponses(401) } },
    }, async (request) => {
      const user = await accounts.getUser(requirePrincipal(request.principal).userId);
      return { message: `Hello, ${user.username}! This is a protected resource.`, user };
    });
  }

  app.post('/api/auth/password/change', {
    onRequest: authenticate,
    schema: { tags: ['accounts'], security: [{ bearer: [] }], body: ChangePasswordBody, response: errorResponses(400, 401) },
  }, async (request, reply) => {
    const principal = requirePrincipal(request.principal);
    await accounts.changePassword(principal.userId, request.body.current_password, request.body.new_password);
    // A changed password ends every other session: a thief holding one is signed out.
    await sessions.endOthers(principal.userId, principal.sessionId);
    return reply.status(204).send();
  });
};
