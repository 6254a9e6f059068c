import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementNames } from '../../src/db/pg-named-statements.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { createMigratedDatabase } from './migrated-database.js';

/** Named statements are PostgreSQL's (the other dialects have their own caches): a one-server suite. */
const onPostgres = (await testDialects()).includes('postgres');

describe('statementNames', () => {
  it('names each distinct text once, in order of first use', () => {
    const names = statementNames();
    expect(names.nameOf('select 1 where $1')).toBe('tf0_0');
    expect(names.nameOf('select 2 where $1')).toBe('tf0_1');
    expect(names.nameOf('select 1 where $1')).toBe('tf0_0');
    expect(names.size).toBe(2);
  });

  it('sends texts past the cap unnamed, so no cache grows without bound', () => {
    const names = statementNames(2);
    names.nameOf('select 1');
    names.nameOf('select 2');
    expect(names.nameOf('select 3')).toBeUndefined();
    expect(names.nameOf('select 1')).toBe('tf0_0');
  });

  it('starts a new generation at a schema change, which itself goes unnamed', () => {
    const names = statementNames();
    expect(names.nameOf('select * from users')).toBe('tf0_0');
    expect(names.nameOf('  ALTER table users add column x integer')).toBeUndefined();
    expect(names.nameOf('select * from users')).toBe('tf1_0');
    expect(names.nameOf('create index i on users (x)')).toBeUndefined();
    expect(names.nameOf('drop index i')).toBeUndefined();
    expect(names.nameOf('select * from users')).toBe('tf3_0');
  });

  it('leaves texts of several statements unnamed (the simple protocol has no names)', () => {
    expect(statementNames().nameOf('select 1; select 2')).toBeUndefined();
  });

  it('gives a renamed text a name never used before', () => {
    const names = statementNames();
    const first = names.nameOf('select * from users');
    names.rename('select * from users');
    const second = names.nameOf('select * from users');
    expect(second).not.toBe(first);
    expect(names.nameOf('select 1')).not.toBe(second);
  });
});

describe.runIf(onPostgres)('named statements on PostgreSQL', () => {
  let database: TestDatabase;
  let db: Kysely<Record<string, Record<string, unknown>>>;
  beforeAll(async () => {
    database = await createMigratedDatabase('postgres');
    db = database.handle.db as unknown as typeof db;
  });
  afterAll(async () => database?.drop());

  /** A second connection of its own: its DDL is unseen by the handle's statement names. */
  async function elsewhere(text: string): Promise<void> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }

  it("prepares Kysely's query once on a connection and reuses it", async () => {
    await db.connection().execute(async (connection) => {
      const find = (id: number) =>
        connection.selectFrom('users').select(['id', 'username']).where('id', '=', id).execute();
      await find(1);
      await find(2);
      const prepared = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(connection);
      const mine = prepared.rows.filter((row) => /from "users" where "id" = \$1/.test(row.statement));
      expect(mine).toHaveLength(1);
      expect(mine[0]?.name).toMatch(/^tf\d+_\d+$/);
    });
  });

  it('sends BEGIN and COMMIT unprepared, and the transaction still commits or rolls back as a whole', async () => {
    await sql`create table pns_begin (id integer primary key)`.execute(db);
    await db.connection().execute(async (connection) => {
      await connection.transaction().execute((trx) => trx.insertInto('pns_begin').values({ id: 1 }).execute());
      await expect(
        connection.transaction().execute(async (trx) => {
          await trx.insertInto('pns_begin').values({ id: 2 }).execute();
          await trx.insertInto('pns_begin').values({ id: 1 }).execute();
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await connection.selectFrom('pns_begin').select('id').execute()).toEqual([{ id: 1 }]);
      const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
        connection,
      );
      const statements = prepared.rows.map((row) => row.statement.trim().toLowerCase());
      expect(statements.some((text) => text.startsWith('insert into "pns_begin"'))).toBe(true);
      expect(statements.filter((text) => /^(begin|commit|rollback)\b/.test(text))).toEqual([]);
    });
  });

  it('answers with the new columns after another instance changed the table', async () => {
    await sql`create table pns_probe (id integer primary key)`.execute(db);
    await sql`insert into pns_probe (id) values (1)`.execute(db);
    await db.connection().execute(async (connection) => {
      const read = () => connection.selectFrom('pns_probe').selectAll().execute();
      expect(await read()).toEqual([{ id: 1 }]);
      await elsewhere('alter table pns_probe add column label text');
      expect(await read()).toEqual([{ id: 1, label: null }]);
    });
  });

  it('fails a transaction that met the stale statement once, then works again', async () => {
    await sql`create table pns_tx (id integer primary key)`.execute(db);
    await sql`insert into pns_tx (id) values (1)`.execute(db);
    await db.connection().execute(async (connection) => {
      const read = (on: typeof connection) => on.selectFrom('pns_tx').selectAll().execute();
      await read(connection);
      await elsewhere('alter table pns_tx add column label text');
      await expect(connection.transaction().execute((trx) => read(trx))).rejects.toThrow(
        /cached plan must not change result type/,
      );
      expect(await connection.transaction().execute((trx) => read(trx))).toEqual([{ id: 1, label: null }]);
    });
  });

  it('reads through the new schema after its own migration-style change', async () => {
    await sql`create table pns_own (id integer primary key)`.execute(db);
    await sql`insert into pns_own (id) values (1)`.execute(db);
    await db.connection().execute(async (connection) => {
      const read = () => connection.selectFrom('pns_own').selectAll().execute();
      await read();
      await sql`alter table pns_own add column label text`.execute(connection);
      await connection.transaction().execute(async (trx) => {
        expect(await trx.selectFrom('pns_own').selectAll().execute()).toEqual([{ id: 1, label: null }]);
      });
    });
  });
});
