import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../../db/schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

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
  };
}
