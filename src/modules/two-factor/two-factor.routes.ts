import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import {
  requirePrincipal,
  type Authenticate,
  type FinishMfaSetup,
  type RequireRecentAuth,
} from '../../http/principal.js';
import { Str, aliasedField, errorResponses } from '../../http/schema.js';
import { lockoutClient } from '../lockout/device-cookie.js';
import { AuthenticatorName } from './authenticators.routes.js';
import type { TwoFactorService } from './two-factor.service.js';

export interface TwoFactorRoutesOptions {
  twoFactor: TwoFactorService;
  authenticate: Authenticate;
  /** Setting up, replacing or removing a factor needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
  /** After a set-up: the sign-in a set-up token's holder completes (REQUIRE_2FA). */
  finishMfaSetup: FinishMfaSetup;
}

const Code = Str({ minLength: 1, maxLength: 32 });
const BackupCodes = Type.Object({ backup_codes: Type.Array(Type.String()) });
// Disable turns the code factors off; a passkey may be left, and these say so.
const Disabled = Type.Object({
  enabled: Type.Literal(false, { description: 'The code factors (apps, email codes, backup codes) are off' }),
  mfa_enabled: Type.Boolean({ description: 'Whether a second factor is left (a passkey)' }),
  mfa_methods: Type.Array(Type.String(), { description: "What is left, as the user's mfa_methods names it" }),
});
// A set-up answer to a set-up token's holder also signs them in (REQUIRE_2FA), once.
const EnabledAndSignedIn = Type.Object({
  enabled: Type.Boolean(),
  backup_codes: Type.Optional(Type.Array(Type.String())),
  tokens: Type.Optional(
    Type.Ref('Tokens', { description: 'Only for a set-up token (REQUIRE_2FA): the sign-in it completes' }),
  ),
});

export const twoFactorRoutes: FastifyPluginAsyncTypebox<TwoFactorRoutesOptions> = async (
  app,
  { twoFactor, authenticate, requireRecentAuth, finishMfaSetup },
) => {
  app.addHook('onRequest', authenticate);
  const schema = { tags: ['two-factor'], security: [{ bearer: [] }] };
  const recent = { preHandler: requireRecentAuth };
  // REQUIRE_2FA: who must set up a factor may call these (src/http/principal.ts, BeforeSecondFactor).
  const setup = { config: { beforeSecondFactor: 'setup' as const } };
  const userId = (request: { principal: Parameters<typeof requirePrincipal>[0] }): number =>
    requirePrincipal(request.principal).userId;

  app.get(
    '/api/auth/2fa',
    {
      ...setup,
      schema: {
        ...schema,
        response: {
          200: Type.Object({
            totp_enabled: Type.Boolean(),
            email_enabled: Type.Boolean(),
            backup_codes_remaining: Type.Integer(),
            totp_count: Type.Optional(Type.Integer({ description: 'How many authenticator apps are confirmed.' })),
          }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => twoFactor.status(userId(request)),
  );

  app.post(
    '/api/auth/2fa/setup',
    {
      ...recent,
      ...setup,
      schema: {
        ...schema,
        // Optional: the original clients send no body at all (Fastify validates a missing body as null).
        body: Type.Optional(Type.Object({ name: Type.Optional(AuthenticatorName) }, { nullable: true })),
        response: {
          200: Type.Object({ secret: Type.String(), otpauth_url: Type.String(), qr_base64: Type.String() }),
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (request) => twoFactor.startTOTPSetup(userId(request), request.body?.name),
  );

  app.post(
    '/api/auth/2fa/verify-setup',
    {
      ...recent,
      ...setup,
      schema: {
        ...schema,
        body: Type.Object({
          code: Type.Optional(Code),
          token: Type.Optional(Code),
          name: Type.Optional(AuthenticatorName),
        }),
        response: { 200: EnabledAndSignedIn, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      // `token` is the original API's name for the same field.
      const enabled = await twoFactor.verifyTOTPSetup(
        userId(request),
        aliasedField(request.body, 'code', 'token'),
        clientInfo(request),
        request.body.name,
      );
      return { ...enabled, ...(await finishMfaSetup(request, reply, 'totp')) };
    },
  );

  app.post(
    '/api/auth/2fa/email/enable',
    {
      ...recent,
      ...setup,
      schema: {
        ...schema,
        response: {
          202: Type.Object({ sent: Type.Literal(true), expires_in: Type.Integer() }),
          ...errorResponses(400, 401, 403, 409, 429, 503),
        },
      },
    },
    async (request, reply) => {
      return reply.status(202).send(await twoFactor.startEmailSetup(userId(request)));
    },
  );

  app.post(
    '/api/auth/2fa/email/verify-setup',
    {
      ...recent,
      ...setup,
      schema: {
        ...schema,
        body: Type.Object({ code: Code }),
        response: { 200: EnabledAndSignedIn, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const enabled = await twoFactor.verifyEmailSetup(userId(request), request.body.code, clientInfo(request));
      return { ...enabled, ...(await finishMfaSetup(request, reply, 'email')) };
    },
  );

  app.post(
    '/api/auth/2fa/backup-codes',
    {
      ...recent,
      schema: {
        ...schema,
        body: Type.Object({ password: Str({ minLength: 1, maxLength: 1024 }) }),
        response: { 200: BackupCodes, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request) => ({
      backup_codes: await twoFactor.regenerateBackupCodes(
        userId(request),
        request.body.password,
        lockoutClient(request),
      ),
    }),
  );

  app.post(
    '/api/auth/2fa/disable',
    {
      ...recent,
      schema: {
        ...schema,
        body: Type.Object({ password: Str({ minLength: 1, maxLength: 1024 }), code: Code }),
        response: { 200: Disabled, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request) => twoFactor.disable(userId(request), request.body, lockoutClient(request)),
  );
};
