import { randomBytes } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import { createDatabase } from '../src/db/create-database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database, ProductsTable, UsersTable } from '../src/db/schema.js';
import { seal } from '../src/lib/crypto.js';
import { createArgon2Hasher, type Argon2Params } from '../src/lib/password-hasher.js';
import { countProducts } from '../src/modules/products/products.repository.js';
import { totpSecretAad } from '../src/modules/two-factor/two-factor.service.js';

export const BENCH_PASSWORD = 'bench-password-violet-anchor-42';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CHUNK = 1000;

export interface SeedOptions {
  databaseUrl: string;
  encryptionKey: Buffer;
  argon2: Argon2Params;
  /** Users with a password only (`bench_user_<n>`). */
  users: number;
  /** Users with an enabled authenticator (`bench_totp_<n>`), for the two-factor scenario. */
  totpUsers: number;
  products: number;
}

export interface Seeded {
  usernames: string[];
  totpUsers: Array<{ username: string; secret: string }>;
  seconds: number;
}

function base32Secret(): string {
  return Array.from(randomBytes(20), (b) => BASE32[b % 32]).join('');
}

/** Enables an authenticator for each named (existing) user; returns their secrets. */
async function enableTotp(
  db: Kysely<Database>,
  encryptionKey: Buffer,
  names: string[],
  now: number,
): Promise<Seeded['totpUsers']> {
  const totpUsers: Seeded['totpUsers'] = [];
  for (let i = 0; i < names.length; i += CHUNK) {
    const chunk = names.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username_normalized', 'in', chunk)
      .execute();
    const factors = rows.map((row) => {
      const secret = base32Secret();
      totpUsers.push({ username: row.username, secret });
      return {
        user_id: row.id,
        secret_sealed: seal(encryptionKey, secret, totpSecretAad(row.id)),
        confirmed_at: now,
        last_used_step: null,
        created_at: now,
      };
    });
    if (factors.length > 0) await db.insertInto('totp_factors').values(factors).execute();
  }
  return totpUsers;
}

/**
 * Adds `count` more TOTP users (`bench_totp_<from+1>` …) to a seeded database, while the server
 * runs on it: the two-factor scenario sizes its pool from the measured login rate.
 */
export async function addTotpUsers(options: {
  databaseUrl: string;
  encryptionKey: Buffer;
  argon2: Argon2Params;
  from: number;
  count: number;
}): Promise<Seeded['totpUsers']> {
  const database = createDatabase(options.databaseUrl);
  try {
    const { db } = database;
    const passwordHash = await createArgon2Hasher(options.argon2).hash(BENCH_PASSWORD);
    const now = Date.now();
    const names = Array.from({ length: options.count }, (_, i) => `bench_totp_${options.from + i + 1}`);
    await db.transaction().execute(async (trx) => {
      for (let j = 0; j < names.length; j += CHUNK) {
        const rows = names.slice(j, j + CHUNK).map((username) => ({
          username,
          username_normalized: username,
          email: null,
          email_normalized: null,
          email_verified: 0,
          password_hash: passwordHash,
          role: 'user',
          created_at: now,
          updated_at: now,
        }));
        await trx.insertInto('users').values(rows).execute();
      }
    });
    return await enableTotp(db, options.encryptionKey, names, now);
  } finally {
    await database.close();
  }
}

/**
 * Seeds a migrated database with bulk inserts (not through the API): a million rows take
 * seconds. Every user has a real argon2id hash of BENCH_PASSWORD at the configured parameters
 * (one hash shared by all, so seeding does not spend minutes hashing; verifying costs the same).
 */
export async function seedDatabase(options: SeedOptions): Promise<Seeded> {
  const started = performance.now();
  const database = createDatabase(options.databaseUrl);
  try {
    await migrateToLatest(database);
    const { db } = database;
    const passwordHash = await createArgon2Hasher(options.argon2).hash(BENCH_PASSWORD);
    const now = Date.now();
    const usernames = Array.from({ length: options.users }, (_, i) => `bench_user_${i + 1}`);
    const totpNames = Array.from({ length: options.totpUsers }, (_, i) => `bench_totp_${i + 1}`);
    const user = (username: string): Insertable<UsersTable> => ({
      username,
      username_normalized: username,
      email: null,
      email_normalized: null,
      email_verified: 0,
      password_hash: passwordHash,
      role: 'user',
      created_at: now,
      updated_at: now,
    });
    const all = [...usernames, ...totpNames];
    for (let i = 0; i < all.length; i += CHUNK * 50) {
      await db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(i + CHUNK * 50, all.length); j += CHUNK)
          await trx
            .insertInto('users')
            .values(all.slice(j, j + CHUNK).map(user))
            .execute();
      });
    }
    const totpUsers = await enableTotp(db, options.encryptionKey, totpNames, now);
    const product = (i: number): Insertable<ProductsTable> => ({
      name: `Product ${i}`,
      description: `Seeded product number ${i}`,
      price_cents: i * 100 + 99,
      quantity: i % 100,
      created_by: null,
      created_at: now,
      updated_at: now,
    });
    for (let i = 0; i < options.products; i += CHUNK * 50) {
      await db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(i + CHUNK * 50, options.products); j += CHUNK) {
          const count = Math.min(CHUNK, options.products - j);
          await trx
            .insertInto('products')
            .values(Array.from({ length: count }, (_, k) => product(j + k + 1)))
            .execute();
          await countProducts(trx, count);
        }
      });
    }
    return { usernames, totpUsers, seconds: (performance.now() - started) / 1000 };
  } finally {
    await database.close();
  }
}
