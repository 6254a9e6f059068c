import type { Insertable, Kysely } from 'kysely';
import type { Dialect } from './create-database.js';
import type { Database } from './schema.js';

type TableWithId = 'users' | 'sessions' | 'products' | 'email_codes' | 'audit_events' | 'passkeys';

/** INSERT and return the generated id: RETURNING on SQLite and PostgreSQL, insertId on MySQL. */
export async function insertWithId<T extends TableWithId>(
  db: Kysely<Database>,
  dialect: Dialect,
  table: T,
  values: Insertable<Database[T]>,
): Promise<number> {
  const untyped = db as unknown as Kysely<Record<string, { id: number }>>;
  if (dialect === 'mysql') {
    const result = await untyped
      .insertInto(table)
      .values(values as never)
      .executeTakeFirstOrThrow();
    return Number(result.insertId);
  }
  const row = await untyped
    .insertInto(table)
    .values(values as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}
