import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  CEILING_SQL,
  DAY_MS,
  productOut,
  refreshUsable,
  sha256,
  tokensOut,
  type CeilingParts,
  type ProductRow,
  type RefreshRow,
} from './ceiling.js';

/**
 * The read, write and refresh routes of the ceiling on PostgreSQL: the SQL Twofold runs, sent by
 * hand through a `pg` Pool of Twofold's size (10) as named prepared statements (parsed once per
 * connection: the least work the database can be asked to do).
 */
export async function postgresRoutes(
  { app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts,
  url: string,
): Promise<string[]> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // BIGINT (oid 20) holds epoch milliseconds and cents: numbers, as Twofold reads them.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => undefined);
  app.addHook('onClose', async () => {
    await pool.end();
  });
  // The SQL of ceiling.ts with numbered placeholders, as named statements.
  const named = (name: keyof typeof CEILING_SQL): { name: string; text: string } => {
    let n = 0;
    return { name: `ceiling-${name}`, text: CEILING_SQL[name].replace(/\?/g, () => `$${++n}`) };
  };
  const newToken = async (client: pg.Pool | pg.PoolClient, sessionId: number, now: number): Promise<string> => {
    const token = randomBytes(32).toString('base64url');
    await client.query({ ...named('insertRefresh'), values: [sha256(token), sessionId, now, now + DAY_MS] });
    return token;
  };
  /** BEGIN … COMMIT on one pooled connection; ROLLBACK on any failure. */
  const inTransaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  // One session per chain, for the seeded users in turn, in Twofold's own tables.
  const userIds = (
    await pool.query<{ id: number }>('select id from users order by id limit $1', [refreshTokens])
  ).rows.map((row) => row.id);
  const tokens: string[] = [];
  for (let i = 0; i < refreshTokens; i++) {
    const now = Date.now();
    const session = await pool.query<{ id: number }>({
      ...named('insertSession'),
      values: [userIds[i % userIds.length], now, now, now + 30 * DAY_MS],
    });
    tokens.push(await newToken(pool, session.rows[0]?.id as number, now));
  }

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null)
      return reply.status(401).send({ error: 'unauthorized' });
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    // Both at once on two pooled connections, as Twofold's repository does.
    const [rows, total] = await Promise.all([
      pool.query<ProductRow>({ ...named('page'), values: [limit, offset] }),
      pool.query<{ total: number }>(named('count')),
    ]);
    return { items: rows.rows.map(productOut), total: total.rows[0]?.total ?? 0, limit, offset };
  });

  app.post('/products', async (request, reply) => {
    const subject = await verifyBearer(request.headers.authorization);
    if (subject === null) return reply.status(401).send({ error: 'unauthorized' });
    const body = request.body as { name: string; description?: string; price: number; quantity: number };
    const now = Date.now();
    // The product, the counter and the audit event commit together.
    const id = await inTransaction(async (client) => {
      const inserted = await client.query<{ id: number }>({
        ...named('insertProduct'),
        values: [
          body.name,
          body.description ?? '',
          Math.round(body.price * 100),
          body.quantity,
          Number(subject),
          now,
          now,
        ],
      });
      const productId = inserted.rows[0]?.id as number;
      await client.query(named('countUp'));
      await client.query({
        ...named('insertAudit'),
        values: [now, 'product.created', Number(subject), request.ip, null, JSON.stringify({ product_id: productId })],
      });
      return productId;
    });
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
    const row = (await pool.query<RefreshRow>({ ...named('findRefresh'), values: [tokenHash] })).rows[0];
    if (!refreshUsable(row, now)) return reply.status(401).send({ error: 'refresh_token_invalid' });
    // The guarded spend picks one winner; the next token is written in the same commit.
    const next = await inTransaction(async (client) =>
      (await client.query({ ...named('spendRefresh'), values: [now, tokenHash] })).rowCount === 1
        ? newToken(client, row.session_id, now)
        : null,
    );
    if (next === null) return reply.status(401).send({ error: 'refresh_token_invalid' });
    return tokensOut(row, await signAccessToken(row), next);
  });
  return tokens;
}
