import { describe, expect, it } from 'vitest';
import type { ExistingProduct } from '../products/imported-products.repository.js';
import { product } from './import.fixtures.js';
import { planProducts, screenProducts } from './import.plan.js';

/** The planning step for products on its own: records and Twofold's products in, actions out. */
describe('import plan: products', () => {
  const existing = (id: number, extra: Partial<ExistingProduct> = {}): ExistingProduct => ({
    id,
    legacy_id: `product:${id}`,
    name: `Product ${id}`,
    description: '',
    price_cents: 100,
    quantity: 1,
    ...extra,
  });

  it('reads prices to exact cents and skips any that are not an amount with at most two decimals', () => {
    const prices: unknown[] = [
      '19.99',
      19.99,
      0.1,
      '5',
      '3.100',
      '0.50',
      '99999999.99',
      '1.005',
      -1,
      '-1.00',
      '1e3',
      '100000000.00',
      null,
      'abc',
      Number.NaN,
    ];
    const screened = screenProducts(prices.map((price, i) => product(i, price)));
    expect([...screened.accepted.values()].map((p) => p.priceCents)).toEqual([
      1999, 1999, 10, 500, 310, 50, 9_999_999_999,
    ]);
    const reason = 'price is not an amount from 0 to 99999999.99 with at most two decimals';
    expect(screened.skips).toEqual(
      [7, 8, 9, 10, 11, 12, 13, 14].map((i) => ({ kind: 'skip', reason, example: `product id ${i}` })),
    );
  });

  it('checks name, description and quantity; a later record with the same original id replaces an earlier one', () => {
    const screened = screenProducts([
      { ref: 'line 9', problem: 'not valid JSON' },
      product(1, '1', { name: '  ' }),
      product(2, '1', { description: 'd'.repeat(256) }),
      product(3, '1', { quantity: -2 }),
      product(4, '1', { quantity: '12' }),
      product(5, '1', { quantity: 7n }),
      product(4, '2', { name: 'Again' }),
    ]);
    expect(screened.skips.map((s) => s.reason)).toEqual([
      'not valid JSON',
      'name is empty or longer than 100 characters',
      'description is longer than 255 characters',
      'quantity is not a whole number from 0 to 2147483647',
    ]);
    expect([...screened.accepted.values()].map((p) => [p.legacyId, p.name, p.priceCents, p.quantity])).toEqual([
      ['product:4', 'Again', 200, 1],
      ['product:5', 'Product 5', 100, 7],
    ]);
  });

  it('inserts new products; one matched by its original id is updated only with --on-conflict update and only when it differs', () => {
    const screened = screenProducts([
      product(1, '1.00'),
      product(2, '1.00'),
      product(3, '2.50'),
      { ref: 'line 4', problem: 'bad' },
    ]);
    const twofold = new Map([existing(2), existing(3)].map((p) => [p.legacy_id as string, p]));
    expect(planProducts(screened, twofold, 'skip').map((a) => a.kind)).toEqual([
      'skip',
      'insert',
      'unchanged',
      'unchanged',
    ]);
    expect(planProducts(screened, twofold, 'update')).toMatchObject([
      { kind: 'skip' },
      { kind: 'insert' },
      { kind: 'unchanged' },
      { kind: 'update', productId: 3, product: { priceCents: 250 } },
    ]);
  });
});
