import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';
import { UserSchema } from '../accounts/accounts.schemas.js';
import { ROLES, type Role } from '../accounts/accounts.service.js';
import { AuditEventSchema } from '../audit/audit.schemas.js';

const NullableDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

/** The HTTP contract "Administration": `user` plus the account's lock and last sign-in. */
export const AdminUserSchema = Type.Object(
  {
    ...UserSchema.properties,
    locked_until: NullableDateTime,
    last_login_at: NullableDateTime,
    passkeys: Type.Integer({ minimum: 0, description: 'How many passkeys the user has' }),
  },
  { $id: 'AdminUser' },
);

export const ListUsersQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 }),
  q: Type.Optional(Str({ maxLength: 254, description: 'Username or email contains (case-insensitive)' })),
});
export type ListUsersQuery = Static<typeof ListUsersQuery>;

export const UpdateUserBody = Type.Object({
  // One `enum` rather than a union of literals: a refused value gets one message listing the roles.
  role: Type.Optional(Type.Unsafe<Role>({ type: 'string', enum: [...ROLES], description: ROLES.join(' or ') })),
  locked: Type.Optional(
    Type.Boolean({ description: 'true: refused sign-in until unlocked, sessions end; false: clears any lock' }),
  ),
});
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const ListAuditQuery = Type.Object({
  user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  type: Type.Optional(Str({ minLength: 1, maxLength: 64, description: 'e.g. login.failed' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  before: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2147483647,
      description: "Only events older than this id (the previous page's next_before)",
    }),
  ),
});
export type ListAuditQuery = Static<typeof ListAuditQuery>;

export const AuditPageSchema = Type.Object({
  items: Type.Array(AuditEventSchema),
  next_before: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `before` for the next (older) page; null on the last page',
  }),
});
