import type { Kysely, Selectable } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { insertWithId } from '../../db/insert.js';
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
  insert(event: Omit<AuditRow, 'id'>): Promise<number>;
  list(query: AuditQuery): Promise<AuditRow[]>;
}

export function createAuditRepository(db: Kysely<Database>, dialect: Dialect): AuditRepository {
  return {
    insert: (event) => insertWithId(db, dialect, 'audit_events', event),
    async list({ userId, type, beforeId, limit }) {
      let query = db.selectFrom('audit_events').selectAll();
      if (userId !== undefined) query = query.where('user_id', '=', userId);
      if (type !== undefined) query = query.where('type', '=', type);
      if (beforeId !== undefined) query = query.where('id', '<', beforeId);
      return query.orderBy('id', 'desc').limit(limit).execute();
    },
  };
}
