import { hash, verify } from '@node-rs/argon2';
import SQLite from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { jwtVerify } from 'jose';
import type { Config } from '../src/config.js';

/**
 * The ceiling: a bare Fastify app (no logger, hooks, schemas or plugins) doing by hand the
 * least work each Twofold scenario must do. Twofold ÷ ceiling is the cost of everything else.
 */
export interface CeilingOptions {
  sqliteFile: string;
  jwt: Config['jwt'];
  argon2: Config['argon2'];
  password: string;
}

interface ProductRow {
  id: number;
  name: string;
  description: string;
  price_cents: number;
  quantity: number;
  created_at: number;
  updated_at: number;
}

// @node-rs/argon2's Algorithm is an ambient const enum; Argon2id is 2 (as in src/lib/password-hasher.ts).
const ARGON2ID = 2;

export async function buildCeiling(options: CeilingOptions): Promise<FastifyInstance> {
  const { jwt } = options;
  // A second connection to the same SQLite file (WAL), as Twofold's own is private to its Kysely instance.
  const sqlite = new SQLite(options.sqliteFile, { readonly: true });
  const page = sqlite.prepare<[number, number], ProductRow>('select * from products order by id limit ? offset ?');
  const count = sqlite.prepare<[], { total: number }>('select count(*) as total from products');
  // The same @node-rs/argon2 call and parameters as Twofold, so the same libuv thread pool does the work.
  const passwordHash = await hash(options.password, { algorithm: ARGON2ID, memoryCost: options.argon2.memoryKiB, timeCost: options.argon2.iterations, parallelism: options.argon2.parallelism });

  const app = Fastify({ logger: false });
  app.addHook('onClose', async () => {
    sqlite.close();
  });

  app.get('/products', async (request, reply) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return reply.status(401).send({ error: 'unauthorized' });
    try {
      await jwtVerify(token, jwt.secret, { algorithms: [jwt.alg], issuer: jwt.issuer, audience: jwt.audience });
    } catch {
      return reply.status(401).send({ error: 'unauthorized' });
    }
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    const items = page.all(limit, offset).map((row) => ({
      id: row.id,
      name: row.name,
      description: row.description,
      price: row.price_cents / 100,
      quantity: row.quantity,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
    }));
    return { items, total: count.get()?.total ?? 0, limit, offset };
  });

  app.post('/login', async (request, reply) => {
    const body = request.body as { password?: unknown };
    const ok = typeof body.password === 'string' && (await verify(passwordHash, body.password));
    return ok ? { ok: true } : reply.status(401).send({ error: 'invalid_credentials' });
  });
  return app;
}
