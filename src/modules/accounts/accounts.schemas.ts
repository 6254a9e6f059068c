import { Type, type Static, type StringOptions } from '@sinclair/typebox';
import { PATTERN_MESSAGE, Str } from '../../http/schema.js';

export const UserSchema = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    role: Type.String(),
    email_verified: Type.Boolean(),
    mfa_enabled: Type.Boolean(),
    mfa_methods: Type.Array(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);

export const TokensSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    refresh_token: Type.String(),
    user: Type.Ref('User'),
    '2fa_required': Type.Optional(
      Type.Literal(false, { description: "On sign-in answers: the FastAPI app's flag, no second step needed" }),
    ),
  },
  { $id: 'Tokens' },
);

export const MfaChallengeSchema = Type.Object(
  {
    mfa_required: Type.Literal(true),
    '2fa_required': Type.Literal(true, { description: "The FastAPI app's name for mfa_required" }),
    mfa_token: Type.String(),
    login_token: Type.String({ description: "The FastAPI app's name for mfa_token (the same value)" }),
    mfa_methods: Type.Array(Type.String()),
    expires_in: Type.Integer(),
  },
  { $id: 'MfaChallenge' },
);

export const MfaSetupRequiredSchema = Type.Object(
  {
    mfa_setup_required: Type.Literal(true),
    setup_token: Type.String({
      description: 'A restricted access token (scope mfa_setup): Bearer for setting up a second factor only',
    }),
    expires_in: Type.Integer(),
    mfa_methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('email')])),
  },
  {
    $id: 'MfaSetupRequired',
    description: 'REQUIRE_2FA asks this account for a second factor it does not have yet: set one up to sign in',
  },
);

/** An email address as Twofold accepts it (also for imported accounts): something@domain.tld, no spaces. */
export const EMAIL_PATTERN = '^[^\\s@\\u0000]+@[^\\s@\\u0000]+\\.[^\\s@\\u0000]+$';

/** An email address field of a request. */
export function EmailStr(options: StringOptions = {}): ReturnType<typeof Str> {
  return Str({
    maxLength: 254,
    pattern: EMAIL_PATTERN,
    [PATTERN_MESSAGE]: 'Enter an email address such as name@example.com.',
    ...options,
  });
}

export const RegisterBody = Type.Object({
  username: Str({
    minLength: 3,
    maxLength: 50,
    pattern: '^[A-Za-z0-9_.-]+$',
    [PATTERN_MESSAGE]: 'Use only letters, digits, _ . -',
    description: '3-50 letters, digits, _ . -',
  }),
  password: Str({ minLength: 1, maxLength: 1024, description: '8-128 characters, not a common password' }),
  email: Type.Optional(EmailStr()),
});
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object({
  username: Str({ minLength: 1, maxLength: 254, description: 'Username or email address' }),
  password: Str({ minLength: 1, maxLength: 1024 }),
  totp_code: Type.Optional(Str({ maxLength: 32 })),
});
export type LoginBody = Static<typeof LoginBody>;

export const ChangePasswordBody = Type.Object({
  current_password: Str({ minLength: 1, maxLength: 1024 }),
  new_password: Str({ minLength: 1, maxLength: 1024 }),
});

export const ProtectedResponse = Type.Object({ message: Type.String(), user: Type.Ref('User') });
