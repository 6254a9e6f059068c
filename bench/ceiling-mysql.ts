import mysql from 'mysql2/promise';
import { CEILING_SQL, inTransaction, nextRefreshToken } from './ceiling.js';
import type { CeilingStore, ProductRow, RefreshRow, Value } from './ceiling.js';

type Runner = mysql.Pool | mysql.PoolConnection;
type Rows<T> = Array<T & mysql.RowDataPacket>;

/**
 * The ceiling's statements on MySQL/MariaDB: the SQL Twofold runs, sent by hand through a mysql2
 * pool of Twofold's size (10) with `execute`, i.e. server-side prepared statements that mysql2
 * caches per connection (parsed once: the least work the server can be asked to do; mysql2's
 * "Prepared Statements" documentation). INSERT … RETURNING is MariaDB's (10.5+); MySQL itself has
 * none, so on MySQL the ceiling reads `insertId` instead.
 */
export async function mysqlStore(url: string): Promise<CeilingStore> {
  // The options of Twofold's own pool (src/db/create-database.ts): BIGINT columns read as numbers.
  const pool = mysql.createPool({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: 10,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
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
  return {
    async userIds(limit) {
      const [users] = await pool.query<Rows<{ id: number }>>('select id from users order by id limit ?', [limit]);
      return users.map((row) => row.id);
    },
    insertSession: (values) => insertId(pool, 'insertSession', values),
    insertRefresh: (values) => pool.execute(CEILING_SQL.insertRefresh, values),
    async readProducts(limit, offset) {
      // Both at once on two pooled connections, as Twofold's repository does.
      const [[rows], [total]] = await Promise.all([
        pool.execute<Rows<ProductRow>>(CEILING_SQL.page, [limit, offset]),
        pool.execute<Rows<{ total: number }>>(CEILING_SQL.count),
      ]);
      return { rows, total: total[0]?.total ?? 0 };
    },
    async createProduct(product, audit) {
      return inTransaction(await pool.getConnection(), async (connection) => {
        const id = await insertId(connection, 'insertProduct', product);
        await connection.execute(CEILING_SQL.countUp);
        await connection.execute(CEILING_SQL.insertAudit, audit(id));
        return id;
      });
    },
    async findRefresh(tokenHash) {
      const [found] = await pool.execute<Rows<RefreshRow>>(CEILING_SQL.findRefresh, [tokenHash]);
      return found[0];
    },
    async rotate(tokenHash, sessionId, now) {
      return inTransaction(await pool.getConnection(), async (connection) => {
        const [spent] = await connection.execute<mysql.ResultSetHeader>(CEILING_SQL.spendRefresh, [now, tokenHash]);
        if (spent.affectedRows !== 1) return null;
        const next = nextRefreshToken(sessionId, now);
        await connection.execute(CEILING_SQL.insertRefresh, next.values);
        return next.token;
      });
    },
    close: () => pool.end(),
  };
}
