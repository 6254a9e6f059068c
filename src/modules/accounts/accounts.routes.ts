import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import { ChangePasswordBody, ProtectedResponse, RegisterBody } from './accounts.schemas.js';
import type { AccountsService, User } from './accounts.service.js';
import type { AuditService } from '../audit/audit.service.js';

/**
 * Accounts sits below lockout, sessions and recovery (docs/architecture.md, "Module dependencies"):
 * what its routes need of them comes in as these narrow functions, wired in src/app.ts.
 */
export interface AccountsRoutesOptions {
  accounts: AccountsService;
  authenticate: Authenticate;
  /** Changing the password needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
  audit: AuditService;
  /** Runs the check of the current password under the account's lockout budget (the lockout module's guard). */
  guardPasswordCheck<T>(request: FastifyRequest, userId: number, check: () => Promise<T>): Promise<T>;
  /** Ends every session of the user but the one given (the sessions module). */
  endOtherSessions(userId: number, keepSessionId: number): Promise<void>;
  /** Mails the verification link of a new account's address, in the background (the recovery module). */
  sendEmailVerification(user: User): void;
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { accounts, authenticate, requireRecentAuth, audit } = options;

  // Each canonical route has a twin at the original Flask API's path (the HTTP contract, "Compatibility routes").
  for (const [url, compat] of [['/api/auth/register', false], ['/register', true]] as const) {
    app.post(url, {
      schema: { tags: [compat ? 'compatibility' : 'accounts'], deprecated: compat, body: RegisterBody, response: { 201: Type.Ref('User'), ...errorResponses(400, 409) } },
    }, async (request, reply) => {
      const user = await accounts.register(request.body);
      await audit.record({ ...clientInfo(request), type: 'user.registered', userId: user.id, detail: { email: user.email !== null } });
      options.sendEmailVerification(user);
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
    await options.guardPasswordCheck(request, principal.userId, () =>
      accounts.changePassword(principal.userId, request.body.current_password, request.body.new_password),
    );
    // A changed password ends every other session: a thief holding one is signed out.
    await options.endOtherSessions(principal.userId, principal.sessionId);
    await audit.record({ ...clientInfo(request), type: 'password.changed', userId: principal.userId });
    return reply.status(204).send();
  });
};
