import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

/** Stands for the argument at `index` while the query is built; Kysely binds it as a parameter. */
class Slot {
  constructor(readonly index: number) {}
}

/** What a compiled-once query's builder gets: `arg(0)`, `arg(1)`, … in place of the values. */
export type Arg = (index: number) => never;

/** A statement built and compiled once, then run with new values on any connection or transaction. */
export type CompiledOnce<Args extends readonly unknown[], Row> = (
  db: Kysely<Database>,
  ...args: Args
) => Promise<QueryResult<Row>>;

/**
 * Kysely builds an operation tree and compiles it to SQL text for every query it runs. For the
 * few statements that every sign-in, refresh and read sends, that is a measurable share of the
 * request's CPU. `compiledOnce` builds the query with slots in place of its values on first use,
 * keeps the compiled SQL, and afterwards only swaps the values. The parameters are matched to the
 * arguments by slot, never by position, so the order Kysely emits them in cannot mix them up, and
 * they stay bound parameters (the values never enter the SQL text).
 *
 * The compiled SQL belongs to the dialect of the first `db` it is run on: one compiledOnce per
 * repository (whose database has one dialect), shared with that repository's transactions. Kysely
 * plugins (the service uses none) see the query once, when it is compiled, and its results every
 * time, under the query id it was compiled with.
 */
export function compiledOnce<Args extends readonly unknown[], Row>(
  build: (db: Kysely<Database>, arg: Arg) => Compilable<Row>,
): CompiledOnce<Args, Row> {
  let compiled: CompiledQuery<Row> | undefined;
  return async (db, ...args) => {
    compiled ??= compileWithSlots(db, build, args.length);
    const parameters = compiled.parameters.map((value) => (value instanceof Slot ? args[value.index] : value));
    return db.executeQuery<Row>({ ...compiled, parameters });
  };
}

function compileWithSlots<Row>(
  db: Kysely<Database>,
  build: (db: Kysely<Database>, arg: Arg) => Compilable<Row>,
  argumentCount: number,
): CompiledQuery<Row> {
  const query = build(db, (index) => new Slot(index) as never).compile();
  const used = new Set(query.parameters.flatMap((value) => (value instanceof Slot ? [value.index] : [])));
  for (let index = 0; index < argumentCount; index++)
    if (!used.has(index)) throw new TypeError(`argument ${index} has no place in: ${query.sql}`);
  for (const index of used)
    if (index >= argumentCount) throw new TypeError(`argument ${index} is not given to: ${query.sql}`);
  return query;
}
