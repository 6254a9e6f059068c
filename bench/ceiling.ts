import { createHash, randomBytes, webcrypto } from 'node:crypto';
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
    'exists (select 1 from totp_factors f where f.user_id = u.id and f.confirmed_at is not null) as totp, exists (select 1 from email_factors e where e.user_id = u.id) as email_factor ' +
    'from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id where t.token_hash = ?',
  spendRefresh: 'update refresh_tokens set used_at = ? where token_hash = ? and used_at is null',
  insertRefresh: 'insert into refresh_tokens (token_hash, session_id, created_at, expires_at) values (?, ?, ?, ?)',
  insertSession:
    "insert into sessions (user_id, amr, user_agent, ip, created_at, last_used_at, expires_at) values (?, 'pwd', 'ceiling', '127.0.0.1', ?, ?, ?) returning id",
} as const;

export const DAY_MS = 86_400_000;

/** What the database-specific half of the ceiling gets from the common half. */
export interface CeilingParts {
  app: FastifyInstance;
  /** The subject of a valid Bearer token, or null. */
  verifyBearer(authorization: string | undefined): Promise<string | null>;
  signAccessToken(row: RefreshRow): Promise<string>;
  refreshTokens: number;
}

/** The refresh answer of the contract (`tokens` with `user`). */
export function tokensOut(row: RefreshRow, accessToken: string, refreshToken: string): object {
  const methods = [...(row.totp ? ['totp'] : []), ...(row.email_factor ? ['email'] : [])];
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
  const database = options.databaseUrl;
  return { app, refreshTokens: await databaseRoutes(parts, database) };
}

/** The routes on the run's database; a server's driver is loaded only for its run (as Twofold loads only its own). */
async function databaseRoutes(parts: CeilingParts, database: string): Promise<string[]> {
  switch (dialectOf(database)) {
    case 'postgres':
      return (await import('./ceiling-postgres.js')).postgresRoutes(parts, database);
    case 'mysql':
      return (await import('./ceiling-mysql.js')).mysqlRoutes(parts, database);
    case 'sqlite':
      return sqliteRoutes(parts, database.slice('sqlite:'.length));
  }
}

/** The read, write and refresh routes on SQLite: better-sqlite3 prepared statements, called synchronously. */
function sqliteRoutes({ app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts, file: string): string[] {
  // A second connection to the same SQLite file (WAL), as Twofold's own is private to its Kysely instance.
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const page = sqlite.prepare<[number, number], ProductRow>(CEILING_SQL.page);
  const count = sqlite.prepare<[], { total: number }>(CEILING_SQL.count);
  const insertProduct = sqlite.prepare<unknown[], { id: number }>(CEILING_SQL.insertProduct);
  const countUp = sqlite.prepare(CEILING_SQL.countUp);
  const insertAudit = sqlite.prepare(CEILING_SQL.insertAudit);
  const findRefresh = sqlite.prepare<[string], RefreshRow>(CEILING_SQL.findRefresh);
  const spendRefresh = sqlite.prepare(CEILING_SQL.spendRefresh);
  const insertRefresh = sqlite.prepare(CEILING_SQL.insertRefresh);
  const insertSession = sqlite.prepare<unknown[], { id: number }>(CEILING_SQL.insertSession);
  const newToken = (sessionId: number, now: number): string => {
    const token = randomBytes(32).toString('base64url');
    insertRefresh.run(sha256(token), sessionId, now, now + DAY_MS);
    return token;
  };
  // One session per chain, for the seeded users in turn, in Twofold's own tables.
  const userIds = sqlite
    .prepare<[number], { id: number }>('select id from users order by id limit ?')
    .all(refreshTokens)
    .map((row) => row.id);
  const tokens = Array.from({ length: refreshTokens }, (_, i) => {
    const now = Date.now();
    const session = insertSession.get(userIds[i % userIds.length], now, now, now + 30 * DAY_MS) as { id: number };
    return newToken(session.id, now);
  });
  // The product, the counter and the audit event commit together.
  const createProduct = sqlite.transaction((values: unknown[], subject: number, now: number, ip: string): number => {
    const { id } = insertProduct.get(...values) as { id: number };
    countUp.run();
    insertAudit.run(now, 'product.created', subject, ip, null, JSON.stringify({ product_id: id }));
    return id;
  });
  // The guarded spend picks one winner; the next token is written in the same commit.
  const rotate = sqlite.transaction((tokenHash: string, sessionId: number, now: number): string | null =>
    spendRefresh.run(now, tokenHash).changes === 1 ? newToken(sessionId, now) : null,
  );
  app.addHook('onClose', async () => {
    sqlite.close();
  });

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null)
      return reply.status(401).send({ error: 'unauthorized' });
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
    const id = createProduct(
      [body.name, body.description ?? '', Math.round(body.price * 100), body.quantity, Number(subject), now, now],
      Number(subject),
      now,
      request.ip,
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
    const row = findRefresh.get(tokenHash);
    const next = refreshUsable(row, now) ? rotate(tokenHash, row.session_id, now) : null;
    if (!row || next === null) return reply.status(401).send({ error: 'refresh_token_invalid' });
    return tokensOut(row, await signAccessToken(row), next);
  });
  return tokens;
}
