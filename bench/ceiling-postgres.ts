import pg from 'pg';
import { CEILING_SQL, inTransaction, nextRefreshToken } from './ceiling.js';
import type { CeilingStore, ProductRow, RefreshRow } from './ceiling.js';

/**
 * The ceiling's statements on PostgreSQL: the SQL Twofold runs, sent by hand through a `pg` Pool of
 * Twofold's size (10) as named prepared statements (parsed once per connection: the least work the
 * database can be asked to do).
 */
export function postgresStore(url: string): CeilingStore {
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
  // The SQL of ceiling.ts with numbered placeholders, as named statements.
  const named = (name: keyof typeof CEILING_SQL): { name: string; text: string } => {
    let n = 0;
    return { name: `ceiling-${name}`, text: CEILING_SQL[name].replace(/\?/g, () => `$${++n}`) };
  };
  return {
    async userIds(limit) {
      const users = await pool.query<{ id: number }>('select id from users order by id limit $1', [limit]);
      return users.rows.map((row) => row.id);
    },
    async insertSession(values) {
      const session = await pool.query<{ id: number }>({ ...named('insertSession'), values });
      return session.rows[0]?.id as number;
    },
    insertRefresh: (values) => pool.query({ ...named('insertRefresh'), values }),
    async readProducts(limit, offset) {
      // Both at once on two pooled connections, as Twofold's repository does.
      const [rows, total] = await Promise.all([
        pool.query<ProductRow>({ ...named('page'), values: [limit, offset] }),
        pool.query<{ total: number }>(named('count')),
      ]);
      return { rows: rows.rows, total: total.rows[0]?.total ?? 0 };
    },
    async createProduct(product, audit) {
      return inTransaction(await pool.connect(), async (client) => {
        const inserted = await client.query<{ id: number }>({ ...named('insertProduct'), values: product });
        const id = inserted.rows[0]?.id as number;
        await client.query(named('countUp'));
        await client.query({ ...named('insertAudit'), values: audit(id) });
        return id;
      });
    },
    async findRefresh(tokenHash) {
      return (await pool.query<RefreshRow>({ ...named('findRefresh'), values: [tokenHash] })).rows[0];
    },
    async rotate(tokenHash, sessionId, now) {
      return inTransaction(await pool.connect(), async (client) => {
        if ((await client.query({ ...named('spendRefresh'), values: [now, tokenHash] })).rowCount !== 1) return null;
        const next = nextRefreshToken(sessionId, now);
        await client.query({ ...named('insertRefresh'), values: next.values });
        return next.token;
      });
    },
    close: () => pool.end(),
  };
}
