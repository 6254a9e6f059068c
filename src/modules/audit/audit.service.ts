import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../lib/clock.js';
import type { AuditQuery, AuditRepository, AuditRow } from './audit.repository.js';

/** Every security event has one of these types (issue 4/5: the audit trail). */
export type AuditType =
  | 'user.registered'
  | 'login.succeeded'
  | 'login.failed'
  | 'mfa.challenged'
  | 'mfa.used'
  | 'mfa.failed'
  | 'mfa.backup_code_used'
  | 'mfa.totp_enabled'
  | 'mfa.email_enabled'
  | 'mfa.disabled'
  | 'mfa.backup_codes_regenerated'
  | 'mfa.reset'
  | 'refresh_token.reused'
  | 'password.changed'
  | 'password.reset'
  | 'email.verified'
  | 'role.changed'
  | 'account.locked'
  | 'product.created'
  | 'product.updated'
  | 'product.deleted'
  | 'account.unlocked'
  | 'user.imported';

export interface AuditContext {
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditEvent extends AuditContext {
  type: AuditType;
  userId: number | null;
  /** A small object of facts; never a password, code or token. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface AuditView {
  id: number;
  at: string;
  type: string;
  user_id: number | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
}

export interface AuditService {
  record(event: AuditEvent): Promise<void>;
  list(query: AuditQuery): Promise<AuditView[]>;
}

export function createAuditService(deps: { repository: AuditRepository; clock: Clock; log: FastifyBaseLogger | undefined }): AuditService {
  return {
    async record(event) {
      try {
        await deps.repository.insert({
          at: deps.clock.now().getTime(),
          type: event.type,
          user_id: event.userId,
          ip: event.ip ?? null,
          user_agent: event.userAgent?.slice(0, 255) ?? null,
          detail: JSON.stringify(event.detail ?? {}).slice(0, 2000),
        });
      } catch (error) {
        // The audit trail must never turn a user's successful action into an error.
        deps.log?.error({ err: error, type: event.type }, 'could not write audit event');
      }
    },
    async list(query) {
      return (await deps.repository.list(query)).map(toView);
    },
  };
}

function toView(row: AuditRow): AuditView {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    type: row.type,
    user_id: row.user_id,
    ip: row.ip,
    user_agent: row.user_agent,
    detail: parseDetail(row.detail),
  };
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
