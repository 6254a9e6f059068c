import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type TestApp } from '../support/app.js';

describe('product changes in the audit trail', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  it('records create, update and delete with the user, the product and the changed fields', async () => {
    const session = await signUp(t.app);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: session.auth,
      payload: { name: 'Audited', price: 1.5, quantity: 1 },
    });
    const id = created.json().id;
    await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: session.auth, payload: { price: 2 } });
    await t.app.inject({ method: 'DELETE', url: `/products/${id}`, headers: session.auth });
    const rows = await t.database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'user_id', 'detail'])
      .where('type', 'like', 'product.%')
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [r.type, r.user_id, JSON.parse(r.detail)])).toEqual([
      ['product.created', session.userId, { product_id: id }],
      ['product.updated', session.userId, { product_id: id, fields: 'price' }],
      ['product.deleted', session.userId, { product_id: id }],
    ]);
  });
});
