import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';
import { CLIENT_GRANTS } from './clients.service.js';

/** A relying party as `GET /api/admin/oidc/clients` lists it: never its secret, which is kept only as a hash. */
export const OidcClientSchema = Type.Object(
  {
    client_id: Type.String(),
    name: Type.String(),
    public: Type.Boolean({ description: 'No secret: a browser or native app, which must use PKCE (RFC 6749 §2.1)' }),
    redirect_uris: Type.Array(Type.String()),
    post_logout_redirect_uris: Type.Array(Type.String(), {
      description: 'Where an RP-initiated logout may send the browser back (OpenID Connect RP-Initiated Logout 1.0 §3)',
    }),
    grant_types: Type.Array(Type.String()),
    scope: Type.String({ description: 'The scopes the client may ask for, space-separated (RFC 6749 §3.3)' }),
    skip_consent: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'OidcClient' },
);

export const ClientIdParams = Type.Object({
  // 36 hex characters (24 base64url ones for clients made before); the bound only keeps a guess short.
  id: Str({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

/** The fields of `twofold client create`; the clients service checks the URIs, grants and scopes as for the CLI. */
export const CreateClientBody = Type.Object({
  name: Str({ minLength: 1, maxLength: 255, description: 'Shown on the consent page' }),
  redirect_uris: Type.Optional(
    Type.Array(Str({ minLength: 1, maxLength: 2000 }), {
      maxItems: 20,
      description: 'Absolute URLs without a fragment (RFC 6749 §3.1.2); none for client_credentials only',
    }),
  ),
  post_logout_redirect_uris: Type.Optional(
    Type.Array(Str({ minLength: 1, maxLength: 2000 }), {
      maxItems: 20,
      description:
        'Where the browser may return after an RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §3): https URLs without a fragment (http for localhost, 127.0.0.1, [::1]); only with authorization_code',
    }),
  ),
  public: Type.Optional(Type.Boolean({ default: false, description: 'No secret (must use PKCE)' })),
  grants: Type.Optional(
    Type.Array(Type.Unsafe<(typeof CLIENT_GRANTS)[number]>({ type: 'string', enum: [...CLIENT_GRANTS] }), {
      minItems: 1,
      maxItems: CLIENT_GRANTS.length,
      description: 'Default: authorization_code and refresh_token',
    }),
  ),
  scopes: Type.Optional(
    Type.Array(Str({ minLength: 1, maxLength: 100, pattern: '^[^\\s\\u0000]+$' }), {
      maxItems: 50,
      description: 'Default: openid profile email (and offline_access with refresh_token); API scopes from OIDC_SCOPES',
    }),
  ),
  skip_consent: Type.Optional(
    Type.Boolean({ default: false, description: 'A first-party application: no consent page' }),
  ),
});
export type CreateClientBody = Static<typeof CreateClientBody>;

export const CreatedClientSchema = Type.Object({
  ...OidcClientSchema.properties,
  client_secret: Type.Union([Type.String(), Type.Null()], {
    description: 'Shown this once (null for a public client); only its hash is stored',
  }),
});

export const RotatedSecretSchema = Type.Object({
  client_id: Type.String(),
  client_secret: Type.String({ description: 'Shown this once; the old secret stops working at once' }),
});
