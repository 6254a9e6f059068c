import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Str, aliasedField, errorResponses } from '../../http/schema.js';
import { LoginBody } from '../accounts/accounts.schemas.js';
import { lockoutClient, setDeviceCookie } from '../lockout/device-cookie.js';
import { isBrowserRequest, setRefreshCookie } from '../sessions/refresh-cookie.js';
import { requirePrincipal, type Authenticate } from '../../http/principal.js';
import type { LoginService, LoginTokens, MfaChallenge } from './login.service.js';

export interface LoginRoutesOptions {
  login: LoginService;
  authenticate: Authenticate;
  refreshTokenTtlSeconds: number;
}

// `login_token` and `otp` are the FastAPI app's names for `mfa_token` and `code` (the HTTP contract, "Compatibility
// routes").
const SecondFactorBody = Type.Object({
  mfa_token: Type.Optional(Str({ minLength: 1, maxLength: 512 })),
  login_token: Type.Optional(Str({ minLength: 1, maxLength: 512, description: 'Another name for mfa_token' })),
  code: Type.Optional(Str({ minLength: 1, maxLength: 32 })),
  otp: Type.Optional(Str({ minLength: 1, maxLength: 32, description: 'Another name for code' })),
  method: Type.Optional(Type.Union([Type.Literal('totp'), Type.Literal('email'), Type.Literal('backup_code')])),
});

export const loginRoutes: FastifyPluginAsyncTypebox<LoginRoutesOptions> = async (
  app,
  { login, authenticate, refreshTokenTtlSeconds },
) => {
  function isTokens(result: LoginTokens | MfaChallenge): result is LoginTokens {
    return 'access_token' in result;
  }

  // Each canonical route has a twin at the original Flask API's path (the HTTP contract, "Compatibility routes").
  for (const [url, compat] of [
    ['/api/auth/login', false],
    ['/login', true],
  ] as const) {
    app.post(
      url,
      {
        schema: {
          tags: [compat ? 'compatibility' : 'login'],
          deprecated: compat,
          body: LoginBody,
          response: {
            200: Type.Union([Type.Ref('Tokens'), Type.Ref('MfaChallenge')]),
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request, reply) => {
        const result = await login.passwordLogin(request.body, lockoutClient(request));
        if (isTokens(result) && isBrowserRequest(request))
          setRefreshCookie(reply, result.refresh_token, refreshTokenTtlSeconds);
        if (isTokens(result)) setDeviceCookie(reply, login.deviceCookie(result.user.id));
        return result;
      },
    );
  }

  app.post(
    '/api/auth/2fa/login',
    {
      schema: {
        tags: ['login'],
        body: SecondFactorBody,
        response: { 200: Type.Ref('Tokens'), ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const input = {
        mfa_token: aliasedField(body, 'mfa_token', 'login_token'),
        code: aliasedField(body, 'code', 'otp'),
        method: body.method,
      };
      const tokens = await login.secondFactorLogin(input, lockoutClient(request));
      if (isBrowserRequest(request)) setRefreshCookie(reply, tokens.refresh_token, refreshTokenTtlSeconds);
      setDeviceCookie(reply, login.deviceCookie(tokens.user.id));
      return tokens;
    },
  );

  // the HTTP contract "Security rules": a fresh auth_time for changes that need a recent sign-in.
  app.post(
    '/api/auth/reauth',
    {
      onRequest: authenticate,
      schema: {
        tags: ['login'],
        security: [{ bearer: [] }],
        body: Type.Object({
          password: Str({ minLength: 1, maxLength: 1024 }),
          code: Type.Optional(Str({ minLength: 1, maxLength: 32 })),
        }),
        response: { 200: Type.Ref('Tokens'), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const tokens = await login.reauthenticate(
        requirePrincipal(request.principal),
        request.body,
        lockoutClient(request),
      );
      if (isBrowserRequest(request)) setRefreshCookie(reply, tokens.refresh_token, refreshTokenTtlSeconds);
      return tokens;
    },
  );

  // With an mfa_token: the login code. With a Bearer token instead: a step-up code for a security change.
  app.post(
    '/api/auth/2fa/email/send',
    {
      schema: {
        tags: ['login'],
        body: Type.Optional(Type.Object({ mfa_token: Type.Optional(Str({ minLength: 1, maxLength: 512 })) })),
        response: {
          202: Type.Object({ sent: Type.Literal(true), expires_in: Type.Integer() }),
          ...errorResponses(400, 401, 409, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const mfaToken = request.body?.mfa_token;
      if (mfaToken) return reply.status(202).send(await login.sendLoginEmailCode(mfaToken));
      await authenticate(request);
      return reply.status(202).send(await login.sendStepUpEmailCode(requirePrincipal(request.principal).userId));
    },
  );
};
