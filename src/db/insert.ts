import type { InsertQueryBuilder, InsertResult, Insertable, Kysely, QueryResult } from 'kysely';
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

/**
 * The same rule for an INSERT built elsewhere (a statement compiled once): RETURNING id where the
 * dialect has it, nothing on MySQL, whose driver answers the insert id; `insertedId` reads either.
 */
export function returningId<DB, TB extends keyof DB & string>(
  insert: InsertQueryBuilder<DB, TB, InsertResult>,
  dialect: Dialect,
): InsertQueryBuilder<DB, TB, InsertResult> | InsertQueryBuilder<DB, TB, { id: number }> {
  return dialect === 'mysql' ? insert : (insert.returning('id' as never) as InsertQueryBuilder<DB, TB, { id: number }>);
}

export function insertedId(result: QueryResult<{ id: number }>): number {
  return Number(result.insertId ?? result.rows[0]?.id);
}
