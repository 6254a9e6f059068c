import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../create-database.js';

/** An auto-increment integer primary key, spelled the way each database wants it. */
export function idColumn<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: Dialect,
): CreateTableBuilder<T, 'id'> {
  if (dialect === 'postgres') return table.addColumn('id', 'serial', (c) => c.primaryKey());
  return table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}
