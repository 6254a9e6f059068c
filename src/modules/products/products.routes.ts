import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../../http/client-info.js';
import { requirePrincipal, type Authenticate } from '../../http/principal.js';
import { IdParams, NoContent, errorResponses } from '../../http/schema.js';
import type { FastifyRequest } from 'fastify';
import type { AuditService } from '../audit/audit.service.js';
import { CreateProductBody, ListProductsQuery, UpdateProductBody } from './products.schemas.js';
import type { ProductsService } from './products.service.js';

export interface ProductsRoutesOptions {
  products: ProductsService;
  authenticate: Authenticate;
  audit: AuditService;
}

// The original API's GET /products returned every product as a plain array; the twin pages too, with a larger default.
const CompatListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 1000 }),
  offset: Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 }),
  q: ListProductsQuery.properties.q,
});

export const productsRoutes: FastifyPluginAsyncTypebox<ProductsRoutesOptions> = async (
  app,
  { products, authenticate, audit },
) => {
  function recordChange(
    request: FastifyRequest,
    type: 'product.created' | 'product.updated' | 'product.deleted',
    productId: number,
    fields?: string,
  ): Promise<void> {
    return audit.record({
      ...clientInfo(request),
      type,
      userId: requirePrincipal(request.principal).userId,
      detail: { product_id: productId, ...(fields ? { fields } : {}) },
    });
  }

  app.addHook('onRequest', authenticate);
  const product = Type.Ref('Product');
  const security = [{ bearer: [] }];

  app.get(
    '/api/products',
    {
      schema: {
        tags: ['products'],
        security,
        querystring: ListProductsQuery,
        response: {
          200: Type.Object({
            items: Type.Array(product),
            total: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
          ...errorResponses(400, 401),
        },
      },
    },
    async (request) => products.list(request.query),
  );

  app.get(
    '/products',
    {
      schema: {
        tags: ['compatibility'],
        deprecated: true,
        security,
        querystring: CompatListQuery,
        response: { 200: Type.Array(product), ...errorResponses(400, 401) },
      },
    },
    async (request) => (await products.list(request.query)).items,
  );

  for (const [prefix, compat] of [
    ['/api/products', false],
    ['/products', true],
  ] as const) {
    const tags = [compat ? 'compatibility' : 'products'];
    app.get(
      `${prefix}/:id`,
      {
        schema: {
          tags,
          deprecated: compat,
          security,
          params: IdParams,
          response: { 200: product, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => products.get(request.params.id),
    );
    app.post(
      prefix,
      {
        schema: {
          tags,
          deprecated: compat,
          security,
          body: CreateProductBody,
          response: { 201: product, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const created = await products.create(request.body, requirePrincipal(request.principal));
        await recordChange(request, 'product.created', created.id);
        return reply.status(201).send(created);
      },
    );
    for (const method of compat ? (['put'] as const) : (['put', 'patch'] as const)) {
      app[method](
        `${prefix}/:id`,
        {
          schema: {
            tags,
            deprecated: compat,
            security,
            params: IdParams,
            body: UpdateProductBody,
            response: { 200: product, ...errorResponses(400, 401, 403, 404) },
          },
        },
        async (request) => {
          const updated = await products.update(request.params.id, request.body, requirePrincipal(request.principal));
          await recordChange(request, 'product.updated', updated.id, Object.keys(request.body).join(','));
          return updated;
        },
      );
    }
    app.delete(
      `${prefix}/:id`,
      {
        schema: {
          tags,
          deprecated: compat,
          security,
          params: IdParams,
          response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await products.remove(request.params.id, requirePrincipal(request.principal));
        await recordChange(request, 'product.deleted', request.params.id);
        return reply.status(204).send();
      },
    );
  }
};
