import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, login, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

const dialects = await testDialects();

/** A name fragment no other test uses, free of LIKE wildcards, so `q` isolates one test's products. */
function tag(): string {
  return `T${randomBytes(5).toString('hex')}`;
}

interface ProductInput {
  name?: string;
  description?: string | null;
  price?: number;
  quantity?: number;
}

function createProduct(t: TestApp, session: Session, payload: ProductInput): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/products', headers: session.auth, payload });
}

async function storedCents(t: TestApp, id: number): Promise<unknown> {
  const row = await t.database.handle.db
    .selectFrom('products')
    .select('price_cents')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.price_cents;
}

async function makeAdmin(t: TestApp, session: Session & { username: string }): Promise<Session> {
  await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', session.userId).execute();
  // The role travels in the access token, so it takes effect at the next login.
  return login(t.app, session.username);
}

describe.each(dialects)('products over HTTP on %s', (dialect) => {
  let t: TestApp;
  let session: Session & { username: string };
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    session = await signUp(t.app);
  });
  afterAll(async () => t?.close());

  it('creates a product (201) with exactly the contract fields, and reads it back', async () => {
    const created = await createProduct(t, session, {
      name: 'Desk lamp',
      description: 'Warm white',
      price: 19.99,
      quantity: 3,
    });
    expect(created.statusCode).toBe(201);
    const product = created.json();
    expect(Object.keys(product).sort()).toEqual([
      'created_at',
      'description',
      'id',
      'name',
      'price',
      'quantity',
      'updated_at',
    ]);
    expect(product).toEqual({
      id: expect.any(Number),
      name: 'Desk lamp',
      description: 'Warm white',
      price: 19.99,
      quantity: 3,
      created_at: t.clock.now().toISOString(),
      updated_at: t.clock.now().toISOString(),
    });
    expect(Number.isInteger(product.id)).toBe(true);

    const read = await t.app.inject({ url: `/api/products/${product.id}`, headers: session.auth });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(product);
  });

  it('defaults a missing description to the empty string', async () => {
    const created = await createProduct(t, session, { name: 'No description', price: 1, quantity: 0 });
    expect(created.statusCode).toBe(201);
    expect(created.json().description).toBe('');
  });

  it('refuses invalid products with validation_failed and the offending fields', async () => {
    const cases: Array<[ProductInput, string]> = [
      [{ price: 1, quantity: 1 }, 'name'],
      [{ name: '', price: 1, quantity: 1 }, 'name'],
      [{ name: '   ', price: 1, quantity: 1 }, 'name'],
      [{ name: 'x'.repeat(101), price: 1, quantity: 1 }, 'name'],
      [{ name: 'Long text', description: 'd'.repeat(256), price: 1, quantity: 1 }, 'description'],
      [{ name: 'No price', quantity: 1 }, 'price'],
      [{ name: 'Bad quantity', price: 1, quantity: 1.5 }, 'quantity'],
      [{ name: 'Bad quantity', price: 1, quantity: -1 }, 'quantity'],
    ];
    for (const [payload, field] of cases) {
      const response = await createProduct(t, session, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({
        error: 'validation_failed',
        message: expect.any(String),
        fields: { [field]: expect.any(String) },
      });
    }
    const asString = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: session.auth,
      payload: { name: 'String price', price: '1.50', quantity: 1 },
    });
    expect(asString.statusCode).toBe(400);
    expect(asString.json().fields.price).toEqual(expect.any(String));
  });

  describe('money', () => {
    it.each([
      [0, 0],
      [0.1, 10],
      [0.2, 20],
      [1.15, 115],
      [19.99, 1999],
      [99999999.99, 9_999_999_999],
    ])('returns price %s exactly as sent and stores %s integer cents', async (price, cents) => {
      const created = await createProduct(t, session, { name: `Priced ${price}`, price, quantity: 1 });
      expect(created.statusCode).toBe(201);
      expect(created.body).toContain(`"price":${JSON.stringify(price)}`);
      expect(created.json().price).toBe(price);
      const id = created.json().id as number;

      const read = await t.app.inject({ url: `/api/products/${id}`, headers: session.auth });
      expect(read.body).toContain(`"price":${JSON.stringify(price)}`);
      expect(read.json().price).toBe(price);
      expect(await storedCents(t, id)).toBe(cents);
    });

    it('keeps 0.1 + 0.2 exact: two products sum to 0.30 in cents, not 0.30000000000000004', async () => {
      const a = (await createProduct(t, session, { name: 'Dime', price: 0.1, quantity: 1 })).json();
      const b = (await createProduct(t, session, { name: 'Two dimes', price: 0.2, quantity: 1 })).json();
      expect(Number(await storedCents(t, a.id)) + Number(await storedCents(t, b.id))).toBe(30);
    });

    it.each([1.155, 100000000, -1, 0.001])('refuses price %s on create and update with fields.price', async (price) => {
      const created = await createProduct(t, session, { name: 'Bad price', price, quantity: 1 });
      expect(created.statusCode).toBe(400);
      expect(created.json()).toMatchObject({ error: 'validation_failed', fields: { price: expect.any(String) } });

      const good = (await createProduct(t, session, { name: 'Good price', price: 2.5, quantity: 1 })).json();
      for (const method of ['PUT', 'PATCH'] as const) {
        const updated = await t.app.inject({
          method,
          url: `/api/products/${good.id}`,
          headers: session.auth,
          payload: { price },
        });
        expect(updated.statusCode).toBe(400);
        expect(updated.json()).toMatchObject({ error: 'validation_failed', fields: { price: expect.any(String) } });
      }
      expect(await storedCents(t, good.id)).toBe(250);
    });
  });

  describe('listing', () => {
    it('pages with limit and offset and reports the total', async () => {
      const prefix = tag();
      const ids: number[] = [];
      for (let i = 1; i <= 5; i++)
        ids.push((await createProduct(t, session, { name: `${prefix} item ${i}`, price: i, quantity: i })).json().id);

      const first = await t.app.inject({ url: `/api/products?q=${prefix}&limit=2`, headers: session.auth });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ total: 5, limit: 2, offset: 0 });
      expect(first.json().items.map((p: { id: number }) => p.id)).toEqual(ids.slice(0, 2));

      const middle = (
        await t.app.inject({ url: `/api/products?q=${prefix}&limit=2&offset=2`, headers: session.auth })
      ).json();
      expect(middle).toMatchObject({ total: 5, limit: 2, offset: 2 });
      expect(middle.items.map((p: { id: number }) => p.id)).toEqual(ids.slice(2, 4));

      const last = (
        await t.app.inject({ url: `/api/products?q=${prefix}&limit=2&offset=4`, headers: session.auth })
      ).json();
      expect(last.items.map((p: { id: number }) => p.id)).toEqual(ids.slice(4));
      const past = (await t.app.inject({ url: `/api/products?q=${prefix}&offset=10`, headers: session.auth })).json();
      expect(past).toMatchObject({ items: [], total: 5, offset: 10 });
    });

    it('defaults to limit 20 and offset 0, and refuses limits outside 1-100', async () => {
      const page = await t.app.inject({ url: '/api/products', headers: session.auth });
      expect(page.statusCode).toBe(200);
      expect(page.json()).toMatchObject({ limit: 20, offset: 0, total: expect.any(Number) });
      expect(page.json().items.length).toBeLessThanOrEqual(20);

      for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc']) {
        const bad = await t.app.inject({ url: `/api/products?${query}`, headers: session.auth });
        expect(bad.statusCode, query).toBe(400);
        expect(bad.json().error).toBe('validation_failed');
        expect(Object.keys(bad.json().fields)).toEqual([query.split('=')[0]]);
      }
    });

    it('searches with q as a case-insensitive "name contains"', async () => {
      const prefix = tag();
      const blue = (
        await createProduct(t, session, { name: `Big BLUE Widget ${prefix}`, price: 1, quantity: 1 })
      ).json();
      const small = (
        await createProduct(t, session, { name: `small blue widget ${prefix}`, price: 1, quantity: 1 })
      ).json();
      await createProduct(t, session, { name: `Red gadget ${prefix}`, price: 1, quantity: 1 });

      const found = await t.app.inject({
        url: '/api/products',
        query: { q: `blue WIDGET ${prefix.toLowerCase()}` },
        headers: session.auth,
      });
      expect(found.statusCode).toBe(200);
      expect(found.json().total).toBe(2);
      expect(found.json().items.map((p: { id: number }) => p.id)).toEqual([blue.id, small.id]);

      const none = (
        await t.app.inject({ url: '/api/products', query: { q: `purple ${prefix}` }, headers: session.auth })
      ).json();
      expect(none).toMatchObject({ items: [], total: 0 });
    });

    it('matches %, _ and the escape character literally, not as wildcards', async () => {
      const prefix = tag();
      const names = [
        '100% cotton',
        '100 cotton',
        '1000 cotton',
        'a_b',
        'axb',
        'ab',
        'wow!',
        'wow',
        'C:\\temp',
        'C:temp',
      ];
      const byName = new Map<string, number>();
      for (const name of names)
        byName.set(
          name,
          (await createProduct(t, session, { name: `${prefix} ${name}`, price: 1, quantity: 1 })).json().id,
        );

      const search = async (q: string): Promise<number[]> => {
        const response = await t.app.inject({ url: '/api/products', query: { q }, headers: session.auth });
        expect(response.statusCode).toBe(200);
        return response
          .json()
          .items.map((p: { id: number }) => p.id)
          .filter((id: number) => [...byName.values()].includes(id));
      };
      expect(await search('100%')).toEqual([byName.get('100% cotton')]);
      expect(await search('%')).toEqual([byName.get('100% cotton')]);
      expect(await search('a_b')).toEqual([byName.get('a_b')]);
      expect(await search(`${prefix} _`)).toEqual([]);
      expect(await search('wow!')).toEqual([byName.get('wow!')]);
      expect(await search('C:\\')).toEqual([byName.get('C:\\temp')]);
      expect(await search(prefix)).toHaveLength(names.length);
    });
  });

  describe('updates', () => {
    it('PUT changes only the given fields and moves updated_at with the clock', async () => {
      const original = (
        await createProduct(t, session, { name: 'Chair', description: 'Oak', price: 45.5, quantity: 7 })
      ).json();
      t.clock.advance(1000);
      const updated = await t.app.inject({
        method: 'PUT',
        url: `/api/products/${original.id}`,
        headers: session.auth,
        payload: { price: 39.95 },
      });
      expect(updated.statusCode).toBe(200);
      expect(updated.json()).toEqual({ ...original, price: 39.95, updated_at: t.clock.now().toISOString() });
      expect(updated.json().updated_at).not.toBe(original.updated_at);
      expect(await storedCents(t, original.id)).toBe(3995);

      t.clock.advance(1000);
      const renamed = await t.app.inject({
        method: 'PUT',
        url: `/api/products/${original.id}`,
        headers: session.auth,
        payload: { name: 'Armchair', quantity: 0 },
      });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toEqual({
        ...original,
        name: 'Armchair',
        quantity: 0,
        price: 39.95,
        updated_at: t.clock.now().toISOString(),
      });
      expect((await t.app.inject({ url: `/api/products/${original.id}`, headers: session.auth })).json()).toEqual(
        renamed.json(),
      );
    });

    it('PATCH changes only the given fields and moves updated_at with the clock', async () => {
      const original = (
        await createProduct(t, session, { name: 'Table', description: 'Pine', price: 120, quantity: 2 })
      ).json();
      t.clock.advance(1000);
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/api/products/${original.id}`,
        headers: session.auth,
        payload: { description: 'Walnut' },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toEqual({ ...original, description: 'Walnut', updated_at: t.clock.now().toISOString() });
      expect(patched.json().created_at).toBe(original.created_at);

      t.clock.advance(1000);
      const all = await t.app.inject({
        method: 'PATCH',
        url: `/api/products/${original.id}`,
        headers: session.auth,
        payload: { name: 'Desk', description: '', price: 0.99, quantity: 12 },
      });
      expect(all.json()).toEqual({
        ...original,
        name: 'Desk',
        description: '',
        price: 0.99,
        quantity: 12,
        updated_at: t.clock.now().toISOString(),
      });
    });

    it('refuses an empty update with validation_failed and leaves the product alone', async () => {
      const original = (await createProduct(t, session, { name: 'Stool', price: 10, quantity: 1 })).json();
      for (const method of ['PUT', 'PATCH'] as const) {
        const empty = await t.app.inject({
          method,
          url: `/api/products/${original.id}`,
          headers: session.auth,
          payload: {},
        });
        expect(empty.statusCode).toBe(400);
        expect(empty.json().error).toBe('validation_failed');
      }
      expect((await t.app.inject({ url: `/api/products/${original.id}`, headers: session.auth })).json()).toEqual(
        original,
      );
    });
  });

  it('deletes a product: 204, then 404 not_found on read, update and delete', async () => {
    const product = (await createProduct(t, session, { name: 'Doomed', price: 1, quantity: 1 })).json();
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/products/${product.id}`, headers: session.auth });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const row = await t.database.handle.db
      .selectFrom('products')
      .select('id')
      .where('id', '=', product.id)
      .executeTakeFirst();
    expect(row).toBeUndefined();

    const gone = await t.app.inject({ url: `/api/products/${product.id}`, headers: session.auth });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'not_found', message: expect.any(String) });
    const again = await t.app.inject({ method: 'DELETE', url: `/api/products/${product.id}`, headers: session.auth });
    expect(again.statusCode).toBe(404);
    expect(again.json().error).toBe('not_found');
  });

  it('answers 404 not_found for an unknown id on every method', async () => {
    const url = '/api/products/2147483000';
    const responses = [
      await t.app.inject({ url, headers: session.auth }),
      await t.app.inject({ method: 'PUT', url, headers: session.auth, payload: { quantity: 1 } }),
      await t.app.inject({ method: 'PATCH', url, headers: session.auth, payload: { quantity: 1 } }),
      await t.app.inject({ method: 'DELETE', url, headers: session.auth }),
    ];
    for (const response of responses) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'not_found', message: expect.any(String) });
    }
    const notAnId = await t.app.inject({ url: '/api/products/abc', headers: session.auth });
    expect(notAnId.statusCode).toBe(400);
    expect(notAnId.json().error).toBe('validation_failed');
  });

  it('answers 401 unauthorized without a valid token, and writes nothing', async () => {
    const product = (await createProduct(t, session, { name: 'Guarded', price: 1, quantity: 1 })).json();
    const before = await t.database.handle.db
      .selectFrom('products')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const requests = [
      { method: 'GET', url: '/api/products' },
      { method: 'GET', url: `/api/products/${product.id}` },
      { method: 'POST', url: '/api/products', payload: { name: 'Sneaky', price: 1, quantity: 1 } },
      { method: 'PUT', url: `/api/products/${product.id}`, payload: { price: 0 } },
      { method: 'PATCH', url: `/api/products/${product.id}`, payload: { price: 0 } },
      { method: 'DELETE', url: `/api/products/${product.id}` },
    ] as const;
    for (const request of requests) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: session.accessToken }]) {
        const response = await t.app.inject({ ...request, headers });
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(401);
        expect(response.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      }
    }
    const after = await t.database.handle.db
      .selectFrom('products')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect((await t.app.inject({ url: `/api/products/${product.id}`, headers: session.auth })).json()).toEqual(product);
  });

  describe('with PRODUCT_WRITE_ROLES=admin', () => {
    let restricted: TestApp;
    let user: Session & { username: string };
    let admin: Session;
    beforeAll(async () => {
      restricted = await buildTestApp({ dialect, env: { PRODUCT_WRITE_ROLES: 'admin' } });
      user = await signUp(restricted.app);
      admin = await makeAdmin(restricted, await signUp(restricted.app));
    });
    afterAll(async () => restricted?.close());

    it('lets an admin create, update and delete', async () => {
      const created = await createProduct(restricted, admin, { name: 'Admin item', price: 5, quantity: 1 });
      expect(created.statusCode).toBe(201);
      const id = created.json().id;
      for (const method of ['PUT', 'PATCH'] as const) {
        const updated = await restricted.app.inject({
          method,
          url: `/api/products/${id}`,
          headers: admin.auth,
          payload: { quantity: 9 },
        });
        expect(updated.statusCode).toBe(200);
      }
      expect(
        (await restricted.app.inject({ method: 'DELETE', url: `/api/products/${id}`, headers: admin.auth })).statusCode,
      ).toBe(204);
    });

    it('lets a user read but answers 403 forbidden to every write, changing nothing', async () => {
      const product = (await createProduct(restricted, admin, { name: 'Read only', price: 7.25, quantity: 4 })).json();
      const list = await restricted.app.inject({ url: '/api/products', headers: user.auth });
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toContainEqual(product);
      const read = await restricted.app.inject({ url: `/api/products/${product.id}`, headers: user.auth });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual(product);

      const writes = [
        { method: 'POST', url: '/api/products', payload: { name: 'Nope', price: 1, quantity: 1 } },
        { method: 'PUT', url: `/api/products/${product.id}`, payload: { price: 0 } },
        { method: 'PATCH', url: `/api/products/${product.id}`, payload: { price: 0 } },
        { method: 'DELETE', url: `/api/products/${product.id}` },
      ] as const;
      for (const write of writes) {
        const response = await restricted.app.inject({ ...write, headers: user.auth });
        expect(response.statusCode, `${write.method} ${write.url}`).toBe(403);
        expect(response.json()).toEqual({ error: 'forbidden', message: expect.any(String) });
      }
      expect((await restricted.app.inject({ url: `/api/products/${product.id}`, headers: user.auth })).json()).toEqual(
        product,
      );
      const rows = await restricted.database.handle.db.selectFrom('products').select('name').execute();
      expect(rows.map((r) => r.name)).not.toContain('Nope');
    });
  });
});
