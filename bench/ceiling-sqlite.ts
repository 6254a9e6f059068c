import SQLite from 'better-sqlite3';
import { CEILING_SQL, nextRefreshToken } from './ceiling.js';
import type { CeilingStore, ProductRow, RefreshRow, Value } from './ceiling.js';

/** The ceiling's statements on SQLite: better-sqlite3 prepared statements, called synchronously. */
export function sqliteStore(file: string): CeilingStore {
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
  return {
    userIds: (limit) =>
      sqlite
        .prepare<[number], { id: number }>('select id from users order by id limit ?')
        .all(limit)
        .map((row) => row.id),
    insertSession: (values) => (insertSession.get(...values) as { id: number }).id,
    insertRefresh: (values) => insertRefresh.run(...values),
    readProducts: (limit, offset) => ({ rows: page.all(limit, offset), total: count.get()?.total ?? 0 }),
    createProduct: sqlite.transaction((product: Value[], audit: (productId: number) => Value[]): number => {
      const { id } = insertProduct.get(...product) as { id: number };
      countUp.run();
      insertAudit.run(...audit(id));
      return id;
    }),
    findRefresh: (tokenHash) => findRefresh.get(tokenHash),
    rotate: sqlite.transaction((tokenHash: string, sessionId: number, now: number): string | null => {
      if (spendRefresh.run(now, tokenHash).changes !== 1) return null;
      const next = nextRefreshToken(sessionId, now);
      insertRefresh.run(...next.values);
      return next.token;
    }),
    close: () => {
      sqlite.close();
    },
  };
}
