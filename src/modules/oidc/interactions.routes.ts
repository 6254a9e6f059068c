import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate } from '../../http/principal.js';
import { errorResponses } from '../../http/schema.js';
import type { InteractionsService, RawExchange } from './interactions.service.js';

export interface InteractionsRoutesOptions {
  interactions: InteractionsService;
  authenticate: Authenticate;
}

/** The provider's interaction ids (nanoid: 21 URL-safe characters); anything else is no interaction. */
const UidParams = Type.Object({ uid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

const InteractionSchema = Type.Object({
  uid: Type.String(),
  prompt: Type.Union([Type.Literal('login'), Type.Literal('consent')]),
  client: Type.Object({ client_id: Type.String(), client_name: Type.Union([Type.String(), Type.Null()]) }),
  scopes: Type.Array(Type.String()),
  claims: Type.Array(Type.String()),
  reauth_required: Type.Boolean({
    description: 'prompt=login or max_age: confirm it is you (POST /api/auth/reauth) first',
  }),
  max_age: Type.Union([Type.Integer(), Type.Null()]),
  acr_values: Type.Array(Type.String()),
});

const Next = Type.Object({
  redirect_to: Type.String({
    description: 'Where the browser goes next: the provider resumes the authorization there',
  }),
});

/** An empty JSON object: a form post from another site cannot send it without a CORS preflight. */
const EmptyBody = Type.Object({});

/**
 * The sign-in step of the authorization code flow (docs/oidc.md): the web UI's page at /app/oidc/:uid
 * reads the interaction and answers it with the person's Twofold access token. Each call also needs
 * the provider's interaction cookie, which only the browser that began the authorization holds.
 */
export const interactionsRoutes: FastifyPluginAsyncTypebox<InteractionsRoutesOptions> = async (app, options) => {
  const { interactions, authenticate } = options;
  const raw = (request: FastifyRequest, reply: FastifyReply): RawExchange => ({ req: request.raw, res: reply.raw });
  // The answers name a person's pending sign-in: never kept by a cache.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get(
    '/api/oidc/interaction/:uid',
    {
      schema: {
        tags: ['oidc'],
        summary: 'What the sign-in page of an OpenID Connect authorization shows',
        params: UidParams,
        response: { 200: InteractionSchema, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => interactions.details(raw(request, reply), request.params.uid),
  );

  app.post(
    '/api/oidc/interaction/:uid/login',
    {
      onRequest: authenticate,
      schema: {
        tags: ['oidc'],
        summary: 'Finishes the sign-in step with the person’s access token',
        params: UidParams,
        body: EmptyBody,
        security: [{ bearer: [] }],
        response: { 200: Next, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => ({
      redirect_to: await interactions.login(
        raw(request, reply),
        request.params.uid,
        requirePrincipal(request.principal),
      ),
    }),
  );

  app.post(
    '/api/oidc/interaction/:uid/consent',
    {
      onRequest: authenticate,
      schema: {
        tags: ['oidc'],
        summary: 'Grants the application the scopes and claims it asked for',
        params: UidParams,
        body: EmptyBody,
        security: [{ bearer: [] }],
        response: { 200: Next, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const actor = clientInfo(request);
      return {
        redirect_to: await interactions.consent(
          raw(request, reply),
          request.params.uid,
          requirePrincipal(request.principal),
          actor,
        ),
      };
    },
  );

  app.post(
    '/api/oidc/interaction/:uid/abort',
    {
      schema: {
        tags: ['oidc'],
        summary: 'Cancels the sign-in or declines the consent: the application receives access_denied',
        description:
          'Needs no token (a person who is not signed in can cancel), only the interaction cookie of the browser that began the authorization.',
        params: UidParams,
        body: EmptyBody,
        response: { 200: Next, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => ({ redirect_to: await interactions.abort(raw(request, reply), request.params.uid) }),
  );
};
