import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../src/config.js';
import { dialectOf } from '../src/db/create-database.js';

/**
 * The ceiling: a bare Fastify app (no logger, hooks, schemas or plugins) doing by hand the
 * least work each Twofold scenario must do. Twofold ÷ ceiling is the cost of everything else.
 */
export interface CeilingOptions {
  /** Twofold's database: `sqlite:<file>`, `postgres://…` or `mysql://…`. */
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

/** The token, its session and the user's fields for the answer, in one query. */
export interface RefreshRow {
  session_id: number;
  used_at: number | null;
  token_expires_at: number;
  revoked_at: number | null;
  session_expires_at: number;
  amr: string;
  user_id: number;
  username: string;
  email: string | null;
  role: string;
  email_verified: number | boolean;
  created_at: number;
  totp: number | boolean;
  email_factor: number | boolean;
  passkey: number | boolean;
}

/**
 * The SQL every ceiling runs (placeholders `?`; the PostgreSQL half numbers them): what the contract
 * needs done and nothing else, in the fewest statements.
 */
export const CEILING_SQL = {
  page: 'select * from products order by id limit ? offset ?',
  count: 'select n as total from product_counts where id = 1',
  insertProduct:
    'insert into products (name, description, price_cents, quantity, created_by, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?) returning id',
  countUp: 'update product_counts set n = n + 1 where id = 1',
  insertAudit: 'insert into audit_events (at, type, user_id, ip, user_agent, detail) values (?, ?, ?, ?, ?, ?)',
  findRefresh:
    'select t.session_id, t.used_at, t.expires_at as token_expires_at, s.revoked_at, s.expires_at as session_expires_at, s.amr, u.id as user_id, u.username, u.email, u.role, u.email_verified, u.created_at, ' +
    'exists (select 1 from totp_factors f where f.user_id = u.id and f.confirmed_at is not null) as totp, exists (select 1 from email_factors e where e.user_id = u.id) as email_factor, ' +
    'exists (select 1 from passkeys pk where pk.user_id = u.id) as passkey ' +
    'from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id where t.token_hash = ?',
  spendRefresh: 'update refresh_tokens set used_at = ? where token_hash = ? and used_at is null',
  insertRefresh: 'insert into refresh_tokens (token_hash, session_id, created_at, expires_at) values (?, ?, ?, ?)',
  insertSession:
    "insert into sessions (user_id, amr, user_agent, ip, created_at, last_used_at, expires_at) values (?, 'pwd', 'ceiling', '127.0.0.1', ?, ?, ?) returning id",
} as const;

export const DAY_MS = 86_400_000;

/** A value bound to a placeholder of CEILING_SQL. */
export type Value = string | number | null;

/** better-sqlite3 answers synchronously, the server drivers with promises. */
type Awaitable<T> = T | Promise<T>;

/**
 * The database half of a ceiling (ceiling-sqlite.ts, ceiling-postgres.ts, ceiling-mysql.ts): each
 * measured method runs the statements of CEILING_SQL it names, prepared as its driver allows, within
 * the transaction it names. The routes (ceilingRoutes) are the same on every database.
 */
export interface CeilingStore {
  /** The first `limit` users by id (setup, not measured). */
  userIds(limit: number): Awaitable<number[]>;
  /** `insertSession`; the new session's id (setup, not measured). */
  insertSession(values: Value[]): Awaitable<number>;
  /** `insertRefresh` outside any transaction: a chain's first token (setup, not measured). */
  insertRefresh(values: Value[]): Awaitable<unknown>;
  /** `page` and `count`. */
  readProducts(limit: number, offset: number): Awaitable<{ rows: ProductRow[]; total: number }>;
  /**
   * One transaction: `insertProduct` with `product`, `countUp`, `insertAudit` with `audit(id)` (the
   * product, the counter and the audit event commit together); the product's id.
   */
  createProduct(product: Value[], audit: (productId: number) => Value[]): Awaitable<number>;
  /** `findRefresh`: the token, its session and the user's fields, or undefined. */
  findRefresh(tokenHash: string): Awaitable<RefreshRow | undefined>;
  /**
   * One transaction: the guarded `spendRefresh` picks one winner, and the winner writes the next
   * token (nextRefreshToken, `insertRefresh`) in the same commit; that token, or null for a loser.
   */
  rotate(tokenHash: string, sessionId: number, now: number): Awaitable<string | null>;
  close(): Awaitable<void>;
}

/** A new refresh token and the `insertRefresh` values that store its hash, valid for a day. */
export function nextRefreshToken(sessionId: number, now: number): { token: string; values: Value[] } {
  const token = randomBytes(32).toString('base64url');
  return { token, values: [sha256(token), sessionId, now, now + DAY_MS] };
}

/** A pooled connection of `pg` or mysql2: both run a plain statement with `query` and go back with `release`. */
interface PooledConnection {
  query(sql: string): Promise<unknown>;
  release(): void;
}

/** BEGIN … COMMIT on one pooled connection; ROLLBACK on any failure; the connection released either way. */
export async function inTransaction<C extends PooledConnection, T>(
  connection: C,
  work: (connection: C) => Promise<T>,
): Promise<T> {
  try {
    await connection.query('begin');
    const result = await work(connection);
    await connection.query('commit');
    return result;
  } catch (error) {
    await connection.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

/** What the routes get from buildCeiling, beside the store. */
interface CeilingParts {
  app: FastifyInstance;
  /** The subject of a valid Bearer token, or null. */
  verifyBearer(authorization: string | undefined): Promise<string | null>;
  signAccessToken(row: RefreshRow): Promise<string>;
  refreshTokens: number;
}

/** The refresh answer of the contract (`tokens` with `user`). */
export function tokensOut(row: RefreshRow, accessToken: string, refreshToken: string): object {
  // The contract's mfa_methods names every second factor the account has, a passkey included.
  const methods = [
    ...(row.totp ? ['totp'] : []),
    ...(row.email_factor ? ['email'] : []),
    ...(row.passkey ? ['passkey'] : []),
  ];
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: 600,
    refresh_token: refreshToken,
    user: {
      id: row.user_id,
      username: row.username,
      email: row.email,
      role: row.role,
      email_verified: Boolean(row.email_verified),
      mfa_enabled: methods.length > 0,
      mfa_methods: methods,
      created_at: new Date(row.created_at).toISOString(),
    },
  };
}

/** A refresh token can be used: known, unspent, unexpired, its session live. */
export function refreshUsable(row: RefreshRow | undefined, now: number): row is RefreshRow {
  return (
    row !== undefined &&
    row.used_at === null &&
    row.token_expires_at > now &&
    row.revoked_at === null &&
    row.session_expires_at > now
  );
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

export async function buildCeiling(
  options: CeilingOptions,
): Promise<{ app: FastifyInstance; refreshTokens: string[] }> {
  const { jwt } = options;
  // The key imported once, and a token verified once (then only its expiry checked), as Twofold does.
  const key = await webcrypto.subtle.importKey('raw', jwt.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  const verified = new Map<string, { sub: string; exp: number }>();
  const verifyBearer = async (authorization: string | undefined): Promise<string | null> => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return null;
    const cacheKey = sha256(token);
    const known = verified.get(cacheKey);
    if (known) return known.exp > Date.now() / 1000 ? known.sub : null;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [jwt.alg],
        issuer: jwt.issuer,
        audience: jwt.audience,
      });
      if (payload.sub === undefined || payload.exp === undefined) return null;
      verified.set(cacheKey, { sub: payload.sub, exp: payload.exp });
      return payload.sub;
    } catch {
      return null;
    }
  };
  const signAccessToken = (row: RefreshRow): Promise<string> =>
    new SignJWT({ username: row.username, role: row.role, sid: row.session_id, amr: row.amr.split(',') })
      .setProtectedHeader({ alg: jwt.alg, typ: 'at+jwt' })
      .setSubject(String(row.user_id))
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  // The same @node-rs/argon2 call and parameters as Twofold, so the same libuv thread pool does the work.
  const passwordHash = await hash(options.password, {
    algorithm: ARGON2ID,
    memoryCost: options.argon2.memoryKiB,
    timeCost: options.argon2.iterations,
    parallelism: options.argon2.parallelism,
  });

  const app = Fastify({ logger: false });
  app.post('/login', async (request, reply) => {
    const body = request.body as { password?: unknown };
    const ok = typeof body.password === 'string' && (await verify(passwordHash, body.password));
    return ok ? { ok: true } : reply.status(401).send({ error: 'invalid_credentials' });
  });
  const parts: CeilingParts = { app, verifyBearer, signAccessToken, refreshTokens: options.refreshTokens };
  return { app, refreshTokens: await ceilingRoutes(parts, await openStore(options.databaseUrl)) };
}

/** The run's store; a driver is loaded only for its own database (as Twofold loads only its own). */
async function openStore(database: string): Promise<CeilingStore> {
  switch (dialectOf(database)) {
    case 'postgres':
      return (await import('./ceiling-postgres.js')).postgresStore(database);
    case 'mysql':
      return (await import('./ceiling-mysql.js')).mysqlStore(database);
    case 'sqlite':
      return (await import('./ceiling-sqlite.js')).sqliteStore(database.slice('sqlite:'.length));
  }
}

/**
 * The read, write and refresh routes over any store, and the refresh chains they start with: one
 * session per chain, for the seeded users in turn, in Twofold's own tables.
 */
async function ceilingRoutes(
  { app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts,
  store: CeilingStore,
): Promise<string[]> {
  app.addHook('onClose', async () => {
    await store.close();
  });
  const userIds = await store.userIds(refreshTokens);
  const tokens: string[] = [];
  for (let i = 0; i < refreshTokens; i++) {
    const now = Date.now();
    const sessionId = await store.insertSession([userIds[i % userIds.length] as number, now, now, now + 30 * DAY_MS]);
    const first = nextRefreshToken(sessionId, now);
    await store.insertRefresh(first.values);
    tokens.push(first.token);
  }

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null)
      return reply.status(401).send({ error: 'unauthorized' });
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    const { rows, total } = await store.readProducts(limit, offset);
    return { items: rows.map(productOut), total, limit, offset };
  });

  app.post('/products', async (request, reply) => {
    const subject = await verifyBearer(request.headers.authorization);
    if (subject === null) return reply.status(401).send({ error: 'unauthorized' });
    const body = request.body as { name: string; description?: string; price: number; quantity: number };
    const now = Date.now();
    const userId = Number(subject);
    const id = await store.createProduct(
      [body.name, body.description ?? '', Math.round(body.price * 100), body.quantity, userId, now, now],
      (productId) => [now, 'product.created', userId, request.ip, null, JSON.stringify({ product_id: productId })],
    );
    const at = new Date(now).toISOString();
    return reply.status(201).send({
      id,
      name: body.name,
      description: body.description ?? '',
      price: body.price,
      quantity: body.quantity,
      created_at: at,
      updated_at: at,
    });
  });

  app.post('/refresh', async (request, reply) => {
    const tokenHash = sha256((request.body as { refresh_token?: string }).refresh_token ?? '');
    const now = Date.now();
    const row = await store.findRefresh(tokenHash);
    if (!refreshUsable(row, now)) return reply.status(401).send({ error: 'refresh_token_invalid' });
    const next = await store.rotate(tokenHash, row.session_id, now);
    if (next === null) return reply.status(401).send({ error: 'refresh_token_invalid' });
    return tokensOut(row, await signAccessToken(row), next);
  });
  return tokens;
}
