import { Type } from '@sinclair/typebox';
import { PATTERN_MESSAGE, Str } from '../../http/schema.js';

/*
 * The JSON forms of WebAuthn Level 3 (§5.1, `PublicKeyCredential.toJSON()`), declared field by field so
 * an unknown field is refused like anywhere else (the HTTP contract "Security rules"). Only the
 * extension outputs stay open: their members are defined by each extension, not by the core spec.
 */

const B64URL = '^[A-Za-z0-9_-]*$';
const base64url = (maxLength: number): ReturnType<typeof Str> =>
  Str({ minLength: 1, maxLength, pattern: B64URL, [PATTERN_MESSAGE]: 'must be base64url' });

// A credential ID is at most 1023 bytes (§5.4.2), 1364 base64url characters.
const CredentialId = base64url(1400);
const ExtensionResults = Type.Object({}, { additionalProperties: true });
const Attachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]);

export const RegistrationResponse = Type.Object({
  id: CredentialId,
  rawId: CredentialId,
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: base64url(8192),
    attestationObject: base64url(65536),
    authenticatorData: Type.Optional(base64url(65536)),
    transports: Type.Optional(Type.Array(Str({ minLength: 1, maxLength: 32 }), { maxItems: 10 })),
    publicKeyAlgorithm: Type.Optional(Type.Integer()),
    publicKey: Type.Optional(base64url(8192)),
  }),
  authenticatorAttachment: Type.Optional(Attachment),
  clientExtensionResults: ExtensionResults,
});

export const AuthenticationResponse = Type.Object({
  id: CredentialId,
  rawId: CredentialId,
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: base64url(8192),
    authenticatorData: base64url(65536),
    signature: base64url(4096),
    userHandle: Type.Optional(Str({ maxLength: 128, pattern: B64URL, [PATTERN_MESSAGE]: 'must be base64url' })),
  }),
  authenticatorAttachment: Type.Optional(Attachment),
  clientExtensionResults: ExtensionResults,
});

/** What a person calls one of their passkeys: 1–64 characters, something visible, no control characters. */
export const PasskeyName = Str({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$',
  [PATTERN_MESSAGE]: 'Use 1 to 64 characters, not only spaces.',
});

export const Passkey = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  backed_up: Type.Boolean(),
  transports: Type.Array(Type.String()),
});

/** The options' JSON is the library's (WebAuthn Level 3 JSON forms); documented, not re-declared. */
export const CreationOptions = Type.Object(
  {},
  { additionalProperties: true, description: 'PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3, §5.4)' },
);
export const RequestOptions = Type.Object(
  {},
  { additionalProperties: true, description: 'PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3, §5.5)' },
);
