import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { IdParams, PATTERN_MESSAGE, Str, errorResponses } from '../../http/schema.js';
import type { TwoFactorService } from './two-factor.service.js';

export interface AuthenticatorsRoutesOptions {
  twoFactor: TwoFactorService;
  authenticate: Authenticate;
  /** Removing a second factor needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
}

/** What a person calls one of their authenticator apps: 1–64 characters, something visible, no control characters. */
export const AuthenticatorName = Str({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$',
  [PATTERN_MESSAGE]: 'Use 1 to 64 characters, not only spaces.',
});

const Authenticator = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

// `enabled`: whether a code factor (another app, email codes) is left; a passkey may be left beside
// them, so `mfa_enabled` and `mfa_methods` say what second factor the account still has, as
// `2fa/disable` answers.
const Removed = Type.Object({
  enabled: Type.Boolean({ description: 'Whether a code factor (an authenticator app, email codes) is left' }),
  mfa_enabled: Type.Boolean({ description: 'Whether any second factor is left (a passkey included)' }),
  mfa_methods: Type.Array(Type.String(), { description: "What is left, as the user's mfa_methods names it" }),
});

/** A user's authenticator apps (several per user, each named and removable, as Keycloak's account console). */
export const authenticatorsRoutes: FastifyPluginAsyncTypebox<AuthenticatorsRoutesOptions> = async (
  app,
  { twoFactor, authenticate, requireRecentAuth },
) => {
  app.addHook('onRequest', authenticate);
  const schema = { tags: ['two-factor'], security: [{ bearer: [] }] };
  const userId = (request: { principal: Parameters<typeof requirePrincipal>[0] }): number =>
    requirePrincipal(request.principal).userId;

  app.get(
    '/api/auth/2fa/authenticators',
    {
      schema: {
        ...schema,
        response: { 200: Type.Object({ authenticators: Type.Array(Authenticator) }), ...errorResponses(401) },
      },
    },
    async (request) => twoFactor.listAuthenticators(userId(request)),
  );

  app.patch(
    '/api/auth/2fa/authenticators/:id',
    {
      schema: {
        ...schema,
        params: IdParams,
        body: Type.Object({ name: AuthenticatorName }),
        response: { 200: Authenticator, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      twoFactor.renameAuthenticator(userId(request), request.params.id, request.body.name, clientInfo(request)),
  );

  app.delete(
    '/api/auth/2fa/authenticators/:id',
    {
      preHandler: requireRecentAuth,
      schema: {
        ...schema,
        params: IdParams,
        response: { 200: Removed, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => twoFactor.removeAuthenticator(userId(request), request.params.id, clientInfo(request)),
  );
};
