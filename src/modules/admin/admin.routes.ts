import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { IdParams, NoContent, errorResponses } from '../../http/schema.js';
import type { Require2fa } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import { hasSecondFactor, policyCovers, provesSecondFactor } from '../two-factor/require-2fa.js';
import type { TwoFactorService } from '../two-factor/two-factor.service.js';
import { AdminUserSchema, AuditPageSchema, ListAuditQuery, ListUsersQuery, UpdateUserBody } from './admin.schemas.js';
import type { AdminActor, AdminService } from './admin.service.js';

export interface AdminRoutesOptions {
  admin: AdminService;
  twoFactor: TwoFactorService;
  authenticate: Authenticate;
  /** REQUIRE_2FA. */
  require2fa: Require2fa;
  /** Deleting an account is irreversible: it needs a recent sign-in, as deleting your own does. */
  requireRecentAuth: RequireRecentAuth;
}

/**
 * Role `admin`, and a second factor in this sign-in when the admin has one enabled; with REQUIRE_2FA
 * `admin` or `all`, an admin without one gets 403 `mfa_setup_required` (a session from before the
 * policy, or from before the set-up).
 */
export function createRequireAdmin(deps: {
  twoFactor: TwoFactorService;
  require2fa: Require2fa;
}): (request: FastifyRequest) => Promise<void> {
  return async function requireAdmin(request) {
    const principal = requirePrincipal(request.principal);
    // principal.role is the stored role, read with the session check (not the token's claim): a
    // demoted admin loses access on the next request, not when the token expires.
    if (principal.role !== 'admin') throw new AppError('forbidden', { message: 'This needs the admin role.' });
    if (provesSecondFactor(principal.amr)) return;
    if (hasSecondFactor(await deps.twoFactor.methodsOf(principal.userId)))
      throw new AppError('forbidden', { message: 'Sign in with your second factor to use administration.' });
    if (policyCovers(deps.require2fa, principal.role)) throw new AppError('mfa_setup_required');
  };
}

function actorOf(request: FastifyRequest): AdminActor {
  return { kind: 'admin', ...clientInfo(request), userId: requirePrincipal(request.principal).userId };
}

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (
  app,
  { admin, twoFactor, authenticate, require2fa, requireRecentAuth },
) => {
  app.addHook('onRequest', authenticate);
  app.addHook('preHandler', createRequireAdmin({ twoFactor, require2fa }));
  app.addSchema(AdminUserSchema);
  const adminUser = Type.Ref('AdminUser');
  const common = { tags: ['admin'], security: [{ bearer: [] }] };

  app.get(
    '/api/admin/users',
    {
      schema: {
        ...common,
        querystring: ListUsersQuery,
        response: {
          200: Type.Object({ items: Type.Array(adminUser), total: Type.Integer() }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => admin.listUsers(request.query),
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        ...common,
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: adminUser, ...errorResponses(400, 401, 403, 404) },
      },
      // The role's schema is an enum Ajv has checked against ROLES (admin.schemas.ts); its static type is Role.
    },
    async (request) => admin.updateUser(request.params.id, request.body as UpdateUserBody, actorOf(request)),
  );

  app.post(
    '/api/admin/users/:id/2fa/reset',
    {
      schema: { ...common, params: IdParams, response: { 200: Type.Ref('User'), ...errorResponses(401, 403, 404) } },
    },
    async (request) => admin.resetTwoFactor(request.params.id, actorOf(request)),
  );

  app.post(
    '/api/admin/users/:id/logout-all',
    { schema: { ...common, params: IdParams, response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      await admin.revokeSessions(request.params.id, actorOf(request));
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/admin/users/:id',
    {
      // A stolen administrator's access token must not be enough to erase someone (OWASP ASVS 4.0
      // V3.7.1: re-authenticate before sensitive operations); the admin checks above run first.
      preHandler: requireRecentAuth,
      schema: { ...common, params: IdParams, response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await admin.deleteUser(request.params.id, actorOf(request));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/admin/audit',
    {
      schema: {
        ...common,
        querystring: ListAuditQuery,
        response: { 200: AuditPageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => admin.listAudit(request.query),
  );
};
