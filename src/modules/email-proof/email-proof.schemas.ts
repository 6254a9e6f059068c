import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';
import { EmailStr } from '../accounts/accounts.schemas.js';

// The address rule of registration: something@domain.tld, no spaces, at most the SMTP path limit.
const Email = EmailStr({ description: 'The address to prove' });

export const GenerateCodeBody = Type.Object({ email: Email });
export type GenerateCodeBody = Static<typeof GenerateCodeBody>;

// Any short string: a code of the wrong shape is a wrong code (401), as in the original app.
export const VerifyCodeBody = Type.Object({
  email: Email,
  code: Str({ minLength: 1, maxLength: 32, description: 'The 6-digit code from the mail' }),
});
export type VerifyCodeBody = Static<typeof VerifyCodeBody>;

export const CodeAccepted = Type.Object({ accepted: Type.Literal(true) });
export const Verified = Type.Object({ verified: Type.Literal(true) });
