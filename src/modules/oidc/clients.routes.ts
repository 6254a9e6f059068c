import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Require2fa } from '../../config.js';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import { AppError } from '../../lib/errors.js';
import { createRequireAdmin } from '../admin/admin.routes.js';
import type { TwoFactorService } from '../two-factor/two-factor.service.js';
import {
  ClientIdParams,
  CreateClientBody,
  CreatedClientSchema,
  OidcClientSchema,
  RotatedSecretSchema,
} from './clients.schemas.js';
import type { ClientActor, ClientsService } from './clients.service.js';

export interface ClientsRoutesOptions {
  clients: ClientsService;
  /** Whether this server runs the provider (OIDC_SIGNING_KEYS_FILE, or the keys made in development). */
  providerOn: boolean;
  twoFactor: TwoFactorService;
  authenticate: Authenticate;
  require2fa: Require2fa;
  requireRecentAuth: RequireRecentAuth;
}

/** The service names its fields after the CLI's options; an HTTP client reads the names of the body it sent. */
const BODY_FIELDS: Record<string, string> = {
  redirect_uri: 'redirect_uris',
  post_logout_redirect_uri: 'post_logout_redirect_uris',
  grant: 'grants',
  scope: 'scopes',
};

function inBodyTerms(error: unknown): unknown {
  if (!(error instanceof AppError) || error.code !== 'validation_failed' || !error.fields) return error;
  const fields = Object.fromEntries(Object.entries(error.fields).map(([key, why]) => [BODY_FIELDS[key] ?? key, why]));
  return new AppError('validation_failed', { message: error.message, fields });
}

function actorOf(request: FastifyRequest): ClientActor {
  return { ...clientInfo(request), by: requirePrincipal(request.principal).userId };
}

/**
 * The administration of the provider's relying parties: what `twofold client …` does, through the
 * same clients service, for the admin role (and its second factor, as every /api/admin route).
 */
export const clientsRoutes: FastifyPluginAsyncTypebox<ClientsRoutesOptions> = async (
  app,
  { clients, providerOn, twoFactor, authenticate, require2fa, requireRecentAuth },
) => {
  app.addHook('onRequest', authenticate);
  app.addHook('preHandler', createRequireAdmin({ twoFactor, require2fa }));
  // After the admin check, so only an administrator learns whether the provider runs; the routes
  // are then absent as the provider's own are (docs/oidc.md), with a sentence saying why.
  app.addHook('preHandler', async () => {
    if (!providerOn)
      throw new AppError('not_found', {
        message:
          'The OpenID Connect provider is off on this server (production without OIDC_SIGNING_KEYS_FILE), so it has no clients to manage here.',
      });
  });
  app.addSchema(OidcClientSchema);
  const common = { tags: ['admin'], security: [{ bearer: [] }] };
  // Issuing or replacing a secret, or cutting an application off, needs a recent sign-in: a stolen
  // administrator token alone must not mint credentials (OWASP ASVS 4.0 V3.7.1).
  const sensitive = { preHandler: requireRecentAuth };

  app.get(
    '/api/admin/oidc/clients',
    {
      schema: {
        ...common,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('OidcClient')) }), ...errorResponses(401, 403, 404) },
      },
    },
    async () => ({ items: await clients.list() }),
  );

  app.post(
    '/api/admin/oidc/clients',
    {
      ...sensitive,
      schema: {
        ...common,
        body: CreateClientBody,
        response: { 201: CreatedClientSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      // The grants' schema is an enum Ajv has checked against CLIENT_GRANTS; its static type is ClientGrant.
      const body = request.body as CreateClientBody;
      const { client, secret } = await clients
        .create(
          {
            name: body.name,
            redirectUris: body.redirect_uris ?? [],
            postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
            public: body.public === true,
            grants: body.grants,
            scopes: body.scopes,
            skipConsent: body.skip_consent === true,
          },
          actorOf(request),
        )
        .catch((error: unknown) => {
          throw inBodyTerms(error);
        });
      // The server's default Cache-Control: no-store (src/http/server.ts) keeps the secret out of caches.
      return reply.status(201).send({ ...client, client_secret: secret });
    },
  );

  app.delete(
    '/api/admin/oidc/clients/:id',
    {
      ...sensitive,
      schema: {
        ...common,
        params: ClientIdParams,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await clients.delete(request.params.id, actorOf(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/admin/oidc/clients/:id/rotate-secret',
    {
      ...sensitive,
      schema: {
        ...common,
        params: ClientIdParams,
        response: { 200: RotatedSecretSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => clients.rotateSecret(request.params.id, actorOf(request)),
  );
};
