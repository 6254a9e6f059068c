import { randomBytes } from 'node:crypto';
import type { Dialect } from '../../src/db/create-database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

/**
 * A fixed instant past 2^32 ms (2026-01-15T12:00:00Z), so every timestamp in the suite needs a
 * BIGINT column and a driver that reads it back as a JS number.
 */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

export const MINUTE_MS = 60_000;

/** A fresh, uniquely named database with every migration applied; `drop()` removes it. */
export async function createMigratedDatabase(dialect: Dialect): Promise<TestDatabase> {
  const database = await createTestDatabase(dialect);
  try {
    await migrateToLatest(database.handle);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}

/** A random suffix made of digits only, so changing the case of a name never changes it. */
export function digits(length = 8): string {
  return Array.from(randomBytes(length), (byte) => String(byte % 10)).join('');
}

/** The `count` spellings of `text` that differ only in letter case (bit i of n upper-cases letter i). */
export function caseVariants(text: string, count: number): string[] {
  const letters = [...text].filter((c) => /[a-z]/i.test(c)).length;
  if (2 ** letters < count) throw new TypeError(`"${text}" has too few letters for ${count} case variants.`);
  return Array.from({ length: count }, (_, n) => {
    let letter = 0;
    return [...text.toLowerCase()]
      .map((c) => {
        if (!/[a-z]/.test(c)) return c;
        const upper = (n >> letter) & 1;
        letter += 1;
        return upper ? c.toUpperCase() : c;
      })
      .join('');
  });
}

/** A 64-character hex string, shaped like the SHA-256 refresh-token hashes the service stores. */
export function tokenHash(): string {
  return randomBytes(32).toString('hex');
}
