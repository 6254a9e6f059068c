import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult } from 'kysely';
import type * as Mysql from 'mysql2';

/**
 * Server-side prepared statements for Kysely on MySQL/MariaDB. Kysely hands mysql2 a text and its
 * parameters through `query`, which writes the values into the text: the server parses every
 * statement anew. Through `execute` mysql2 prepares each distinct text once per connection
 * (COM_STMT_PREPARE) and later sends only the statement id and the values in the binary protocol
 * (COM_STMT_EXECUTE; MariaDB and MySQL reference manuals, "Prepared Statements"). The queries stay
 * Kysely's; only the way they travel changes. The server re-prepares a statement itself after a
 * schema change (MariaDB: "automatic repreparation"), so no stale statement is ever run.
 *
 * Each connection keeps at most PREPARED_PER_CONNECTION statements (mysql2's LRU closes the oldest):
 * the server's max_prepared_stmt_count (16,382 by default) is shared by every connection of every
 * instance.
 */
export const PREPARED_PER_CONNECTION = 100;

const DDL = /^\s*(create|alter|drop|truncate|rename|comment)\b/i;

/** Statements with values go through `execute`; those without (BEGIN, COMMIT, DDL) need no parsing saved. */
function prepared(text: string, parameters: unknown[]): boolean {
  return parameters.length > 0 && !DDL.test(text) && !text.includes(';');
}

type Callback = (error: unknown, result: MysqlQueryResult) => void;

/** Wraps a mysql2 pool so every connection it lends runs Kysely's statements with values as prepared statements. */
export function withPreparedStatements(pool: Mysql.Pool): MysqlPool {
  const wrapped = new WeakMap<Mysql.PoolConnection, MysqlPoolConnection>();
  const wrap = (connection: Mysql.PoolConnection): MysqlPoolConnection => {
    function query(text: string, parameters: unknown[]): ReturnType<MysqlPoolConnection['query']>;
    function query(text: string, parameters: unknown[], callback: Callback): void;
    function query(text: string, parameters: unknown[], callback?: Callback): unknown {
      // Streaming (no callback) keeps mysql2's query: a cursor is not what a prepared statement saves.
      if (callback === undefined) return connection.query(text, parameters);
      const done = callback as unknown as Parameters<Mysql.PoolConnection['query']>[2];
      if (prepared(text, parameters)) connection.execute(text, parameters as Mysql.ExecuteValues[], done);
      else connection.query(text, parameters, done);
      return undefined;
    }
    return { query: query as MysqlPoolConnection['query'], release: () => connection.release() };
  };
  return {
    getConnection(callback) {
      pool.getConnection((error, connection) => {
        if (error) {
          callback(error, undefined as unknown as MysqlPoolConnection);
          return;
        }
        let lent = wrapped.get(connection);
        if (lent === undefined) {
          lent = wrap(connection);
          wrapped.set(connection, lent);
        }
        callback(null, lent);
      });
    },
    end: (callback) => pool.end(callback),
  };
}
