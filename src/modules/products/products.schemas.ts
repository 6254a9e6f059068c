import { Type, type Static } from '@sinclair/typebox';
import { Str } from '../../http/schema.js';

export const ProductSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    description: Type.String(),
    price: Type.Number(),
    quantity: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Product' },
);

const fields = {
  name: Str({ minLength: 1, maxLength: 100 }),
  description: Type.Union([Str({ maxLength: 255 }), Type.Null()]),
  price: Type.Number({
    minimum: 0,
    maximum: 99999999.99,
    description: 'At most 2 decimals; stored exactly as integer cents',
  }),
  quantity: Type.Integer({ minimum: 0, maximum: 2147483647 }),
};

export const CreateProductBody = Type.Object({
  name: fields.name,
  description: Type.Optional(fields.description),
  price: fields.price,
  quantity: fields.quantity,
});
export type CreateProductBody = Static<typeof CreateProductBody>;

export const UpdateProductBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    description: Type.Optional(fields.description),
    price: Type.Optional(fields.price),
    quantity: Type.Optional(fields.quantity),
  },
  { minProperties: 1 },
);
export type UpdateProductBody = Static<typeof UpdateProductBody>;

export const ListProductsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 }),
  q: Type.Optional(Str({ maxLength: 100, description: 'Name contains (case-insensitive)' })),
});
export type ListProductsQuery = Static<typeof ListProductsQuery>;
