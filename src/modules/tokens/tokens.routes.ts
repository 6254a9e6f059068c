import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Str, errorResponses } from '../../http/schema.js';
import { TokenVerificationError, type TokenService } from './tokens.service.js';

export interface TokensRoutesOptions {
  tokens: TokenService;
  /**
   * Whether the session a token names is still live. Tokens sits below sessions (sessions signs
   * with it; docs/architecture.md, "Module dependencies"), so this is the one method it takes of
   * the sessions service, not its type.
   */
  sessions: { isActive(sessionId: number, userId: number): Promise<boolean> };
}

const VerifyResponse = Type.Object({
  valid: Type.Boolean(),
  claims: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  reason: Type.Optional(
    Type.Union([
      Type.Literal('expired'),
      Type.Literal('invalid_signature'),
      Type.Literal('malformed'),
      Type.Literal('revoked'),
      Type.Literal('mfa_setup_required'),
    ]),
  ),
});

export const tokensRoutes: FastifyPluginAsyncTypebox<TokensRoutesOptions> = async (app, { tokens, sessions }) => {
  app.post(
    '/api/auth/token/verify',
    {
      schema: {
        tags: ['tokens'],
        body: Type.Object({ token: Str({ minLength: 1, maxLength: 8192 }) }),
        response: { 200: VerifyResponse, ...errorResponses(400) },
      },
    },
    async (request) => {
      try {
        const claims = await tokens.verifyAccessToken(request.body.token);
        // A set-up token (REQUIRE_2FA) is signed like an access token but signs nobody in: a resource
        // server that reads only `valid` must not take it for a sign-in (fail closed).
        if (claims.scope !== undefined) return { valid: false, reason: 'mfa_setup_required' as const };
        if (!(await sessions.isActive(claims.sid, Number(claims.sub))))
          return { valid: false, reason: 'revoked' as const };
        return { valid: true, claims };
      } catch (error) {
        if (error instanceof TokenVerificationError) return { valid: false, reason: error.reason };
        throw error;
      }
    },
  );

  app.get('/.well-known/jwks.json', { schema: { tags: ['tokens'] } }, async (_request, reply) => {
    // Public keys, no secret: caches may keep them (the no-store default is for everything else).
    reply.header('cache-control', 'public, max-age=300').removeHeader('pragma');
    return tokens.jwks();
  });
};
