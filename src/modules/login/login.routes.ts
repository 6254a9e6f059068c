import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Str, aliasedField, errorResponses } from '../../http/schema.js';
import { LoginBody } from '../accounts/accounts.schemas.js';
import { AuthenticationResponse, RequestOptions } from '../passkeys/passkeys.schemas.js';
import { lockoutClient, setDeviceCookie } from '../lockout/device-cookie.js';
import { isBrowserRequest, setRefreshCookie } from '../sessions/refresh-cookie.js';
import type { SessionCookie } from '../sessions/session-cookie.js';
import type { Tokens } from '../sessions/sessions.service.js';
import { requirePrincipal, type Authenticate, type FinishMfaSetup } from '../../http/principal.js';
import { validationError } from '../../lib/errors.js';
import type { LoginService, LoginTokens, ReauthInput, SecondFactorLoginInput } from './login.service.js';

export interface LoginRoutesOptions {
  login: LoginService;
  authenticate: Authenticate;
  refreshTokenTtlSeconds: number;
  /** The browser session cookie forward authentication reads, set beside the refresh cookie. */
  sessionCookie: SessionCookie;
}

// `login_token` and `otp` are the FastAPI app's names for `mfa_token` and `code` (the HTTP contract, "Compatibility
// routes").
const SecondFactorBody = Type.Object({
  mfa_token: Type.Optional(Str({ minLength: 1, maxLength: 512 })),
  login_token: Type.Optional(Str({ minLength: 1, maxLength: 512, description: 'Another name for mfa_token' })),
  code: Type.Optional(Str({ minLength: 1, maxLength: 32 })),
  otp: Type.Optional(Str({ minLength: 1, maxLength: 32, description: 'Another name for code' })),
  method: Type.Optional(
    Type.Union([Type.Literal('totp'), Type.Literal('email'), Type.Literal('backup_code'), Type.Literal('passkey')]),
  ),
  response: Type.Optional(AuthenticationResponse),
});

/** The second step's input: a code, or with method `passkey` the assertion (and no code). */
function secondFactorInput(body: Static<typeof SecondFactorBody>): SecondFactorLoginInput {
  const mfa_token = aliasedField(body, 'mfa_token', 'login_token');
  if (body.method === 'passkey') {
    if (body.response === undefined) throw validationError({ response: 'is required with method passkey' });
    if (body.code !== undefined || body.otp !== undefined)
      throw validationError({ code: 'is not used with method passkey' });
    return { mfa_token, method: 'passkey', response: body.response };
  }
  if (body.response !== undefined) throw validationError({ response: 'is only used with method passkey' });
  const method = body.method;
  return { mfa_token, code: aliasedField(body, 'code', 'otp'), method };
}

// The contract's "password (and code) or a passkey assertion": `response` comes alone.
const ReauthBody = Type.Object({
  password: Type.Optional(Str({ minLength: 1, maxLength: 1024 })),
  code: Type.Optional(Str({ minLength: 1, maxLength: 32 })),
  response: Type.Optional(AuthenticationResponse),
});

function reauthInput(body: Static<typeof ReauthBody>): ReauthInput {
  if (body.response !== undefined) {
    if (body.password !== undefined || body.code !== undefined)
      throw validationError({ response: 'comes alone: a passkey replaces the password and code' });
    return { response: body.response };
  }
  if (body.password === undefined)
    throw validationError({ password: 'is required (or a passkey assertion in response)' }, 'password is required.');
  return { password: body.password, code: body.code };
}

/**
 * What a sign-in leaves in the browser: the refresh and session cookies (browser requests only) and the device
 * cookie.
 */
function setSignInCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: LoginTokens,
  options: Pick<LoginRoutesOptions, 'login' | 'refreshTokenTtlSeconds' | 'sessionCookie'>,
): void {
  setBrowserCookies(request, reply, tokens, options);
  setDeviceCookie(reply, options.login.deviceCookie(tokens.user.id));
}

/** A browser's answer with tokens keeps its refresh cookie and its session cookie in step. */
function setBrowserCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: Tokens,
  options: Pick<LoginRoutesOptions, 'refreshTokenTtlSeconds' | 'sessionCookie'>,
): void {
  if (!isBrowserRequest(request)) return;
  setRefreshCookie(reply, tokens.refresh_token, options.refreshTokenTtlSeconds);
  options.sessionCookie.set(reply, tokens);
}

/**
 * REQUIRE_2FA: the two-factor routes call this after a factor's set-up succeeded. A set-up token's
 * holder gets the sign-in it was waiting for, with the cookies of any sign-in; anyone else nothing.
 */
export function createFinishMfaSetup(
  options: Pick<LoginRoutesOptions, 'login' | 'refreshTokenTtlSeconds' | 'sessionCookie'>,
): FinishMfaSetup {
  return async (request, reply, method) => {
    const { userId, setupGrant, amr } = requirePrincipal(request.principal);
    if (setupGrant === undefined) return {};
    const tokens = await options.login.completeMfaSetup(
      { userId, grantId: setupGrant, method, firstFactor: amr.includes('hwk') ? 'hwk' : 'pwd' },
      lockoutClient(request),
    );
    if (tokens === null) return {};
    setSignInCookies(request, reply, tokens, options);
    return { tokens };
  };
}

export const loginRoutes: FastifyPluginAsyncTypebox<LoginRoutesOptions> = async (app, options) => {
  const { login, authenticate } = options;

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
            200: Type.Union([Type.Ref('Tokens'), Type.Ref('MfaChallenge'), Type.Ref('MfaSetupRequired')]),
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request, reply) => {
        const result = await login.passwordLogin(request.body, lockoutClient(request));
        if ('access_token' in result) setSignInCookies(request, reply, result, options);
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
      const tokens = await login.secondFactorLogin(secondFactorInput(request.body), lockoutClient(request));
      setSignInCookies(request, reply, tokens, options);
      return tokens;
    },
  );

  // A passkey as the second step: options whose challenge belongs to this mfa_token's sign-in.
  app.post(
    '/api/auth/2fa/passkey/options',
    {
      schema: {
        tags: ['login'],
        body: Type.Object({ mfa_token: Str({ minLength: 1, maxLength: 512 }) }),
        response: { 200: Type.Object({ options: RequestOptions }), ...errorResponses(400, 401, 409, 429) },
      },
    },
    async (request) => login.passkeySecondFactorOptions(request.body.mfa_token),
  );

  // Passwordless sign-in with a passkey (WebAuthn Level 3, §7.2): options and a flow token, then the assertion.
  app.post(
    '/api/auth/passkeys/login/options',
    {
      schema: {
        tags: ['login'],
        body: Type.Optional(
          Type.Object({ username: Type.Optional(Str({ minLength: 1, maxLength: 254 })) }, { nullable: true }),
        ),
        response: {
          200: Type.Object({ flow_token: Type.String(), options: RequestOptions }),
          ...errorResponses(400, 429),
        },
      },
    },
    async (request) => login.passkeyLoginOptions(request.body?.username),
  );

  app.post(
    '/api/auth/passkeys/login/verify',
    {
      schema: {
        tags: ['login'],
        body: Type.Object({ flow_token: Str({ minLength: 1, maxLength: 512 }), response: AuthenticationResponse }),
        response: {
          200: Type.Union([Type.Ref('Tokens'), Type.Ref('MfaChallenge'), Type.Ref('MfaSetupRequired')]),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const result = await login.passkeyLogin(request.body, lockoutClient(request));
      if ('access_token' in result) setSignInCookies(request, reply, result, options);
      return result;
    },
  );

  // Re-authentication with a passkey: options whose challenge belongs to the caller's session.
  app.post(
    '/api/auth/passkeys/reauth/options',
    {
      onRequest: authenticate,
      config: { beforeSecondFactor: 'session' },
      schema: {
        tags: ['login'],
        security: [{ bearer: [] }],
        body: Type.Optional(Type.Object({}, { nullable: true })),
        response: { 200: Type.Object({ options: RequestOptions }), ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request) => login.passkeyReauthOptions(requirePrincipal(request.principal)),
  );

  // the HTTP contract "Security rules": a fresh auth_time for changes that need a recent sign-in.
  app.post(
    '/api/auth/reauth',
    {
      onRequest: authenticate,
      // REQUIRE_2FA=all: a password-only session turns into a two-factor one here, once a factor is set up.
      config: { beforeSecondFactor: 'session' },
      schema: {
        tags: ['login'],
        security: [{ bearer: [] }],
        body: ReauthBody,
        response: { 200: Type.Ref('Tokens'), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const tokens = await login.reauthenticate(
        requirePrincipal(request.principal),
        reauthInput(request.body),
        lockoutClient(request),
      );
      setBrowserCookies(request, reply, tokens, options);
      return tokens;
    },
  );

  // With an mfa_token: the login code. With a Bearer token instead: a step-up code for a security change.
  app.post(
    '/api/auth/2fa/email/send',
    {
      // The step-up code re-authentication asks for (REQUIRE_2FA=all: as /api/auth/reauth).
      config: { beforeSecondFactor: 'session' },
      schema: {
        tags: ['login'],
        body: Type.Optional(Type.Object({ mfa_token: Type.Optional(Str({ minLength: 1, maxLength: 512 })) })),
        response: {
          202: Type.Object({ sent: Type.Literal(true), expires_in: Type.Integer() }),
          ...errorResponses(400, 401, 403, 409, 429, 503),
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
