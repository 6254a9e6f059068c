import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientInfo } from '../../http/client-info.js';
import { errorResponses } from '../../http/schema.js';
import { CodeAccepted, GenerateCodeBody, Verified, VerifyCodeBody } from './email-proof.schemas.js';
import type { EmailProofService } from './email-proof.service.js';

export interface EmailProofRoutesOptions {
  emailProof: EmailProofService;
}

/**
 * Stand-alone email codes, the email-code app's API: prove that a person controls an address,
 * outside any sign-in. No session, no token: a 200 says "this address is proven", nothing more.
 */
export const emailProofRoutes: FastifyPluginAsyncTypebox<EmailProofRoutesOptions> = async (app, { emailProof }) => {
  // Codes still being mailed are sent before the mailer and the database close.
  app.addHook('onClose', async () => emailProof.settled());

  app.post(
    '/generate-2fa',
    {
      schema: {
        tags: ['compatibility'],
        summary: 'Mail a 6-digit code that proves control of an address',
        description:
          "Answers 202 at once for every well-formed address; the code is mailed only to an address that may receive one (an account's, or any with EMAIL_CODES_FOR_ANYONE), at most 5 per address per hour.",
        body: GenerateCodeBody,
        response: { 202: CodeAccepted, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      // The same answer, at once, for every address: whether it has an account is never revealed.
      emailProof.request(request.body.email, clientInfo(request));
      return reply.status(202).send({ accepted: true });
    },
  );

  app.post(
    '/verify',
    {
      schema: {
        tags: ['compatibility'],
        summary: 'Check a code mailed by POST /generate-2fa',
        description:
          "A code works once, for 10 minutes, and dies after 5 wrong tries. Proving an account's address marks it verified.",
        body: VerifyCodeBody,
        response: { 200: Verified, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      await emailProof.verify(request.body.email, request.body.code, clientInfo(request));
      return { verified: true } as const;
    },
  );
};
