import { sql, type Kysely } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPARED_PER_CONNECTION } from '../../src/db/mysql-prepared-statements.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { createMigratedDatabase } from './migrated-database.js';

/** Prepared statements are MySQL's way here (the other dialects have their own): a one-server suite. */
const onMysql = (await testDialects()).includes('mysql');

type AnyDb = Kysely<Record<string, Record<string, unknown>>>;

/** This connection's count of one prepared-statement command (MariaDB/MySQL session status). */
async function counter(connection: AnyDb, name: 'Com_stmt_prepare' | 'Com_stmt_execute' | 'Com_stmt_close') {
  const { rows } = await sql<{ Value: string }>`show session status like ${sql.lit(name)}`.execute(connection);
  return Number(rows[0]?.Value);
}

describe.runIf(onMysql)('prepared statements on MySQL/MariaDB', () => {
  let database: TestDatabase;
  let db: AnyDb;
  beforeAll(async () => {
    database = await createMigratedDatabase('mysql');
    db = database.handle.db as unknown as AnyDb;
  });
  afterAll(async () => database?.drop());

  /** A connection of its own, as another instance would have. */
  async function elsewhere(text: string): Promise<void> {
    const connection = await createConnection({ uri: database.url });
    try {
      await connection.query(text);
    } finally {
      await connection.end();
    }
  }

  it("prepares Kysely's query once on a connection and then only executes it", async () => {
    await db.connection().execute(async (connection) => {
      const find = (id: number) =>
        connection.selectFrom('users').select(['id', 'username']).where('id', '=', id).execute();
      await find(1);
      const prepared = await counter(connection, 'Com_stmt_prepare');
      const executed = await counter(connection, 'Com_stmt_execute');
      await find(2);
      await find(3);
      expect(await counter(connection, 'Com_stmt_prepare')).toBe(prepared);
      expect(await counter(connection, 'Com_stmt_execute')).toBe(executed + 2);
    });
  });

  it('sends statements without values as plain queries', async () => {
    await db.connection().execute(async (connection) => {
      const executed = await counter(connection, 'Com_stmt_execute');
      await connection.selectFrom('product_counts').select('n').execute();
      expect(await counter(connection, 'Com_stmt_execute')).toBe(executed);
    });
  });

  it('reads the same values as the plain protocol (numbers, nulls, text, booleans as 0/1)', async () => {
    await sql`create table psm_values (id bigint primary key, at bigint, label varchar(50), flag tinyint)`.execute(db);
    await db.insertInto('psm_values').values({ id: 1, at: 1_790_000_000_123, label: 'héllo ✓', flag: 1 }).execute();
    const row = await db.selectFrom('psm_values').selectAll().where('id', '=', 1).executeTakeFirst();
    expect(row).toEqual({ id: 1, at: 1_790_000_000_123, label: 'héllo ✓', flag: 1 });
    const page = await db.selectFrom('psm_values').selectAll().orderBy('id').limit(5).offset(0).execute();
    expect(page).toHaveLength(1);
    const none = await db
      .selectFrom('psm_values')
      .select('label')
      .where('label', '=', null as never)
      .execute();
    expect(none).toEqual([]);
  });

  it('answers with the new columns after another instance changed the table', async () => {
    await sql`create table psm_probe (id integer primary key)`.execute(db);
    await sql`insert into psm_probe (id) values (1)`.execute(db);
    await db.connection().execute(async (connection) => {
      const read = () => connection.selectFrom('psm_probe').selectAll().where('id', '>=', 0).execute();
      expect(await read()).toEqual([{ id: 1 }]);
      await elsewhere('alter table psm_probe add column label varchar(20) null');
      expect(await read()).toEqual([{ id: 1, label: null }]);
    });
  });

  it(`keeps at most ${PREPARED_PER_CONNECTION} statements on a connection, closing the oldest`, async () => {
    await db.connection().execute(async (connection) => {
      const closed = await counter(connection, 'Com_stmt_close');
      for (let i = 0; i < PREPARED_PER_CONNECTION + 20; i++)
        await sql`select ${sql.lit(i)} as n from users where id = ${i}`.execute(connection);
      expect(await counter(connection, 'Com_stmt_close')).toBeGreaterThanOrEqual(closed + 20);
    });
  });
});
