import { ApiError } from './client';

/** Every error code of the API (src/lib/errors.ts ERROR_CATALOGUE) plus the client's own network error. */
export type ApiErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'invalid_mfa_code'
  | 'mfa_token_invalid'
  | 'refresh_token_invalid'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'username_taken'
  | 'email_taken'
  | 'mfa_already_enabled'
  | 'too_many_authenticators'
  | 'too_many_passkeys'
  | 'passkey_already_registered'
  | 'mfa_not_enabled'
  | 'last_admin'
  | 'too_many_attempts'
  | 'service_unavailable'
  | 'internal_error'
  | 'reauth_required'
  | 'mfa_setup_required'
  | 'network_error'
  | 'reauth_cancelled';

type Message = string | ((error: ApiError) => string);

function waitText(seconds: number | undefined): string {
  if (seconds === undefined) return 'Please wait a moment and try again.';
  if (seconds >= 120) return `Please wait ${Math.ceil(seconds / 60)} minutes and try again.`;
  return `Please wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`;
}

/** The one table that turns an API error code into a sentence for people. */
export const ERROR_MESSAGES: Record<ApiErrorCode, Message> = {
  validation_failed: 'Some fields need attention; see the notes next to them.',
  invalid_json: 'The app sent a request the server could not read. Please reload the page.',
  payload_too_large: 'That is too much text; please shorten it.',
  unsupported_media_type: 'The app sent a request in a format the server does not accept. Please reload the page.',
  unauthorized: 'Your session has ended. Please sign in again.',
  invalid_credentials: 'The username, email or password is incorrect.',
  invalid_mfa_code: 'That code is incorrect or has expired. Check it and try again.',
  mfa_token_invalid: 'This sign-in attempt has expired. Please enter your password again.',
  refresh_token_invalid: 'Your session has ended. Please sign in again.',
  forbidden: 'You are not allowed to do this.',
  not_found: 'We could not find that; it may have been deleted.',
  method_not_allowed: 'This action is not available.',
  username_taken: 'This username is already taken; please choose another.',
  email_taken: 'An account with this email address already exists.',
  mfa_already_enabled: 'This two-factor method is already turned on.',
  mfa_not_enabled: 'Two-factor authentication is not turned on for this account.',
  last_admin: 'This is the last administrator account. Make someone else an administrator first.',
  too_many_authenticators: 'You already have 10 authenticator apps. Remove one before adding another.',
  too_many_passkeys: 'You already have 20 passkeys. Remove one before adding another.',
  passkey_already_registered: 'This passkey is already registered to an account.',
  too_many_attempts: (error) => `Too many attempts. ${waitText(error.retryAfter)}`,
  service_unavailable: 'The service is temporarily unavailable. Please try again shortly.',
  internal_error: 'Something went wrong on our side. Please try again.',
  network_error: 'The server could not be reached. Check your connection and try again.',
  reauth_required: 'For your security, confirm it is you with your password before making this change.',
  mfa_setup_required:
    'This server requires two-factor authentication for your account. Set it up on the Security page, then sign in again.',
  reauth_cancelled: 'Nothing was changed: this needs you to confirm it is you first.',
};

/** A sentence for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const entry = (ERROR_MESSAGES as Record<string, Message | undefined>)[error.code];
    // `forbidden` carries a precise reason from the server (e.g. "Your role may read products but not change them.").
    if (error.code === 'forbidden' && error.message) return error.message;
    if (entry === undefined) return error.message || (ERROR_MESSAGES.internal_error as string);
    return typeof entry === 'function' ? entry(error) : entry;
  }
  return ERROR_MESSAGES.internal_error as string;
}

const FIELD_NAMES: Record<string, string> = {
  username: 'Username',
  email: 'Email',
  password: 'Password',
  new_password: 'New password',
  current_password: 'Current password',
  name: 'Name',
  description: 'Description',
  price: 'Price',
  quantity: 'Quantity',
  code: 'Code',
  token: 'Link',
};

/**
 * The server says `{"password": "must be at least 8 characters"}`; people read "Password must be at least 8
 * characters."
 */
function sentence(field: string, why: string): string {
  if (!/^[a-z]/.test(why)) return why;
  const name = FIELD_NAMES[field] ?? field.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
  return `${name} ${why}${/[.!?]$/.test(why) ? '' : '.'}`;
}

/** Field errors of a validation failure, or of conflicts that belong to one field. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  if (error.code === 'username_taken') return { username: ERROR_MESSAGES.username_taken as string };
  if (error.code === 'email_taken') return { email: ERROR_MESSAGES.email_taken as string };
  return Object.fromEntries(Object.entries(error.fields).map(([field, why]) => [field, sentence(field, String(why))]));
}
