import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountsRepository } from '../../src/modules/accounts/accounts.repository.js';
import {
  createProductsRepository,
  type NewProduct,
  type ProductsRepository,
} from '../../src/modules/products/products.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { MINUTE_MS, T0, createMigratedDatabase } from './migrated-database.js';

const dialects = await testDialects();

describe.each(dialects)('products repository on %s', (dialect) => {
  let database: TestDatabase;
  let products: ProductsRepository;
  let creatorId: number;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    products = createProductsRepository(database.handle.db, database.handle.dialect);
    const accounts = createAccountsRepository(database.handle.db, database.handle.dialect);
    creatorId = await accounts.insert({
      username: 'creator',
      email: null,
      passwordHash: 'hash',
      role: 'admin',
      emailVerified: false,
      nowMs: T0,
    });
  });
  afterAll(async () => database?.drop());
  // list() counts the whole table, so each test starts from an empty one.
  beforeEach(async () => {
    await database.handle.db.deleteFrom('products').execute();
    // A delete by hand in SQL bypasses the repository: set the counter (migration 0005) to match.
    await database.handle.db.updateTable('product_counts').set({ n: 0 }).execute();
  });

  function newProduct(overrides: Partial<NewProduct> = {}): NewProduct {
    return {
      name: 'Widget',
      description: 'A widget',
      priceCents: 1999,
      quantity: 3,
      createdBy: creatorId,
      nowMs: T0,
      ...overrides,
    };
  }

  async function names(nameContains: string): Promise<string[]> {
    const { rows, total } = await products.list({ limit: 100, offset: 0, nameContains });
    expect(total).toBe(rows.length);
    return rows.map((r) => r.name).sort();
  }

  it('inserts a product and reads it back by id', async () => {
    const id = await products.insert(newProduct());
    expect(Number.isInteger(id)).toBe(true);
    expect(await products.findById(id)).toEqual({
      id,
      name: 'Widget',
      description: 'A widget',
      price_cents: 1999,
      quantity: 3,
      created_by: creatorId,
      created_at: T0,
      updated_at: T0,
      legacy_id: null,
    });
    expect(await products.findById(id + 1000)).toBeUndefined();
  });

  it('updates the given fields and updated_at, and reports a missing product', async () => {
    const id = await products.insert(newProduct());
    const changes = { name: 'Gadget', description: '', price_cents: 2500, quantity: 0 };
    expect(await products.update(id, changes, T0 + MINUTE_MS)).toBe(true);
    expect(await products.findById(id)).toEqual({
      ...changes,
      id,
      created_by: creatorId,
      created_at: T0,
      updated_at: T0 + MINUTE_MS,
      legacy_id: null,
    });

    expect(await products.update(id, { quantity: 7 }, T0 + 2 * MINUTE_MS)).toBe(true);
    expect(await products.findById(id)).toMatchObject({ name: 'Gadget', quantity: 7, updated_at: T0 + 2 * MINUTE_MS });
    expect(await products.update(id + 1000, { quantity: 1 }, T0)).toBe(false);
  });

  it('reports an update that changes no value as a found product, not a missing one', async () => {
    const id = await products.insert(newProduct());
    expect(await products.update(id, { name: 'Widget' }, T0)).toBe(true);
    expect(await products.update(id, { name: 'Widget' }, T0)).toBe(true);
  });

  it('deletes a product once', async () => {
    const id = await products.insert(newProduct());
    expect(await products.delete(id)).toBe(true);
    expect(await products.findById(id)).toBeUndefined();
    expect(await products.delete(id)).toBe(false);
  });

  it('pages through products in id order with limit and offset, counting all of them', async () => {
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await products.insert(newProduct({ name: `Item ${i}` })));

    const first = await products.list({ limit: 2, offset: 0 });
    expect(first.rows.map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(first.total).toBe(5);
    expect(typeof first.total).toBe('number');
    expect((await products.list({ limit: 2, offset: 2 })).rows.map((r) => r.id)).toEqual(ids.slice(2, 4));
    expect(await products.list({ limit: 2, offset: 4 })).toMatchObject({
      rows: [{ id: ids[4], name: 'Item 5' }],
      total: 5,
    });
    expect(await products.list({ limit: 2, offset: 10 })).toEqual({ rows: [], total: 5 });
    expect(await products.list({ limit: 10, offset: 0, nameContains: 'Item' })).toMatchObject({ total: 5 });
  });

  it('counts only the matching products when filtering a page', async () => {
    for (const name of ['Red apple', 'Green apple', 'Pear', 'Apple pie', 'Plum'])
      await products.insert(newProduct({ name }));
    const page = await products.list({ limit: 2, offset: 1, nameContains: 'apple' });
    expect(page.total).toBe(3);
    expect(page.rows.map((r) => r.name)).toEqual(['Green apple', 'Apple pie']);
    expect(await products.list({ limit: 10, offset: 0, nameContains: 'kiwi' })).toEqual({ rows: [], total: 0 });
  });

  it('matches nameContains case-insensitively', async () => {
    for (const name of ['Blue Widget', 'blue gadget', 'Red WIDGET', 'Green thing'])
      await products.insert(newProduct({ name }));
    expect(await names('widget')).toEqual(['Blue Widget', 'Red WIDGET']);
    expect(await names('WIDGET')).toEqual(['Blue Widget', 'Red WIDGET']);
    expect(await names('bLuE')).toEqual(['Blue Widget', 'blue gadget']);
  });

  it('treats %, _ and ! in nameContains as literal characters', async () => {
    for (const name of [
      '100% cotton',
      '1000 cotton',
      'snake_case',
      'snakeXcase',
      'bang!',
      'bang',
      'back\\slash',
      'backslash',
    ]) {
      await products.insert(newProduct({ name }));
    }
    expect(await names('%')).toEqual(['100% cotton']);
    expect(await names('0%')).toEqual(['100% cotton']);
    expect(await names('_')).toEqual(['snake_case']);
    expect(await names('e_c')).toEqual(['snake_case']);
    expect(await names('!')).toEqual(['bang!']);
    expect(await names('\\')).toEqual(['back\\slash']);
    expect(await names('%_')).toEqual([]);
  });

  it('round-trips money exactly as integer cents, read back as numbers', async () => {
    const amounts = [10, 20, 115, 9_999_999_999];
    const ids = await Promise.all(
      amounts.map((priceCents) => products.insert(newProduct({ name: `Priced ${priceCents}`, priceCents }))),
    );
    for (const [i, id] of ids.entries()) {
      const row = await products.findById(id);
      expect(typeof row?.price_cents).toBe('number');
      expect(row?.price_cents).toBe(amounts[i]);
    }
    const listed = await products.list({ limit: 10, offset: 0 });
    expect(listed.rows.map((r) => r.price_cents).sort((a, b) => a - b)).toEqual(amounts);

    // 10 + 20 cents is exactly 30: no binary floating point on the way in or out.
    expect(await products.update(ids[0]!, { price_cents: 10 + 20 }, T0)).toBe(true);
    expect((await products.findById(ids[0]!))?.price_cents).toBe(30);
    expect(await products.update(ids[1]!, { price_cents: 9_999_999_999 }, T0)).toBe(true);
    expect((await products.findById(ids[1]!))?.price_cents).toBe(9_999_999_999);
  });
});
