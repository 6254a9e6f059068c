import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, type Principal } from '../../http/principal.js';
import { IdParams, errorResponses } from '../../http/schema.js';
import { AppError } from '../../lib/errors.js';
import { clientInfo } from '../accounts/accounts.routes.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Authenticate } from '../sessions/authenticate.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { TwoFactorService } from '../two-factor/two-factor.service.js';

export interface AdminRoutesOptions {
  accounts: AccountsService;
  twoFactor: TwoFactorService;
  sessions: SessionsService;
  audit: AuditService;
  authenticate: Authenticate;
}

/** Role `admin`, and a second factor in this sign-in when the admin has one enabled (issue 5). */
export function createRequireAdmin(twoFactor: TwoFactorService): (request: FastifyRequest) => Promise<void> {
  return async function requireAdmin(request) {
    const principal: Principal = requirePrincipal(request.principal);
    if (principal.role !== 'admin') throw new AppError('forbidden', { message: 'This needs the admin role.' });
    if (!principal.amr.includes('otp') && (await twoFactor.methodsOf(principal.userId)).length > 0) {
      throw new AppError('forbidden', { message: 'Sign in with your second factor to use administration.' });
    }
  };
}

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, { accounts, twoFactor, sessions, audit, authenticate }) => {
  app.addHook('onRequest', authenticate);
  app.addHook('preHandler', createRequireAdmin(twoFactor));

  app.post('/api/admin/users/:id/2fa/reset', {
    schema: { tags: ['admin'], security: [{ bearer: [] }], params: IdParams, response: { 200: Type.Ref('User'), ...errorResponses(401, 403, 404) } },
  }, async (request) => {
    const target = await accounts.findById(request.params.id);
    if (!target) throw new AppError('not_found', { message: 'No such user.' });
    // A lost device: every second factor goes, and so does every session that may sit on it.
    await twoFactor.removeAll(target.id);
    await sessions.logoutAll(target.id);
    await audit.record({ ...clientInfo(request), type: 'mfa.reset', userId: target.id, detail: { by: requirePrincipal(request.principal).userId } });
    return accounts.getUser(target.id);
  });
};
