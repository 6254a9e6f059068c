import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';

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
