import { accessSync, constants, statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { createPool as createMysqlPool } from 'mysql2';
import pg from 'pg';
import { redactUrl } from '../../db/create-database.js';
import { AppError } from '../../lib/errors.js';
import type { ImportSource, SourceProduct, SourceUser } from './import-source.js';
import { detectLayout, type Layout, type Table, type UserColumns } from './sql-layout.js';

/** A legacy database, read-only from Twofold's side; untyped because its tables are only known at run time. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LegacyDb = Kysely<any>;
type Row = Record<string, unknown>;

/** `sqlite:PATH`, SQLAlchemy's `sqlite:///relative` and `sqlite:////absolute`, and `mysql+pymysql://` style URLs. */
export function legacyUrl(from: string): { dialect: 'sqlite' | 'postgres' | 'mysql'; target: string } | null {
  if (from.startsWith('sqlite:')) {
    let path = from.slice('sqlite:'.length);
    if (path.startsWith('///')) path = path.slice(3);
    else if (path.startsWith('//')) path = path.slice(2);
    return { dialect: 'sqlite', target: path };
  }
  const match = /^(postgres|postgresql|mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.exec(from);
  if (!match) return null;
  const scheme = (match[1] ?? '').toLowerCase();
  const rest = from.slice(match[0].length);
  return scheme.startsWith('postgres')
    ? { dialect: 'postgres', target: `postgres://${rest}` }
    : { dialect: 'mysql', target: `mysql://${rest}` };
}

function oneLine(error: unknown): string {
  const first = error instanceof AggregateError && error.errors.length > 0 ? (error.errors[0] as unknown) : error;
  const e = (first ?? {}) as { code?: unknown; message?: unknown; address?: unknown; port?: unknown };
  if (e.code === 'ECONNREFUSED')
    return `connection refused${e.address ? ` at ${String(e.address)}:${String(e.port)}` : ''}`;
  if (e.code === 'ENOTFOUND') return 'host not found';
  if (e.code === 'ETIMEDOUT') return 'connection timed out';
  const message = typeof e.message === 'string' && e.message ? e.message : String(first);
  return message.replace(/\s+/g, ' ').trim();
}

function openLegacy(from: string): { db: LegacyDb; dialect: 'sqlite' | 'postgres' | 'mysql'; display: string } {
  const url = legacyUrl(from);
  if (!url)
    throw new AppError('validation_failed', {
      message: `Unknown source "${redactUrl(from)}": use sqlite:PATH, mysql://…, postgres://… or a .jsonl file (- for standard input).`,
    });
  if (url.dialect === 'sqlite') {
    const file = url.target;
    const display = `sqlite:${file}`;
    try {
      if (!file) throw new Error('no file name');
      if (statSync(file).isDirectory()) throw new Error('is a directory');
      accessSync(file, constants.R_OK);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : oneLine(error);
      throw new AppError('not_found', { message: `Cannot read the source ${display}: ${why}.` });
    }
    const database = new SQLite(file, { readonly: true, fileMustExist: true });
    return { db: new Kysely({ dialect: new SqliteDialect({ database }) }), dialect: 'sqlite', display };
  }
  const display = redactUrl(url.target);
  if (url.dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: url.target, max: 2, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    return { db: new Kysely({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', display };
  }
  const pool = createMysqlPool({ uri: url.target, connectionLimit: 2, connectTimeout: 10_000, charset: 'utf8mb4' });
  return { db: new Kysely({ dialect: new MysqlDialect({ pool }) }), dialect: 'mysql', display };
}

async function readTables(db: LegacyDb, dialect: string): Promise<Map<string, Table>> {
  const metadata = await db.introspection.getTables();
  const tables = new Map<string, Table>();
  for (const table of metadata) {
    if (dialect === 'postgres' && table.schema !== 'public') continue;
    tables.set(table.name.toLowerCase(), {
      name: table.name,
      columns: new Map(table.columns.map((c) => [c.name.toLowerCase(), c.name])),
    });
  }
  return tables;
}

/** Rows in id order, `batchSize` at a time (keyset pagination: the source is never loaded whole). */
async function* rowsInBatches(
  db: LegacyDb,
  table: string,
  idColumn: string,
  columns: string[],
  batchSize: number,
): AsyncIterable<Row[]> {
  let last: unknown = undefined;
  for (;;) {
    let query = db.selectFrom(table).select(columns).orderBy(idColumn).limit(batchSize);
    if (last !== undefined) query = query.where(idColumn, '>', last);
    const rows = (await query.execute()) as Row[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    last = rows[rows.length - 1]?.[idColumn];
  }
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true' || value === 1n;
}

function defined(values: Array<string | undefined>): string[] {
  return values.filter((v): v is string => v !== undefined);
}

function toUser(kind: Layout['kind'], c: UserColumns, row: Row): SourceUser {
  const secret = c.secret ? text(row[c.secret])?.trim() || null : null;
  // The products API had no on/off flag: a secret meant TOTP at every login. The others say so in a column.
  const mfaOn = c.mfaEnabled ? truthy(row[c.mfaEnabled]) : secret !== null;
  const email = c.email ? text(row[c.email])?.trim() || null : null;
  const emailCodes = kind === 'email-code app';
  return {
    ref: `user id ${String(row[c.id])}`,
    username: text(row[c.username]) ?? '',
    email,
    passwordHash: text(row[c.password]),
    totpSecret: mfaOn ? secret : null,
    role: c.role ? text(row[c.role]) : null,
    // The email-code app proved each address by mailing codes to it.
    emailVerified: emailCodes ? email !== null : c.emailVerified ? truthy(row[c.emailVerified]) : false,
    createdAt: c.createdAt ? row[c.createdAt] : null,
    emailFactor: emailCodes && email !== null,
    mfaWithoutSecret: mfaOn && secret === null && !emailCodes,
  };
}

function toProduct(layout: Layout, row: Row): SourceProduct {
  const c = (layout.products as NonNullable<Layout['products']>).columns;
  return {
    ref: `product id ${String(row[c.id])}`,
    legacyId: `product:${String(row[c.id])}`,
    name: text(row[c.name]),
    description: c.description ? text(row[c.description]) : null,
    price: row[c.price],
    quantity: c.quantity ? row[c.quantity] : 0,
  };
}

/** Opens an original app's database, recognises its layout, and reads it in batches. */
export async function openSqlSource(from: string): Promise<ImportSource> {
  const { db, dialect, display } = openLegacy(from);
  let layout: Layout;
  const notes: string[] = [];
  try {
    let tables: Map<string, Table>;
    try {
      tables = await readTables(db, dialect);
    } catch (error) {
      throw new AppError('service_unavailable', { message: `Cannot read the source ${display}: ${oneLine(error)}.` });
    }
    layout = detectLayout(tables);
    if (layout.pendingCodesTable) {
      const counted = await db
        .selectFrom(layout.pendingCodesTable)
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirst();
      const count = Number((counted as Row | undefined)?.n ?? 0);
      notes.push(
        layout.users
          ? `${layout.pendingCodesTable}: ${count} pending emailed codes were not imported (they expire within minutes; users get a new code at their next sign-in, sent by Twofold).`
          : `${layout.pendingCodesTable}: ${count} emailed codes were not imported (a code lives minutes: whoever needs one asks Twofold for a new one with POST /generate-2fa; for addresses without a Twofold account, set EMAIL_CODES_FOR_ANYONE=true).`,
      );
    }
    if (!layout.users)
      notes.push(
        `The source holds only the email-code app's table of codes (${layout.pendingCodesTable ?? 'two_factor_auth'}): no users and no products, so there is nothing else to import.`,
      );
    else if (!layout.products) notes.push('No product table with id, name and price: no products to import.');
    if (layout.users && layout.kind !== 'email-code app' && !layout.users.columns.secret)
      notes.push(`Table ${layout.users.table} has no TOTP secret column: no authenticators to carry.`);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const users = layout.users;
  return {
    kind: layout.kind,
    display,
    notes,
    async *users(batchSize) {
      if (!users) return;
      const c = users.columns;
      const columns = defined([
        c.id,
        c.username,
        c.password,
        c.email,
        c.secret,
        c.role,
        c.mfaEnabled,
        c.emailVerified,
        c.createdAt,
      ]);
      for await (const rows of rowsInBatches(db, users.table, c.id, columns, batchSize))
        yield rows.map((row) => toUser(layout.kind, c, row));
    },
    async *products(batchSize) {
      const products = layout.products;
      if (!products) return;
      const c = products.columns;
      const columns = defined([c.id, c.name, c.price, c.description, c.quantity]);
      for await (const rows of rowsInBatches(db, products.table, c.id, columns, batchSize))
        yield rows.map((row) => toProduct(layout, row));
    },
    close: () => db.destroy(),
  };
}
