import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import {
  Accepted,
  EmailBody,
  ResetLinkBody,
  ResetLinkValid,
  ResetPasswordBody,
  VerifyEmailBody,
} from './recovery.schemas.js';
import type { RecoveryService } from './recovery.service.js';

export interface RecoveryRoutesOptions {
  recovery: RecoveryService;
}

const ACCEPTED = { accepted: true } as const;

export const recoveryRoutes: FastifyPluginAsyncTypebox<RecoveryRoutesOptions> = async (app, { recovery }) => {
  // Mails still being sent finish before the mailer and the database close (child onClose hooks run first).
  app.addHook('onClose', async () => recovery.settled());

  app.post(
    '/api/auth/password/forgot',
    {
      schema: { tags: ['recovery'], body: EmailBody, response: { 202: Accepted, ...errorResponses(400, 429) } },
    },
    async (request, reply) => {
      // The same answer, at once, for every address: whether an account exists is never revealed.
      recovery.requestPasswordReset(request.body.email);
      return reply.status(202).send(ACCEPTED);
    },
  );

  // Extension to the HTTP contract: the reset page checks its link before asking for a password.
  app.post(
    '/api/auth/password/reset/check',
    {
      schema: {
        tags: ['recovery'],
        body: ResetLinkBody,
        response: { 200: ResetLinkValid, ...errorResponses(400, 429) },
      },
    },
    async (request) => recovery.checkResetLink(request.body.token),
  );

  app.post(
    '/api/auth/password/reset',
    {
      schema: {
        tags: ['recovery'],
        body: ResetPasswordBody,
        response: { 204: NoContent, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await recovery.resetPassword(request.body.token, request.body.new_password, clientInfo(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/auth/email/verify',
    {
      schema: {
        tags: ['recovery'],
        body: VerifyEmailBody,
        response: { 200: Type.Ref('User'), ...errorResponses(400, 429) },
      },
    },
    async (request) => recovery.verifyEmail(request.body.token, clientInfo(request)),
  );

  // Extension to the HTTP contract: a new verification link replaces the old one; nothing for verified or unknown
  // addresses.
  app.post(
    '/api/auth/email/verify/resend',
    {
      schema: { tags: ['recovery'], body: EmailBody, response: { 202: Accepted, ...errorResponses(400, 429) } },
    },
    async (request, reply) => {
      recovery.resendEmailVerification(request.body.email);
      return reply.status(202).send(ACCEPTED);
    },
  );
};
