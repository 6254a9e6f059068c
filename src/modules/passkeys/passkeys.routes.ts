import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { IdParams, NoContent, errorResponses } from '../../http/schema.js';
import { CreationOptions, Passkey, PasskeyName, RegistrationResponse } from './passkeys.schemas.js';
import type { PasskeysService } from './passkeys.service.js';

export interface PasskeysRoutesOptions {
  passkeys: PasskeysService;
  authenticate: Authenticate;
  /** Adding or removing a passkey needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
}

/** A signed-in person's passkeys: registration (WebAuthn Level 3, §7.1), the list, renaming, removal. */
export const passkeysRoutes: FastifyPluginAsyncTypebox<PasskeysRoutesOptions> = async (
  app,
  { passkeys, authenticate, requireRecentAuth },
) => {
  app.addHook('onRequest', authenticate);
  const schema = { tags: ['passkeys'], security: [{ bearer: [] }] };
  const userId = (request: { principal: Parameters<typeof requirePrincipal>[0] }): number =>
    requirePrincipal(request.principal).userId;

  app.post(
    '/api/auth/passkeys/register/options',
    {
      preHandler: requireRecentAuth,
      schema: {
        ...schema,
        // Optional: a client may send no body at all (Fastify validates a missing body as null).
        body: Type.Optional(Type.Object({}, { nullable: true })),
        response: { 200: CreationOptions, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => passkeys.registrationOptions(userId(request)),
  );

  app.post(
    '/api/auth/passkeys/register/verify',
    {
      preHandler: requireRecentAuth,
      schema: {
        ...schema,
        body: Type.Object({ response: RegistrationResponse, name: Type.Optional(PasskeyName) }),
        response: { 201: Passkey, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await passkeys.register(userId(request), request.body, clientInfo(request))),
  );

  app.get(
    '/api/auth/passkeys',
    {
      schema: { ...schema, response: { 200: Type.Object({ passkeys: Type.Array(Passkey) }), ...errorResponses(401) } },
    },
    async (request) => passkeys.list(userId(request)),
  );

  app.patch(
    '/api/auth/passkeys/:id',
    {
      schema: {
        ...schema,
        params: IdParams,
        body: Type.Object({ name: PasskeyName }),
        response: { 200: Passkey, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => passkeys.rename(userId(request), request.params.id, request.body.name, clientInfo(request)),
  );

  app.delete(
    '/api/auth/passkeys/:id',
    {
      preHandler: requireRecentAuth,
      schema: { ...schema, params: IdParams, response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await passkeys.remove(userId(request), request.params.id, clientInfo(request));
      return reply.status(204).send();
    },
  );
};
