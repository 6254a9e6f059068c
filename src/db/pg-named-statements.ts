import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type * as Pg from 'pg';

/**
 * Named prepared statements for Kysely on PostgreSQL. Kysely hands `pg` a text and its parameters,
 * which `pg` sends as an unnamed statement: PostgreSQL parses, analyses and plans it on every call.
 * Given a name, `pg` parses a statement once per connection and later sends only Bind/Execute
 * (PostgreSQL docs, "Extended Query" protocol, §55.2.3), and PostgreSQL may reuse the plan
 * ("PREPARE", plan_cache_mode). The queries stay Kysely's; only the way they travel changes.
 */
export interface StatementNames {
  /** The name for this text, or undefined to send it unnamed. */
  nameOf(text: string): string | undefined;
  /** Gives the text a new name (its old statement on some connection no longer fits the schema). */
  rename(text: string): void;
  readonly size: number;
}

/**
 * Names in order of first use (`tf<generation>_<n>`). The distinct texts of a program are few and
 * fixed; past `max` (texts built from varying lists, say) new ones go unnamed, so neither side's
 * per-connection statement cache grows without bound. A schema change (DDL through this pool: the
 * migrations) starts a new generation, so no statement planned against the old schema is reused.
 */
export function statementNames(max = 1000): StatementNames {
  let generation = 0;
  let names = new Map<string, string>();
  let renamed = 0;
  return {
    nameOf(text) {
      // The hot path: a text seen before (never DDL, never several statements) has its name.
      const known = names.get(text);
      if (known !== undefined) return known;
      if (DDL.test(text)) {
        generation += 1;
        names = new Map();
        return undefined;
      }
      // Several statements in one text need the simple protocol, which has no names.
      if (text.includes(';')) return undefined;
      if (names.size >= max) return undefined;
      const name = `tf${generation}_${names.size}`;
      names.set(text, name);
      return name;
    },
    rename(text) {
      if (names.has(text)) names.set(text, `tf${generation}_r${renamed++}`);
    },
    get size() {
      return names.size;
    },
  };
}

const DDL = /^\s*(create|alter|drop|truncate|comment)\b/i;
const TRANSACTION_START = /^\s*(begin|start transaction)\b/i;
const TRANSACTION_END = /^\s*(commit|rollback|end|abort)\s*$/i;

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was
 * prepared (another instance migrated the schema: SQLSTATE 0A000, "cached plan must not change
 * result type"). The text gets a new name, parsed afresh on its next use; outside a transaction
 * the query is sent again at once.
 */
function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

/** Wraps a `pg` pool so every client it lends sends Kysely's queries as named statements. */
export function withNamedStatements(pool: Pg.Pool, names: StatementNames = statementNames()): PostgresPool {
  const wrapped = new WeakMap<Pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: Pg.PoolClient): PostgresPoolClient => {
    let inTransaction = false;
    const send = <R>(text: string, values: unknown[]): Promise<PostgresQueryResult<R>> => {
      const name = names.nameOf(text);
      const sent = name === undefined ? client.query(text, values) : client.query({ name, text, values });
      return sent as unknown as Promise<PostgresQueryResult<R>>;
    };
    const query = async <R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
      const values = [...parameters];
      const start = TRANSACTION_START.test(text);
      const end = !start && TRANSACTION_END.test(text);
      if (start) inTransaction = true;
      else if (end) inTransaction = false;
      // BEGIN and COMMIT have nothing to plan: one simple-protocol Query message each (PostgreSQL docs,
      // "Simple Query", §55.2.2) instead of Bind, Execute and Sync for a named statement.
      if ((start || end) && values.length === 0)
        return client.query(text) as unknown as Promise<PostgresQueryResult<R>>;
      try {
        return await send<R>(text, values);
      } catch (error) {
        if (!isStalePlan(error)) throw error;
        names.rename(text);
        // Inside a transaction the failed statement has aborted it: the caller must see the error.
        if (inTransaction) throw error;
        return send<R>(text, values);
      }
    };
    return {
      query: query as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      let lent = wrapped.get(client);
      if (lent === undefined) {
        lent = wrap(client);
        wrapped.set(client, lent);
      }
      return lent;
    },
    end: () => pool.end(),
  };
}
