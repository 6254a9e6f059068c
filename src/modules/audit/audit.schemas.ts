import { Type } from '@sinclair/typebox';
import { AUDIT_TYPES, type AuditType } from './audit.service.js';

/** One event as the administration's list and a person's own data export show it. */
export const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  // The known kinds, so clients (the web UI's event filter) take the list from the schema.
  type: Type.Unsafe<AuditType>({ type: 'string', enum: [...AUDIT_TYPES] }),
  user_id: Type.Union([Type.Integer(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
