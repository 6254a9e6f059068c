/**
 * Shapes of the API, derived from the server's own schemas (web/src/api/openapi.d.ts, generated
 * from docs/openapi.json by `npm run docs:openapi`): a field the server renames or drops fails
 * `vue-tsc` wherever the web UI still reads it. docs/api.md is the prose reference.
 */
import type { QueryOf, RequestBody, ResponseOf, Schemas } from './schema';

/** The roles an administrator can give (PATCH /api/admin/users/{id}). */
export type Role = NonNullable<RequestBody<'/api/admin/users/{id}', 'patch'>['role']>;

export type User = Schemas['User'];
export type AdminUser = Schemas['AdminUser'];
export type OidcClient = Schemas['OidcClient'];
export type Tokens = Schemas['Tokens'];
export type MfaChallenge = Schemas['MfaChallenge'];
export type Product = Schemas['Product'];
/** Every error answer: `{"error": code, "message": ..., "fields"?: {...}}`. */
export type ErrorBody = Schemas['Error'];

/** The second-step methods a challenge can offer (POST /api/auth/2fa/login's `method`). */
export type MfaMethod = NonNullable<RequestBody<'/api/auth/2fa/login', 'post'>['method']>;

export type TwoFactorStatus = ResponseOf<'/api/auth/2fa', 'get'>;
export type Authenticator = ResponseOf<'/api/auth/2fa/authenticators', 'get'>['authenticators'][number];
export type SessionInfo = ResponseOf<'/api/auth/sessions', 'get'>['sessions'][number];
export type AuditEvent = ResponseOf<'/api/admin/audit', 'get'>['items'][number];
export type TokenCheck = ResponseOf<'/api/auth/token/verify', 'post'>;
export type ProductQuery = QueryOf<'/api/products', 'get'>;

/** A page of a list: GET /api/products's paging fields around items of type T. */
export type Page<T> = Omit<ResponseOf<'/api/products', 'get'>, 'items'> & { items: T[] };
export type Passkey = ResponseOf<'/api/auth/passkeys', 'get'>['passkeys'][number];
