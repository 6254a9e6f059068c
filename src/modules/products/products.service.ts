import type { Principal } from '../../http/principal.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, validationError } from '../../lib/errors.js';
import { centsToPrice, priceToCents } from './money.js';
import type { ProductChanges, ProductRow, ProductsRepository } from './products.repository.js';
import type { CreateProductBody, ListProductsQuery, UpdateProductBody } from './products.schemas.js';

/** the HTTP contract `product`. */
export interface Product {
  id: number;
  name: string;
  description: string;
  price: number;
  quantity: number;
  created_at: string;
  updated_at: string;
}

export interface ProductPage {
  items: Product[];
  total: number;
  limit: number;
  offset: number;
}

export interface ProductsService {
  list(query: ListProductsQuery): Promise<ProductPage>;
  get(id: number): Promise<Product>;
  create(input: CreateProductBody, by: Principal): Promise<Product>;
  update(id: number, changes: UpdateProductBody, by: Principal): Promise<Product>;
  remove(id: number, by: Principal): Promise<void>;
}

export interface ProductsDeps {
  repository: ProductsRepository;
  clock: Clock;
  writeRoles: readonly string[];
}

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    price: centsToPrice(row.price_cents),
    quantity: row.quantity,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function cents(price: number): number {
  const value = priceToCents(price);
  if (value === null)
    throw validationError({ price: 'must be a number from 0 to 99999999.99 with at most 2 decimals' });
  return value;
}

function checkName(name: string): string {
  if (name.trim() === '') throw validationError({ name: 'must not be blank' });
  return name;
}

export function createProductsService(deps: ProductsDeps): ProductsService {
  const { repository, clock } = deps;

  function assertMayWrite(principal: Principal): void {
    if (!deps.writeRoles.includes(principal.role))
      throw new AppError('forbidden', { message: 'Your role may read products but not change them.' });
  }

  async function get(id: number): Promise<Product> {
    const row = await repository.findById(id);
    if (!row) throw new AppError('not_found', { message: `Product ${id} does not exist.` });
    return toProduct(row);
  }

  return {
    async list(query) {
      const { rows, total } = await repository.list({
        limit: query.limit,
        offset: query.offset,
        nameContains: query.q,
      });
      return { items: rows.map(toProduct), total, limit: query.limit, offset: query.offset };
    },
    get,
    async create(input, by) {
      assertMayWrite(by);
      const nowMs = clock.now().getTime();
      const row = {
        name: checkName(input.name),
        description: input.description ?? '',
        price_cents: cents(input.price),
        quantity: input.quantity,
        created_by: by.userId,
        created_at: nowMs,
        updated_at: nowMs,
      };
      const id = await repository.insert({
        name: row.name,
        description: row.description,
        priceCents: row.price_cents,
        quantity: row.quantity,
        createdBy: by.userId,
        nowMs,
      });
      // The row is exactly what was written: no second query to read it back.
      return toProduct({ id, ...row, legacy_id: null });
    },
    async update(id, input, by) {
      assertMayWrite(by);
      const changes: ProductChanges = {};
      if (input.name !== undefined) changes.name = checkName(input.name);
      if (input.description !== undefined) changes.description = input.description ?? '';
      if (input.price !== undefined) changes.price_cents = cents(input.price);
      if (input.quantity !== undefined) changes.quantity = input.quantity;
      if (Object.keys(changes).length === 0)
        throw validationError({ body: 'give at least one of name, description, price, quantity' });
      if (!(await repository.update(id, changes, clock.now().getTime())))
        throw new AppError('not_found', { message: `Product ${id} does not exist.` });
      return get(id);
    },
    async remove(id, by) {
      assertMayWrite(by);
      if (!(await repository.delete(id))) throw new AppError('not_found', { message: `Product ${id} does not exist.` });
    },
  };
}
