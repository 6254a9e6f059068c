import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../../db/schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

/** The event an account's deletion leaves in its trail (privacy.service's deletionEvent). */
const ACCOUNT_DELETED = 'account.deleted';

export interface AuditQuery {
  userId?: number | undefined;
  type?: string | undefined;
  /** Only events with an id below this one (cursor for "older"). */
  beforeId?: number | undefined;
  limit: number;
}

export interface AuditRepository {
  /** One multi-row INSERT: the events are written together or not at all. */
  insertMany(events: Array<Omit<AuditRow, 'id'>>): Promise<void>;
  list(query: AuditQuery): Promise<AuditRow[]>;
  /** The deletions' own events with an id above `afterId`, oldest first (the type index's range). */
  deletionsAfter(afterId: number): Promise<Array<{ id: number; userId: number; at: number }>>;
  /** Drops the IP address and browser from these users' events, but the deletion's own (whoever deleted). */
  forgetRequestsOf(userIds: number[]): Promise<void>;
}

export function createAuditRepository(db: Kysely<Database>): AuditRepository {
  return {
    async insertMany(events) {
      await db.insertInto('audit_events').values(events).execute();
    },
    async list({ userId, type, beforeId, limit }) {
      let query = db.selectFrom('audit_events').selectAll();
      if (userId !== undefined) query = query.where('user_id', '=', userId);
      if (type !== undefined) query = query.where('type', '=', type);
      if (beforeId !== undefined) query = query.where('id', '<', beforeId);
      return query.orderBy('id', 'desc').limit(limit).execute();
    },
    async deletionsAfter(afterId) {
      const rows = await db
        .selectFrom('audit_events')
        .select(['id', 'user_id', 'at'])
        .where('type', '=', ACCOUNT_DELETED)
        .where('id', '>', afterId)
        .orderBy('id')
        .execute();
      return rows.flatMap((row) => (row.user_id === null ? [] : [{ id: row.id, userId: row.user_id, at: row.at }]));
    },
    async forgetRequestsOf(userIds) {
      await db
        .updateTable('audit_events')
        .set({ ip: null, user_agent: null })
        .where('user_id', 'in', userIds)
        .where('type', '<>', ACCOUNT_DELETED)
        .where((eb) => eb.or([eb('ip', 'is not', null), eb('user_agent', 'is not', null)]))
        .execute();
    },
  };
}
