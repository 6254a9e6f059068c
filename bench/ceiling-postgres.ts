import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { productOut, sha256, type CeilingParts, type ProductRow } from './ceiling.js';

/**
 * The read, write and refresh routes of the ceiling on PostgreSQL: the SQL Twofold runs, sent by
 * hand through a `pg` Pool of Twofold's size (10) as named prepared statements (parsed once per
 * connection: the least work the database can be asked to do).
 */
export async function postgresRoutes({ app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts, url: string): Promise<string[]> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // BIGINT (oid 20) holds epoch milliseconds and cents: numbers, as Twofold reads them.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  pool.on('error', () => undefined);
  app.addHook('onClose', async () => {
    await pool.end();
  });
  // Twofold's page and total (products.repository.ts): the first rows by id, and the counter row.
  const page = { name: 'ceiling-page', text: 'select * from products order by id limit $1 offset $2' };
  const count = { name: 'ceiling-count', text: 'select n as total from product_counts where id = $1' };
  const insertProduct = { name: 'ceiling-insert-product', text: 'insert into products (name, description, price_cents, quantity, created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7) returning id' };
  await pool.query('create table if not exists ceiling_refresh_tokens (token_hash char(64) primary key, expires_at bigint not null, used_at bigint)');
  const findToken = { name: 'ceiling-find-token', text: 'select token_hash from ceiling_refresh_tokens where token_hash = $1 and used_at is null and expires_at > $2' };
  const spendToken = { name: 'ceiling-spend-token', text: 'update ceiling_refresh_tokens set used_at = $1 where token_hash = $2 and used_at is null' };
  const insertToken = { name: 'ceiling-insert-token', text: 'insert into ceiling_refresh_tokens (token_hash, expires_at) values ($1, $2)' };
  const newToken = async (): Promise<string> => {
    const token = randomBytes(32).toString('base64url');
    await pool.query({ ...insertToken, values: [sha256(token), Date.now() + 86_400_000] });
    return token;
  };
  const tokens: string[] = [];
  for (let i = 0; i < refreshTokens; i++) tokens.push(await newToken());

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null) return reply.status(401).send({ error: 'unauthorized' });
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    // Both at once on two pooled connections, as Twofold's repository does.
    const [rows, total] = await Promise.all([pool.query<ProductRow>({ ...page, values: [limit, offset] }), pool.query<{ total: number }>({ ...count, values: [1] })]);
    return { items: rows.rows.map(productOut), total: total.rows[0]?.total ?? 0, limit, offset };
  });

  app.post('/products', async (request, reply) => {
    const subject = await verifyBearer(request.headers.authorization);
    if (subject === null) return reply.status(401).send({ error: 'unauthorized' });
    const body = request.body as { name: string; description?: string; price: number; quantity: number };
    const now = Date.now();
    const inserted = await pool.query<{ id: number }>({ ...insertProduct, values: [body.name, body.description ?? '', Math.round(body.price * 100), body.quantity, Number(subject), now, now] });
    const at = new Date(now).toISOString();
    return reply.status(201).send({ id: inserted.rows[0]?.id, name: body.name, description: body.description ?? '', price: body.price, quantity: body.quantity, created_at: at, updated_at: at });
  });

  app.post('/refresh', async (request, reply) => {
    const token = (request.body as { refresh_token?: string }).refresh_token ?? '';
    const tokenHash = sha256(token);
    const now = Date.now();
    const found = await pool.query({ ...findToken, values: [tokenHash, now] });
    if (found.rowCount !== 1 || (await pool.query({ ...spendToken, values: [now, tokenHash] })).rowCount !== 1) return reply.status(401).send({ error: 'refresh_token_invalid' });
    const accessToken = await signAccessToken();
    return { access_token: accessToken, token_type: 'Bearer', expires_in: 600, refresh_token: await newToken() };
  });
  return tokens;
}
