import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../http/principal.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import type { Authenticate } from '../sessions/authenticate.js';
import type { RequireRecentAuth } from '../sessions/recent-auth.js';
import type { ClientInfo, SessionsService } from '../sessions/sessions.service.js';
import { ChangePasswordBody, ProtectedResponse, RegisterBody } from './accounts.schemas.js';
import type { AccountsService } from './accounts.service.js';
import type { AuditService } from '../audit/audit.service.js';
import type { LockoutService } from '../lockout/lockout.service.js';
import { lockoutClient } from '../lockout/device-cookie.js';
import type { RecoveryService } from '../recovery/recovery.service.js';

export interface AccountsRoutesOptions {
  lockout: LockoutService;
  accounts: AccountsService;
  sessions: SessionsService;
  authenticate: Authenticate;
  /** Changing the password needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
  audit: AuditService;
  /** Mails the verification link of a new account's address (in the background). */
  recovery: Pick<RecoveryService, 'sendEmailVerification'>;
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  return { userAgent: request.headers['user-agent'] ?? null, ip: request.ip };
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { accounts, lockout, sessions, authenticate, requireRecentAuth, audit, recovery } = options;

  // Each canonical route has a twin at the original Flask API's path (the HTTP contract, "Compatibility routes").
  for (const [url, compat] of [['/api/auth/register', false], ['/register', true]] as const) {
    app.post(url, {
      schema: { tags: [compat ? 'compatibility' : 'accounts'], deprecated: compat, body: RegisterBody, response: { 201: Type.Ref('User'), ...errorResponses(400, 409) } },
    }, async (request, reply) => {
      const user = await accounts.register(request.body);
      await audit.record({ ...clientInfo(request), type: 'user.registered', userId: user.id, detail: { email: user.email !== null } });
      recovery.sendEmailVerification(user);
      return reply.status(201).send(user);
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
    preHandler: requireRecentAuth,
    schema: { tags: ['accounts'], security: [{ bearer: [] }], body: ChangePasswordBody, response: { 204: NoContent, ...errorResponses(400, 401, 403, 429) } },
  }, async (request, reply) => {
    const principal = requirePrincipal(request.principal);
    await lockout.guard(principal.userId, lockoutClient(request), () =>
      accounts.changePassword(principal.userId, request.body.current_password, request.body.new_password),
    );
    // A changed password ends every other session: a thief holding one is signed out.
    await sessions.endOthers(principal.userId, principal.sessionId);
    await audit.record({ ...clientInfo(request), type: 'password.changed', userId: principal.userId });
    return reply.status(204).send();
  });
};
