import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hash as argon2Hash } from '@node-rs/argon2';
import SQLite from 'better-sqlite3';
import bcrypt from 'bcryptjs';
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../src/db/create-database.js';
import { createTestDatabase } from './databases.js';
import { werkzeugHashes } from './legacy-hashes.js';

/**
 * Databases of the original apps, built with the drivers and the DDL their SQLAlchemy models
 * produced, and seeded with users whose hashes Python's hashlib made in Werkzeug's formats, for
 * `twofold import` to read. On PostgreSQL and MariaDB they are test databases of
 * test/support/databases.ts (unique names, dropped after); on SQLite a file, as the CLI needs one.
 */
export type Row = Record<string, string | number | null>;

export interface LegacyDatabase {
  dialect: Dialect;
  /** What `twofold import --from` takes. */
  from: string;
  run(statement: string): Promise<void>;
  insert(table: string, rows: Row[]): Promise<void>;
  /** Closes the connection and removes the database (SQLite: its directory). */
  drop(): Promise<void>;
}

/** An identifier quoted for the DDL the seeders write (`user` is reserved on PostgreSQL). */
function quote(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

export async function createLegacyDatabase(dialect: Dialect): Promise<LegacyDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'twofold-legacy-'));
    const file = path.join(dir, 'legacy.db');
    const db = new SQLite(file);
    return {
      dialect,
      from: `sqlite:${file}`,
      run: async (statement) => void db.exec(statement),
      insert: async (table, rows) => {
        for (const row of rows) {
          const columns = Object.keys(row);
          db.prepare(
            `insert into ${quote(dialect, table)} (${columns.map((c) => quote(dialect, c)).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
          ).run(...Object.values(row));
        }
      },
      drop: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // PostgreSQL and MariaDB: a uniquely named database on the test servers, like every suite's.
  const database = await createTestDatabase(dialect);
  const db = database.handle.db as unknown as Kysely<Record<string, Row>>;
  return {
    dialect,
    from: database.url,
    run: async (statement) => void (await sql.raw(statement).execute(db)),
    insert: async (table, rows) => void (await db.insertInto(table).values(rows).execute()),
    drop: () => database.drop(),
  };
}

/** Base32 TOTP secrets as the apps stored them: RFC 6238's test key, a pyotp-era 80-bit one, and two more. */
export const TOTP_SECRETS = {
  tina: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  omar: 'JBSWY3DPEHPK3PXP',
  ursula: 'KRUGS4ZANFZSA5LSON2WYYJAONSWG4TF',
  ari: 'MFZGSIDIMFZSAYLOEBQXK5DIMVXHI2LD',
} as const;

/**
 * The products API's users: Werkzeug pbkdf2 with few rounds, except Werkzeug's real default for paul and scrypt for
 * sam.
 */
export const PRODUCTS_API_USERS = {
  alice: { id: 1, method: 'pbkdf2:sha256:1000', password: 'alice from the legacy app', secret: null },
  paul: { id: 2, method: 'pbkdf2:sha256:600000', password: 'paul kept the default rounds', secret: null },
  sam: { id: 3, method: 'scrypt:32768:8:1', password: 'sam went with scrypt', secret: null },
  tina: { id: 4, method: 'pbkdf2:sha256:1000', password: 'tina has an authenticator', secret: TOTP_SECRETS.tina },
  omar: { id: 5, method: 'pbkdf2:sha256:1000', password: 'omar signs in at once', secret: TOTP_SECRETS.omar },
} as const;
export type ProductsApiName = keyof typeof PRODUCTS_API_USERS;
/** carol (user id 6): an md5-crypt hash, no scheme Twofold reads. */
export const UNREADABLE_HASH = '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/';

let productsApiHashes: Record<ProductsApiName, string> | undefined;

/** Hashed once per test file: 600000 pbkdf2 rounds take a while. */
function hashProductsApiUsers(): Record<ProductsApiName, string> {
  if (productsApiHashes) return productsApiHashes;
  const names = Object.keys(PRODUCTS_API_USERS) as ProductsApiName[];
  const hashes = werkzeugHashes(
    names.map((name) => ({ method: PRODUCTS_API_USERS[name].method, password: PRODUCTS_API_USERS[name].password })),
  );
  productsApiHashes = Object.fromEntries(names.map((name, i) => [name, hashes[i]])) as Record<ProductsApiName, string>;
  return productsApiHashes;
}

/**
 * Products with DECIMAL(10,2) prices: five Twofold can hold exactly, a negative one, and on SQLite
 * (which keeps whatever it is given; PostgreSQL and MariaDB round to the scale) one of 1.005.
 */
function legacyProducts(dialect: Dialect): Row[] {
  const products = [
    { id: 1, name: 'Widget', description: 'A widget', price: '19.99', quantity: 5 },
    { id: 2, name: 'Dime', description: 'Ten cents', price: '0.10', quantity: 100 },
    { id: 3, name: 'Big ticket', description: '', price: '1234567.89', quantity: 1 },
    { id: 4, name: 'Penny sweet', description: 'Seven cents', price: '0.07', quantity: 0 },
    { id: 6, name: 'Refund', description: 'A negative price', price: '-3.50', quantity: 1 },
    { id: 7, name: 'Fiver', description: 'A whole amount', price: '5.00', quantity: 2 },
  ];
  return dialect === 'sqlite'
    ? [...products, { id: 5, name: 'Half cent', description: '', price: '1.005', quantity: 1 }]
    : products;
}

/**
 * The products API (Flask, JWT, pyotp): `user` with a TOTP secret, `product` with a DECIMAL(10,2) price. Returns the
 * users' hashes.
 */
export async function seedProductsApi(db: LegacyDatabase): Promise<Record<ProductsApiName, string>> {
  const q = (name: string): string => quote(db.dialect, name);
  await db.run(
    `create table ${q('user')} (id integer not null, username varchar(80) not null, password varchar(256) not null, twofa_secret varchar(32), primary key (id), unique (username))`,
  );
  await db.run(
    `create table ${q('product')} (id integer not null, name varchar(100) not null, description varchar(255), price decimal(10, 2) not null, quantity integer not null, primary key (id))`,
  );
  const hashes = hashProductsApiUsers();
  const users = (Object.keys(PRODUCTS_API_USERS) as ProductsApiName[]).map((name) => {
    const { id, secret } = PRODUCTS_API_USERS[name];
    return { id, username: name, password: hashes[name], twofa_secret: secret };
  });
  await db.insert('user', [...users, { id: 6, username: 'carol', password: UNREADABLE_HASH, twofa_secret: null }]);
  await db.insert('product', legacyProducts(db.dialect));
  return hashes;
}

function pbkdf2Hashes<K extends string>(passwords: Record<K, string>): Record<K, string> {
  const names = Object.keys(passwords) as K[];
  const hashes = werkzeugHashes(names.map((name) => ({ method: 'pbkdf2:sha256:1000', password: passwords[name] })));
  return Object.fromEntries(names.map((name, i) => [name, hashes[i]])) as Record<K, string>;
}

export const ROLE_BASED_PASSWORDS = {
  root: 'root of the role app',
  ursula: 'ursula uses an app',
  otto: 'otto moderates',
  nadia: 'nadia lost her secret',
};

/**
 * The role-based app: `user` with email, role and an mfa_enabled flag beside the TOTP secret.
 * root is an admin; ursula has 2FA; otto has a role Twofold lacks and a secret left from 2FA he
 * turned off; nadia (user id 4) has 2FA on but no secret.
 */
export async function seedRoleBasedApp(db: LegacyDatabase): Promise<void> {
  const q = (name: string): string => quote(db.dialect, name);
  await db.run(
    `create table ${q('user')} (id integer not null, username varchar(80) not null, email varchar(120) not null, password varchar(256) not null, ` +
      `role varchar(20) not null, mfa_enabled boolean not null, totp_secret varchar(32), primary key (id), unique (username), unique (email))`,
  );
  const hash = pbkdf2Hashes(ROLE_BASED_PASSWORDS);
  // mfa_enabled as 0/1, how SQLite and MariaDB keep a BOOLEAN.
  await db.insert('user', [
    {
      id: 1,
      username: 'root',
      email: 'root@example.com',
      password: hash.root,
      role: 'admin',
      mfa_enabled: 0,
      totp_secret: null,
    },
    {
      id: 2,
      username: 'ursula',
      email: 'ursula@example.com',
      password: hash.ursula,
      role: 'user',
      mfa_enabled: 1,
      totp_secret: TOTP_SECRETS.ursula,
    },
    {
      id: 3,
      username: 'otto',
      email: 'otto@example.com',
      password: hash.otto,
      role: 'moderator',
      mfa_enabled: 0,
      totp_secret: TOTP_SECRETS.omar,
    },
    {
      id: 4,
      username: 'nadia',
      email: 'nadia@example.com',
      password: hash.nadia,
      role: 'user',
      mfa_enabled: 1,
      totp_secret: null,
    },
  ]);
}

export const EMAIL_CODE_PASSWORDS = { erin: 'erin gets codes by mail', fred: 'fred has no address' };
/** The codes waiting in the email-code app's two_factor_auth table. */
export const PENDING_CODES = ['123456', '654321'];

/**
 * The email-code app: `user` (erin with an address, fred without) and `two_factor_auth`, erin's emailed codes waiting
 * to be typed in.
 */
export async function seedEmailCodeApp(db: LegacyDatabase): Promise<void> {
  const q = (name: string): string => quote(db.dialect, name);
  await db.run(
    `create table ${q('user')} (id integer not null, username varchar(80) not null, email varchar(120), password varchar(256) not null, primary key (id), unique (username))`,
  );
  await db.run(
    `create table ${q('two_factor_auth')} (id integer not null, user_id integer not null, code varchar(6) not null, expires_at timestamp not null, primary key (id), foreign key (user_id) references ${q('user')} (id))`,
  );
  const hash = pbkdf2Hashes(EMAIL_CODE_PASSWORDS);
  await db.insert('user', [
    { id: 1, username: 'erin', email: 'erin@example.com', password: hash.erin },
    { id: 2, username: 'fred', email: null, password: hash.fred },
  ]);
  await db.insert(
    'two_factor_auth',
    PENDING_CODES.map((code, i) => ({ id: i + 1, user_id: 1, code, expires_at: `2026-01-15 12:0${5 + i}:00` })),
  );
}

/**
 * The email-code app as its README sets it up: one table, `two_factor_auth`, codes by address
 * (a used one, a pending one, an expired one) and no accounts at all.
 */
export async function seedEmailCodeOnlyApp(db: LegacyDatabase): Promise<void> {
  const q = (name: string): string => quote(db.dialect, name);
  await db.run(
    `create table ${q('two_factor_auth')} (id integer not null, email varchar(255) not null, code varchar(6) not null, expiration_time datetime not null, ` +
      `used boolean default false, created_at timestamp default current_timestamp, primary key (id))`,
  );
  await db.insert('two_factor_auth', [
    { id: 1, email: 'gina@example.com', code: '111111', expiration_time: '2026-01-15 12:05:00', used: 1 },
    { id: 2, email: 'gina@example.com', code: '222222', expiration_time: '2026-01-15 12:15:00', used: 0 },
    { id: 3, email: 'hugo@example.com', code: '333333', expiration_time: '2025-12-01 09:00:00', used: 0 },
  ]);
}

export const JSONL_PASSWORDS = {
  bea: 'bea hashed with bcrypt',
  yann: 'yann came from php',
  ari: 'ari has argon2 already',
  nobody: 'nobody has a name',
};

/**
 * A JSON Lines export of users from some other app: bcrypt $2b$ (bea, with email and creation
 * date) and $2y$ (yann, admin), a line that is not JSON (3), a user without a username (4), and
 * an argon2id hash at other parameters than Twofold's with a TOTP secret (ari, line 5).
 */
export async function jsonlExport(): Promise<string[]> {
  // PHP's password_hash writes $2y$: the same algorithm as $2b$ under another name.
  const bcrypt2b = bcrypt.hashSync(JSONL_PASSWORDS.yann, 4);
  if (!bcrypt2b.startsWith('$2b$')) throw new Error(`bcryptjs wrote ${bcrypt2b.slice(0, 4)}, not $2b$`);
  const bcrypt2y = `$2y$${bcrypt2b.slice(4)}`;
  // @node-rs/argon2's Algorithm is an ambient const enum; Argon2id is 2.
  const argon2id = await argon2Hash(JSONL_PASSWORDS.ari, {
    algorithm: 2,
    memoryCost: 256,
    timeCost: 2,
    parallelism: 1,
  });
  return [
    JSON.stringify({
      username: 'bea',
      email: 'bea@example.com',
      password_hash: bcrypt.hashSync(JSONL_PASSWORDS.bea, 4),
      email_verified: true,
      created_at: '2023-05-01T10:00:00Z',
    }),
    JSON.stringify({ username: 'yann', password_hash: bcrypt2y, role: 'admin' }),
    '{"username": "broken", "password_hash": ',
    JSON.stringify({ email: 'nobody@example.com', password_hash: bcrypt.hashSync(JSONL_PASSWORDS.nobody, 4) }),
    JSON.stringify({ username: 'ari', password_hash: argon2id, totp_secret: TOTP_SECRETS.ari }),
  ];
}
