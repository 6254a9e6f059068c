import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
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

type Runner = mysql.Pool | mysql.PoolConnection;
type Rows<T> = Array<T & mysql.RowDataPacket>;
type Value = string | number | null;

/**
 * The read, write and refresh routes of the ceiling on MySQL/MariaDB: the SQL Twofold runs, sent
 * by hand through a mysql2 pool of Twofold's size (10) with `execute`, i.e. server-side prepared
 * statements that mysql2 caches per connection (parsed once: the least work the server can be
 * asked to do; mysql2's "Prepared Statements" documentation). INSERT … RETURNING is MariaDB's
 * (10.5+); MySQL itself has none, so on MySQL the ceiling reads `insertId` instead.
 */
export async function mysqlRoutes(
  { app, verifyBearer, signAccessToken, refreshTokens }: CeilingParts,
  url: string,
): Promise<string[]> {
  // The options of Twofold's own pool (src/db/create-database.ts): BIGINT columns read as numbers.
  const pool = mysql.createPool({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: 10,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  });
  app.addHook('onClose', async () => {
    await pool.end();
  });
  const [server] = await pool.query<Rows<{ version: string }>>('select version() as version');
  const returning = /mariadb/i.test(server[0]?.version ?? '');
  /** An INSERT's new id: from its RETURNING row on MariaDB, else from the OK packet. */
  const insertId = async (
    runner: Runner,
    name: 'insertProduct' | 'insertSession',
    values: Value[],
  ): Promise<number> => {
    if (returning) {
      const [rows] = await runner.execute<Rows<{ id: number }>>(CEILING_SQL[name], values);
      return rows[0]?.id as number;
    }
    const [result] = await runner.execute<mysql.ResultSetHeader>(
      CEILING_SQL[name].replace(/ returning id$/, ''),
      values,
    );
    return result.insertId;
  };
  const newToken = async (runner: Runner, sessionId: number, now: number): Promise<string> => {
    const token = randomBytes(32).toString('base64url');
    await runner.execute(CEILING_SQL.insertRefresh, [sha256(token), sessionId, now, now + DAY_MS]);
    return token;
  };
  /** BEGIN … COMMIT on one pooled connection; ROLLBACK on any failure. */
  const inTransaction = async <T>(work: (connection: mysql.PoolConnection) => Promise<T>): Promise<T> => {
    const connection = await pool.getConnection();
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
  };
  // One session per chain, for the seeded users in turn, in Twofold's own tables.
  const [users] = await pool.query<Rows<{ id: number }>>('select id from users order by id limit ?', [refreshTokens]);
  const userIds = users.map((row) => row.id);
  const tokens: string[] = [];
  for (let i = 0; i < refreshTokens; i++) {
    const now = Date.now();
    const sessionId = await insertId(pool, 'insertSession', [
      userIds[i % userIds.length] as number,
      now,
      now,
      now + 30 * DAY_MS,
    ]);
    tokens.push(await newToken(pool, sessionId, now));
  }

  app.get('/products', async (request, reply) => {
    if ((await verifyBearer(request.headers.authorization)) === null)
      return reply.status(401).send({ error: 'unauthorized' });
    const query = request.query as { limit?: string; offset?: string };
    const limit = Number(query.limit ?? 20);
    const offset = Number(query.offset ?? 0);
    // Both at once on two pooled connections, as Twofold's repository does.
    const [[rows], [total]] = await Promise.all([
      pool.execute<Rows<ProductRow>>(CEILING_SQL.page, [limit, offset]),
      pool.execute<Rows<{ total: number }>>(CEILING_SQL.count),
    ]);
    return { items: rows.map(productOut), total: total[0]?.total ?? 0, limit, offset };
  });

  app.post('/products', async (request, reply) => {
    const subject = await verifyBearer(request.headers.authorization);
    if (subject === null) return reply.status(401).send({ error: 'unauthorized' });
    const body = request.body as { name: string; description?: string; price: number; quantity: number };
    const now = Date.now();
    // The product, the counter and the audit event commit together.
    const id = await inTransaction(async (connection) => {
      const productId = await insertId(connection, 'insertProduct', [
        body.name,
        body.description ?? '',
        Math.round(body.price * 100),
        body.quantity,
        Number(subject),
        now,
        now,
      ]);
      await connection.execute(CEILING_SQL.countUp);
      await connection.execute(CEILING_SQL.insertAudit, [
        now,
        'product.created',
        Number(subject),
        request.ip,
        null,
        JSON.stringify({ product_id: productId }),
      ]);
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
    const [found] = await pool.execute<Rows<RefreshRow>>(CEILING_SQL.findRefresh, [tokenHash]);
    const row = found[0];
    if (!refreshUsable(row, now)) return reply.status(401).send({ error: 'refresh_token_invalid' });
    // The guarded spend picks one winner; the next token is written in the same commit.
    const next = await inTransaction(async (connection) => {
      const [spent] = await connection.execute<mysql.ResultSetHeader>(CEILING_SQL.spendRefresh, [now, tokenHash]);
      return spent.affectedRows === 1 ? newToken(connection, row.session_id, now) : null;
    });
    if (next === null) return reply.status(401).send({ error: 'refresh_token_invalid' });
    return tokensOut(row, await signAccessToken(row), next);
  });
  return tokens;
}
