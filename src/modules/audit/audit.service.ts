import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../lib/clock.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { createAuditRepository, type AuditQuery, type AuditRepository, type AuditRow } from './audit.repository.js';
import { createLateRequestEraser } from './late-requests.js';

/** Every security event has one of these types. */
/** Every kind of event the audit trail records (the admin API publishes the list in its schema). */
export const AUDIT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'mfa.challenged',
  'mfa.setup_required',
  'mfa.used',
  'mfa.failed',
  'mfa.backup_code_used',
  'mfa.totp_enabled',
  'mfa.totp_added',
  'mfa.totp_renamed',
  'mfa.totp_removed',
  'mfa.totp_unreadable',
  'mfa.email_enabled',
  'mfa.disabled',
  'mfa.backup_codes_regenerated',
  'mfa.reset',
  'passkey.registered',
  'passkey.renamed',
  'passkey.removed',
  'passkey.counter_anomaly',
  'refresh_token.reused',
  'reauth.succeeded',
  'reauth.failed',
  'password.changed',
  'password.reset',
  'email.verified',
  'email.change_requested',
  'email.changed',
  'email_proof.issued',
  'email_proof.not_sent',
  'email_proof.verified',
  'email_proof.failed',
  'role.changed',
  'account.locked',
  'device.locked',
  'product.created',
  'product.updated',
  'product.deleted',
  'account.unlocked',
  'user.imported',
  'sessions.revoked',
  'account.deleted',
  'oidc_client.created',
  'oidc_client.deleted',
  'oidc_client.secret_rotated',
  'oidc.token_issued',
  'oidc.grant_revoked',
  'oidc.logout',
  'oidc.consent',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

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
  /**
   * Run once an account's deletion has committed: drops the IP address and browser from the events
   * that requests under way wrote after the deletion's erasure, now and as they come (late-requests.ts).
   */
  forgetLateRequests(userId: number): Promise<void>;
  /**
   * The server's periodic sweep for the late events of accounts other processes deleted; returns
   * the function that stops it.
   */
  startLateRequestSweep(): () => Promise<void>;
  /** One run of that sweep. */
  sweepLateRequests(): Promise<void>;
}

/** Bounds of the stored detail (the column holds 2,000 characters). */
export const DETAIL_MAX_KEYS = 20;
export const DETAIL_KEY_MAX_CHARS = 64;
export const DETAIL_VALUE_MAX_CHARS = 200;
const DETAIL_COLUMN_CHARS = 2000;

/** The first `max` code points of `text` (never half a surrogate pair), with `…` when cut. */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The detail as stored: each key and each string value cut on its own, at most DETAIL_MAX_KEYS
 * keys (the first ones: the caller puts the identifying facts such as `product_id` first), and
 * always whole JSON. Cutting the serialised text instead would make it unparseable and lose every
 * fact, the important ones included, to one oversized value (OWASP Logging Cheat Sheet: event data
 * must be validated and bounded before it is recorded; a log must not be corruptible by input).
 */
export function boundedDetail(detail: Record<string, string | number | boolean | null>): string {
  const entries = Object.entries(detail);
  const kept: Record<string, string | number | boolean | null> = {};
  let omitted = Math.max(0, entries.length - DETAIL_MAX_KEYS);
  for (const [key, value] of entries.slice(0, DETAIL_MAX_KEYS)) {
    kept[clip(key, DETAIL_KEY_MAX_CHARS)] = typeof value === 'string' ? clip(value, DETAIL_VALUE_MAX_CHARS) : value;
  }
  // JSON escapes (\u0000 is 6 characters for 1) could still overflow the column: drop whole keys from the end.
  let text = JSON.stringify(omitted > 0 ? { ...kept, omitted_keys: omitted } : kept);
  const keys = Object.keys(kept);
  while (text.length > DETAIL_COLUMN_CHARS && keys.length > 1) {
    delete kept[keys.pop()!];
    omitted += 1;
    text = JSON.stringify({ ...kept, omitted_keys: omitted });
  }
  return text.length > DETAIL_COLUMN_CHARS ? JSON.stringify({ omitted_keys: omitted + keys.length }) : text;
}

/** The row an event is stored as, at `atMs`. */
export function auditRow(event: AuditEvent, atMs: number): Omit<AuditRow, 'id'> {
  return {
    at: atMs,
    type: event.type,
    user_id: event.userId,
    ip: event.ip ?? null,
    user_agent: event.userAgent?.slice(0, 255) ?? null,
    detail: boundedDetail(event.detail ?? {}),
  };
}

/**
 * Events that belong to the caller's own writes (an import batch): one multi-row INSERT on the
 * caller's transaction, so they commit with those writes or roll back with them. A rolled-back
 * or retried batch leaves no event for a change that did not happen, and a committed one never
 * lacks its events. Unlike `record`, a failure here fails the caller: the service's queue writes
 * on its own connection, outside any transaction (on SQLite's single connection it would wait
 * for the caller's transaction to end), and never lets the audit trail fail a user's action.
 */
export async function recordInTransaction(trx: Kysely<Database>, events: AuditEvent[], atMs: number): Promise<void> {
  if (events.length > 0) await createAuditRepository(trx).insertMany(events.map((event) => auditRow(event, atMs)));
}

/** At most this many events share one INSERT (6 parameters each, far below every driver's limit). */
const MAX_BATCH = 200;

/**
 * Events are written in groups: every event recorded during one turn of the event loop goes into
 * one multi-row INSERT, so fifty requests at once cost one commit, not fifty. `record` resolves
 * only once its event is written (or the failure logged), so a response never runs ahead of its
 * audit row.
 */
export function createAuditService(deps: {
  repository: AuditRepository;
  clock: Clock;
  log: FastifyBaseLogger | undefined;
}): AuditService {
  let queue: Array<{ row: Omit<AuditRow, 'id'>; done: () => void }> = [];

  const late = createLateRequestEraser(deps);

  async function flush(): Promise<void> {
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    if (queue.length > 0) setImmediate(() => void flush());
    try {
      const rows = batch.map((entry) => entry.row);
      await deps.repository.insertMany(rows);
      await late.afterInsert(rows);
    } catch (error) {
      // The audit trail must never turn a user's successful action into an error.
      deps.log?.error(
        { err: error, types: [...new Set(batch.map((entry) => entry.row.type))] },
        'could not write audit events',
      );
    } finally {
      for (const entry of batch) entry.done();
    }
  }

  return {
    forgetLateRequests: (userId) => late.deleted(userId),
    startLateRequestSweep: () => late.startSweeping(),
    sweepLateRequests: () => late.sweep(),
    record(event) {
      const row = auditRow(event, deps.clock.now().getTime());
      return new Promise<void>((resolve) => {
        queue.push({ row, done: resolve });
        if (queue.length === 1) setImmediate(() => void flush());
      });
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
