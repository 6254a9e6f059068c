import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import SQLite from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../src/config.js';
import { dialectOf } from '../src/db/create-database.js';

/**
 * The ceiling: a bare Fastify app (no logger, hooks, schemas or plugins) doing by hand the
 * least work each Twofold scenario must do. Twofold ÷ ceiling is the cost of everything else.
 */
export interface CeilingOptions {
  /** Twofold's database: `sqlite:<file>` or `postgres://…`. */
  databaseUrl: string;
  jwt: Config['jwt'];
  argon2: Config['argon2'];
  password: string;
  /** How many refresh tokens to create for the refresh ceiling (one chain per connection and run). */
  refreshTokens: number;
}

export interface ProductRow {
  id: number;
  name: string;
  description: string;
  price_cents: number;
  quantity: number;
  created_at: number;
  updated_at: number;
}

/** What the database-specific half of the ceiling gets from the common half. */
export interface CeilingParts {
  app: FastifyInstance;
  /** The subject of a valid Bearer token, or null. */
  verifyBearer(authorization: string | undefined): Promise<string | null>;
  signAccessToken(): Promise<string>;
  refreshTokens: number;
}

// @node-rs/argon2's Algorithm is an ambient const enum; Argon2id is 2 (as in src/lib/password-hasher.ts).
const ARGON2ID = 2;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function productOut(row: ProductRow): object {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    price: row.price_cents / 100,
    quantity: row.quantity,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export async function buildCeiling(options: CeilingOptions): Promise<{ app: FastifyInstance; refreshTokens: string[] }> {
  const { jwt } = options;
  const verifyBearer = async (authorization: string | undefined): Promise<string | null> => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, jwt.secret, { algorithms: [jwt.alg], issuer: jwt.issuer, audience: jwt.audience });
      return payload.sub ?? null;
    } catch {
      return null;
    }
  };
  const signAccessToken = (): Promise<string> =>
    new SignJWT({ sid: 1 }).setProtectedHeader({ alg: jwt.alg }).setSubject('1').setIssuer(jwt.issuer).setAudience(jwt.audience).setIssuedAt().setExpirationTime('10m').sign(jwt.secret);
  // The same @node-rs/argon2 call and parameters as Twofold, so the same libuv thread pool does the work.
  const passwordHash = await hash(options.password, { algorithm: ARGON2ID, memoryCost: options.argon2.memoryKiB, timeCost: options.argon2.iterations, parallelism: options.argon2.parallelism });

  const app = Fastify({ logger: false });
  app.post('/login', async (request, reply) => {
    const body = request.body as { password?: unknown };
    const ok = typeof body.password === 'string' && (await verify(passwordHash, body.password));
    return ok ? { ok: true } : reply.status(401).send({ error: 'invalid_credentials' });
  });
  const parts: CeilingParts = { app, verifyBearer, signAccessToken, refreshTokens: options.refreshTokens };
  const database = options.databaseUrl;
  // The pg driver is loaded only for a PostgreSQL run (as Twofold loads only its configured driver).
  const refreshTokens =
    dialectOf(database) === 'postgres' ? await (await import('./ceiling-postgres.js')).postgresRoutes(parts, database) : sqliteRoutes(parts, database.slice('sqlite:'.length));
  return { app, refreshTokens };
}

/** The read, write and refresh routes on SQLite: better-sqlite3 prepared statements, called synchronously. */
function sqliteRoutes({ app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts, file: string): string[] {
  // A second connection to the same SQLite file (WAL), as Twofold's own is private to its Kysely instance.
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const page = sqlite.prepare<[number, number], ProductRow>('select * from products order by id limit ? offset ?');
  const count = sqlite.prepare<[], { total: number }>('select count(*) as total from products');
  const insertProduct = sqlite.prepare('insert into products (name, description, price_cents, quantity, created_by, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?) returning id');
  // The refresh ceiling's own chain table: look up by hash, spend with a guarded UPDATE, insert the next.
  sqlite.exec('create table if not exists ceiling_refresh_tokens (token_hash char(64) primary key, expires_at bigint not null, used_at bigint)');
  const findToken = sqlite.prepare<[string, number], { token_hash: string }>('select token_hash from ceiling_refresh_tokens where token_hash = ? and used_at is null and expires_at > ?');
  const spendToken = sqlite.prepare('update ceiling_refresh_tokens set used_at = ? where token_hash = ? and used_at is null');
  const insertToken = sqlite.prepare('insert into ceiling_refresh_tokens (token_hash, expires_at) values (?, ?)');
  const newToken = (): string => {
    const token = randomBytes(32).toString('base64url');
    insertToken.run(sha256(token), Date.now() + 86_400_000);
    return token;
  };
  const tokens = Array.from({ length: refreshTokens }, newToken);
  app.addHook('onClose', async () => {
    sqlite.close();
  });

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null) return reply.status(401).send({ error: 'unauthorized' });
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    const items = page.all(limit, offset).map(productOut);
    return { items, total: count.get()?.total ?? 0, limit, offset };
  });

  app.post('/products', async (request, reply) => {
    const subject = await verifyBearer(request.headers.authorization);
    if (subject === null) return reply.status(401).send({ error: 'unauthorized' });
    const body = request.body as { name: string; description?: string; price: number; quantity: number };
    const now = Date.now();
    const { id } = insertProduct.get(body.name, body.description ?? '', Math.round(body.price * 100), body.quantity, Number(subject), now, now) as { id: number };
    const at = new Date(now).toISOString();
    return reply.status(201).send({ id, name: body.name, description: body.description ?? '', price: body.price, quantity: body.quantity, created_at: at, updated_at: at });
  });

  app.post('/refresh', async (request, reply) => {
    const token = (request.body as { refresh_token?: string }).refresh_token ?? '';
    const tokenHash = sha256(token);
    const now = Date.now();
    if (!findToken.get(tokenHash, now) || spendToken.run(now, tokenHash).changes !== 1) return reply.status(401).send({ error: 'refresh_token_invalid' });
    const accessToken = await signAccessToken();
    return { access_token: accessToken, token_type: 'Bearer', expires_in: 600, refresh_token: newToken() };
  });
  return tokens;
}
