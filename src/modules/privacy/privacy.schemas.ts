import { Type } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';
import { UserSchema } from '../accounts/accounts.schemas.js';
import { AuditEventSchema } from '../audit/audit.schemas.js';
import { Passkey } from '../passkeys/passkeys.schemas.js';
import { SessionSchema } from '../sessions/sessions.routes.js';
import { EXPORT_AUDIT_EVENTS_MAX } from './privacy.service.js';

const NullableDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const DataExportSchema = Type.Object({
  exported_at: Type.String({ format: 'date-time' }),
  profile: Type.Object({ ...UserSchema.properties, last_login_at: NullableDateTime }),
  sessions: Type.Array(SessionSchema, { description: 'As GET /api/auth/sessions' }),
  two_factor: Type.Object(
    {
      totp_enabled: Type.Boolean(),
      email_enabled: Type.Boolean(),
      backup_codes_remaining: Type.Integer(),
    },
    // Whatever GET /api/auth/2fa shows, the export shows (never a secret: the status holds none).
    { additionalProperties: true, description: 'As GET /api/auth/2fa' },
  ),
  passkeys: Type.Array(Passkey, { description: 'As GET /api/auth/passkeys' }),
  audit_events: Type.Array(AuditEventSchema, {
    description: `The person's own events, newest first, at most ${EXPORT_AUDIT_EVENTS_MAX}`,
  }),
  audit_events_truncated: Type.Boolean({
    description: `true: older events exist beyond the ${EXPORT_AUDIT_EVENTS_MAX}`,
  }),
});

export const DeleteAccountBody = Type.Object({
  confirm: Str({ minLength: 1, maxLength: 254, description: 'Your username, typed exactly' }),
});
