import type { Kysely, Migration } from 'kysely';
import { uniqueViolation } from '../errors.js';

// Frozen: never edit a migration that has shipped; add a new one.
// Its own copy of the rule (not an import from accounts/email-address.ts): a migration must keep
// doing what it did when it shipped, even if the application's rule changes later.
const canonical = (email: string): string => email.normalize('NFKC').trim().toLowerCase();

export function emailNfkc(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // email_normalized was trim().toLowerCase(); it becomes NFKC + trim + lower-case (RFC 8265
      // §3.3 preparation; see accounts/email-address.ts). Only addresses NFKC changes move (never
      // an ASCII one). An address whose new form another account already holds keeps its old
      // form: two accounts are never merged, and the unique index stays valid.
      const rows: Array<{ id: number; email: string; email_normalized: string | null }> = await db
        .selectFrom('users')
        .select(['id', 'email', 'email_normalized'])
        .where('email', 'is not', null)
        .execute();
      const taken = new Set(rows.map((row) => row.email_normalized));
      for (const row of rows) {
        const next = canonical(row.email);
        if (next === row.email_normalized || taken.has(next)) continue;
        try {
          await db.updateTable('users').set({ email_normalized: next }).where('id', '=', row.id).execute();
          taken.add(next);
        } catch (error) {
          // MariaDB's case- and accent-insensitive collation may call two different strings equal:
          // the row keeps its old form there too. (PostgreSQL and SQLite compare exactly, so the
          // `taken` check above already prevents this; MariaDB runs migrations outside a transaction.)
          if (uniqueViolation(error) === null) throw error;
        }
      }
    },
    async down(): Promise<void> {
      // The NFKC form is a valid value for the old rule's column too: nothing to undo.
    },
  };
}
