/**
 * The one error type of the service. Every failure a client can see has a stable code
 * from this catalogue (the HTTP contract, "Conventions"); the HTTP status and default message live here.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send the request body as application/json.' },
  unauthorized: { status: 401, message: 'A valid access token is required.' },
  invalid_credentials: { status: 401, message: 'The username or password is incorrect.' },
  invalid_mfa_code: { status: 401, message: 'The verification code is incorrect or expired.' },
  mfa_token_invalid: { status: 401, message: 'The sign-in attempt has expired; sign in again.' },
  refresh_token_invalid: { status: 401, message: 'The refresh token is invalid, expired or already used.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  reauth_required: {
    status: 403,
    message:
      'Confirm it is you: call POST /api/auth/reauth with your password (and a code when two-factor authentication is on), then try again.',
  },
  mfa_setup_required: {
    status: 403,
    message:
      'This server requires two-factor authentication for this account: set up an authenticator app or email codes (POST /api/auth/2fa/setup), then sign in again.',
  },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.' },
  username_taken: { status: 409, message: 'This username is already taken.' },
  email_taken: { status: 409, message: 'This email address is already registered.' },
  mfa_already_enabled: { status: 409, message: 'Two-factor authentication is already enabled.' },
  mfa_not_enabled: { status: 409, message: 'Two-factor authentication is not enabled.' },
  last_admin: {
    status: 409,
    message: 'This is the last administrator account; make someone else an administrator first.',
  },
  too_many_authenticators: {
    status: 409,
    message: 'You have 10 authenticator apps, the most there can be: remove one before adding another.',
  },
  too_many_passkeys: {
    status: 409,
    message: 'You have 20 passkeys, the most there can be: remove one before adding another.',
  },
  passkey_already_registered: { status: 409, message: 'This passkey is already registered.' },
  too_many_attempts: { status: 429, message: 'Too many attempts; try again later.' },
  service_unavailable: { status: 503, message: 'The service is temporarily unavailable.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  message?: string;
  fields?: Record<string, string>;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: Record<string, string> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function validationError(fields: Record<string, string>, message?: string): AppError {
  return new AppError('validation_failed', { fields, message });
}

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  fields?: Record<string, string>;
}

export function errorBody(error: AppError): ErrorBody {
  const body: ErrorBody = { error: error.code, message: error.message };
  if (error.code === 'validation_failed') body.fields = error.fields ?? {};
  return body;
}
