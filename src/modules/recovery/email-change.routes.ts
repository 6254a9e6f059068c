import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { errorResponses } from '../../http/schema.js';
import type { EmailChangeService } from './email-change.service.js';
import { EmailChangeAccepted, EmailChangeBody, PendingEmailAnswer } from './recovery.schemas.js';

export interface EmailChangeRoutesOptions {
  emailChanges: EmailChangeService;
  authenticate: Authenticate;
  /** A new address is where reset links will go: it needs a recent sign-in, like a new password. */
  requireRecentAuth: RequireRecentAuth;
}

// Extension to the HTTP contract: a signed-in person adds or changes their address.
export const emailChangeRoutes: FastifyPluginAsyncTypebox<EmailChangeRoutesOptions> = async (app, options) => {
  const { emailChanges, authenticate, requireRecentAuth } = options;
  // Mails still being sent finish before the mailer and the database close (child onClose hooks run first).
  app.addHook('onClose', async () => emailChanges.settled());

  app.post(
    '/api/auth/email/change',
    {
      onRequest: authenticate,
      preHandler: requireRecentAuth,
      schema: {
        tags: ['recovery'],
        security: [{ bearer: [] }],
        body: EmailChangeBody,
        response: { 202: EmailChangeAccepted, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const { userId } = requirePrincipal(request.principal);
      return reply.status(202).send(await emailChanges.request(userId, request.body.email, clientInfo(request)));
    },
  );

  app.get(
    '/api/auth/email/pending',
    {
      onRequest: authenticate,
      schema: {
        tags: ['recovery'],
        security: [{ bearer: [] }],
        response: { 200: PendingEmailAnswer, ...errorResponses(401) },
      },
    },
    async (request) => emailChanges.pending(requirePrincipal(request.principal).userId),
  );
};
