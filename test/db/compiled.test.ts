import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledOnce } from '../../src/db/compiled.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { T0, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

describe.each(dialects)('compiledOnce on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  const insertProduct = compiledOnce<[name: string, cents: number, quantity: number, at: number], never>((db, arg) =>
    db.insertInto('products').values({
      name: arg(0),
      description: 'compiled once',
      price_cents: arg(1),
      quantity: arg(2),
      created_by: null,
      created_at: arg(3),
      updated_at: arg(3),
    }),
  );
  // The arguments are given in another order than the statement's parameters, and one is used twice.
  const findByNameAndCents = compiledOnce<[cents: number, name: string], { name: string; price_cents: number }>(
    (db, arg) =>
      db
        .selectFrom('products')
        .select(['name', 'price_cents'])
        .where('name', '=', arg(1))
        .where('price_cents', '=', arg(0))
        .where('price_cents', '>=', arg(0)),
  );
  const setQuantity = compiledOnce<[name: string, quantity: number], never>((db, arg) =>
    db
      .updateTable('products')
      .set({ quantity: arg(1) })
      .where('name', '=', arg(0)),
  );

  it('runs one compiled statement with new values each time, matched by argument, not by position', async () => {
    const { db } = database.handle;
    const names = [`first_${digits()}`, `second_${digits()}`];
    await insertProduct(db, names[0]!, 150, 3, T0);
    await insertProduct(db, names[1]!, 275, 4, T0);
    expect((await findByNameAndCents(db, 150, names[0]!)).rows).toEqual([{ name: names[0], price_cents: 150 }]);
    expect((await findByNameAndCents(db, 275, names[1]!)).rows).toEqual([{ name: names[1], price_cents: 275 }]);
    expect((await findByNameAndCents(db, 275, names[0]!)).rows).toEqual([]);
    expect(Number((await setQuantity(db, names[1]!, 9)).numAffectedRows)).toBe(1);
    expect(Number((await setQuantity(db, `missing_${digits()}`, 9)).numAffectedRows)).toBe(0);
    const quantities = await db
      .selectFrom('products')
      .select(['name', 'quantity'])
      .where('name', 'in', names)
      .execute();
    expect(Object.fromEntries(quantities.map((row) => [row.name, row.quantity]))).toEqual({
      [names[0]!]: 3,
      [names[1]!]: 9,
    });
  });

  it('builds and compiles the query once, however often and wherever it runs', async () => {
    const { db } = database.handle;
    let builds = 0;
    const countOf = compiledOnce<[name: string], { name: string }>((qb, arg) => {
      builds += 1;
      return qb.selectFrom('products').select('name').where('name', '=', arg(0));
    });
    const name = `counted_${digits()}`;
    await insertProduct(db, name, 5, 5, T0);
    for (let i = 0; i < 3; i++) expect((await countOf(db, name)).rows).toEqual([{ name }]);
    await db.transaction().execute(async (trx) => {
      expect((await countOf(trx, name)).rows).toEqual([{ name }]);
    });
    expect(builds).toBe(1);
  });

  it('runs inside a transaction, and a rollback undoes it', async () => {
    const { db } = database.handle;
    const name = `rolled_back_${digits()}`;
    await expect(
      db.transaction().execute(async (trx) => {
        await insertProduct(trx, name, 100, 1, T0);
        expect((await findByNameAndCents(trx, 100, name)).rows).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await findByNameAndCents(db, 100, name)).rows).toEqual([]);
  });

  it('keeps values out of the SQL text: a quote in a value is data', async () => {
    const { db } = database.handle;
    const name = `o'brien"; drop table products; -- ${digits()}`;
    await insertProduct(db, name, 1, 1, T0);
    expect((await findByNameAndCents(db, 1, name)).rows).toEqual([{ name, price_cents: 1 }]);
  });

  it('refuses a builder that leaves an argument out, or names one it is not given', async () => {
    const { db } = database.handle;
    const unused = compiledOnce<[name: string, extra: number], never>((qb, arg) =>
      qb.selectFrom('products').select('id').where('name', '=', arg(0)),
    );
    await expect(unused(db, 'x', 1)).rejects.toThrow(/argument 1 has no place/);
    const missing = compiledOnce<[name: string], never>((qb, arg) =>
      qb.selectFrom('products').select('id').where('name', '=', arg(0)).where('quantity', '=', arg(1)),
    );
    await expect(missing(db, 'x')).rejects.toThrow(/argument 1 is not given/);
  });
});
