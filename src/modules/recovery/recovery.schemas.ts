import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';
import { EmailStr } from '../accounts/accounts.schemas.js';

// Any address up to the SMTP path limit is accepted: a malformed one gets the same 202 as an unknown one.
const Email = Str({ minLength: 1, maxLength: 254 });
// 32 random bytes are 43 base64url characters; the bound only keeps junk out.
const Token = Str({ minLength: 1, maxLength: 256 });

export const EmailBody = Type.Object({ email: Email });
export type EmailBody = Static<typeof EmailBody>;

export const ResetPasswordBody = Type.Object({ token: Token, new_password: Str({ minLength: 1, maxLength: 1024 }) });
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const VerifyEmailBody = Type.Object({ token: Token });
export type VerifyEmailBody = Static<typeof VerifyEmailBody>;

export const ResetLinkBody = Type.Object({ token: Token });
export type ResetLinkBody = Static<typeof ResetLinkBody>;
export const ResetLinkValid = Type.Object({ valid: Type.Literal(true) });

export const Accepted = Type.Object({ accepted: Type.Literal(true) });

export const EmailChangeBody = Type.Object({ email: EmailStr() });
export type EmailChangeBody = Static<typeof EmailChangeBody>;
export const EmailChangeAccepted = Type.Object({
  pending_email: Type.String({ description: 'The new address, not yet the account’s: it waits for its link' }),
  expires_in: Type.Integer({ description: 'Seconds the mailed link works' }),
});
export const PendingEmailAnswer = Type.Object({
  pending_email: Type.Union([Type.String(), Type.Null()], {
    description: 'The address waiting for its link, or null',
  }),
  expires_in: Type.Union([Type.Integer(), Type.Null()], { description: 'Seconds its link still works, or null' }),
});
