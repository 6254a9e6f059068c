import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import { ChangePasswordBody, ProtectedResponse, RegisterBody } from './accounts.schemas.js';
import type { AccountsService } from './accounts.service.js';
import type { RegistrationService } from './registration.service.js';

export interface AccountsRoutesOptions {
  accounts: AccountsService;
  registration: RegistrationService;
  authenticate: Authenticate;
  /** Changing the password needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { accounts, registration, authenticate, requireRecentAuth } = options;

  // Each canonical route has a twin at the original Flask API's path (the HTTP contract, "Compatibility routes").
  for (const [url, compat] of [
    ['/api/auth/register', false],
    ['/register', true],
  ] as const) {
    app.post(
      url,
      {
        schema: {
          tags: [compat ? 'compatibility' : 'accounts'],
          deprecated: compat,
          body: RegisterBody,
          response: { 201: Type.Ref('User'), ...errorResponses(400, 409) },
        },
      },
      async (request, reply) => {
        return reply.status(201).send(await registration.register(request.body, clientInfo(request)));
      },
    );
  }

  app.get(
    '/api/user/me',
    {
      onRequest: authenticate,
      // REQUIRE_2FA: who must still set up a factor may see whose account it is (the set-up screen shows it).
      config: { beforeSecondFactor: 'setup' },
      schema: {
        tags: ['accounts'],
        security: [{ bearer: [] }],
        response: { 200: Type.Ref('User'), ...errorResponses(401, 403) },
      },
    },
    async (request) => accounts.getUser(requirePrincipal(request.principal).userId),
  );

  for (const [url, compat] of [
    ['/api/protected', false],
    ['/protected', true],
  ] as const) {
    app.get(
      url,
      {
        onRequest: authenticate,
        schema: {
          tags: [compat ? 'compatibility' : 'accounts'],
          deprecated: compat,
          security: [{ bearer: [] }],
          response: { 200: ProtectedResponse, ...errorResponses(401) },
        },
      },
      async (request) => {
        const user = await accounts.getUser(requirePrincipal(request.principal).userId);
        return { message: `Hello, ${user.username}! This is a protected resource.`, user };
      },
    );
  }

  app.post(
    '/api/auth/password/change',
    {
      onRequest: authenticate,
      preHandler: requireRecentAuth,
      schema: {
        tags: ['accounts'],
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      // The request's cookies may hold a device cookie: its own lockout budget (the lockout module).
      await accounts.changePassword(requirePrincipal(request.principal), request.body, {
        ...clientInfo(request),
        cookies: request.cookies,
      });
      return reply.status(204).send();
    },
  );
};
